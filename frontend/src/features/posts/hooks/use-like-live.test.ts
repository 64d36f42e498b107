import { act, renderHook } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Me, Post } from "@/lib/api-types";
import { useLiveStats } from "@/lib/live-stats";
import { useSession } from "@/lib/session";
import { likePost } from "../api/posts";
import { useLikes } from "../stores/likes";
import { useLike } from "./use-like";

vi.mock("../api/posts", () => ({ likePost: vi.fn(), unlikePost: vi.fn() }));

const author = { id: "9", username: "bob", display_name: "Bob", avatar_media_id: null, avatar_url: null };
const post: Post = {
  id: "7", author, caption: "", status: "published", mentions: [], hashtags: [], likes_count: 1, comments_count: 0,
  created_at: "2026-12-06T12:00:00Z", published_at: "2026-12-06T12:00:00Z", media: [], liked_by_me: false,
};

beforeEach(() => {
  useSession.setState({ user: { id: "1", username: "ada" } as Me });
  useLiveStats.setState({ counts: {}, seq: 0 });
  useLikes.setState({ liked: {} });
  vi.mocked(likePost).mockReset().mockResolvedValue(undefined);
});

describe("useLike with live counts", () => {
  it("gives way to a live count after the like, even one equal to the count it started from", async () => {
    const { result } = renderHook(() => useLike(post));
    await act(() => result.current.toggle());
    expect(result.current).toMatchObject({ liked: true, count: 2 });
    // Ada's like counted, and someone else's unlike too: the server says 1, which is the truth now.
    act(() => useLiveStats.getState().apply([{ post_id: "7", likes_count: 1, comments_count: 0 }]));
    expect(result.current).toMatchObject({ liked: true, count: 1 });
  });

  it("keeps the optimistic count while no newer count arrives", async () => {
    act(() => useLiveStats.getState().apply([{ post_id: "7", likes_count: 1, comments_count: 0 }]));
    const { result } = renderHook(() => useLike(post));
    await act(() => result.current.toggle());
    expect(result.current.count).toBe(2);
    act(() => useLiveStats.getState().apply([{ post_id: "8", likes_count: 5, comments_count: 0 }])); // another post
    expect(result.current.count).toBe(2);
  });
});
