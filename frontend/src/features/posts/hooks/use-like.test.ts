import { act, renderHook } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Me, Post } from "@/lib/api-types";
import { useSession } from "@/lib/session";
import { useToasts } from "@/lib/toast";
import { likePost } from "../api/posts";
import { useLike } from "./use-like";

vi.mock("../api/posts", () => ({ likePost: vi.fn(), unlikePost: vi.fn() }));

const author = { id: "9", username: "bob", display_name: "Bob", avatar_media_id: null, avatar_url: null };
const post: Post = {
  id: "7", author, caption: "", status: "published", mentions: [], hashtags: [], likes_count: 2, comments_count: 0,
  created_at: "2026-12-06T12:00:00Z", published_at: "2026-12-06T12:00:00Z", media: [], liked_by_me: false,
};

beforeEach(() => {
  useSession.setState({ user: { id: "1", username: "ada" } as Me });
  useToasts.setState({ toasts: [] });
  vi.mocked(likePost).mockReset();
});

describe("useLike", () => {
  it("likes at once and rolls back with a message when the API refuses", async () => {
    let refuse!: (error: unknown) => void;
    vi.mocked(likePost).mockReturnValueOnce(new Promise((_, reject) => (refuse = reject)));
    const { result } = renderHook(() => useLike(post));

    let done!: Promise<void>;
    act(() => {
      done = result.current.toggle();
    });
    expect(result.current).toMatchObject({ liked: true, count: 3 });
    await act(async () => {
      refuse(new Error("offline"));
      await done;
    });
    expect(result.current).toMatchObject({ liked: false, count: 2 });
    expect(useToasts.getState().toasts).toMatchObject([{ kind: "error", title: "Could not like the post", message: "offline" }]);
  });
});
