import { act, renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LiveSocket } from "./live-socket";
import { MAX_WATCHED_POSTS, PostWatchClient, postWatches, useLivePost, useLiveStats } from "./live-stats";
import { FakeSocket } from "../test/fake-socket";

function started(): { live: LiveSocket; socket: FakeSocket } {
  const live = new LiveSocket({
    url: "ws://x/local", getToken: () => "t", random: () => 1, minDelayMs: 100, maxDelayMs: 1000,
    createSocket: (url) => new FakeSocket(url) as unknown as WebSocket,
  });
  live.start();
  return { live, socket: FakeSocket.all.at(-1)! };
}

function stats(postId: string, likes: number, comments = 0) {
  return { type: "post-stats-updated", version: 1, data: { posts: [{ post_id: postId, likes_count: likes, comments_count: comments }] } };
}

const post = (likes: number, comments = 0) => ({ id: "42", likes_count: likes, comments_count: comments, caption: "hi" });

let running: LiveSocket | null = null;

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
  useLiveStats.setState({ counts: {}, seq: 0 });
});
afterEach(() => {
  running?.stop();
  running = null;
  postWatches.reset();
  vi.useRealTimers();
});

describe("PostWatchClient", () => {
  it("batches what came on screen into one watch and what left into one unwatch", () => {
    const watches = new PostWatchClient(150);
    const { live, socket } = started();
    running = live;
    socket.open();
    ["1", "2", "3"].forEach((id) => watches.acquire(id));
    expect(socket.sentMessages()).toEqual([]);
    vi.advanceTimersByTime(150);
    expect(socket.sentMessages()).toEqual([{ action: "watch", post_ids: ["1", "2", "3"] }]);
    watches.release("2");
    watches.acquire("4");
    vi.advanceTimersByTime(150);
    expect(socket.sentMessages().slice(1)).toEqual([{ action: "unwatch", post_ids: ["2"] }, { action: "watch", post_ids: ["4"] }]);
    watches.reset();
  });

  it("keeps a post shown twice watched until both are gone, and never asks past the server's cap", () => {
    const watches = new PostWatchClient(0);
    const { live, socket } = started();
    running = live;
    socket.open();
    watches.acquire("1");
    watches.acquire("1");
    vi.advanceTimersByTime(0);
    watches.release("1");
    vi.advanceTimersByTime(0);
    expect(socket.sentMessages()).toEqual([{ action: "watch", post_ids: ["1"] }]);
    for (let i = 2; i <= MAX_WATCHED_POSTS + 5; i++) watches.acquire(String(i));
    vi.advanceTimersByTime(0);
    expect(watches.watching).toHaveLength(MAX_WATCHED_POSTS);
    watches.reset();
  });

  it("watches again after a reconnection, and keeps only frames of posts it watches", async () => {
    const watches = new PostWatchClient(0);
    const { live, socket } = started();
    running = live;
    watches.acquire("42");
    vi.advanceTimersByTime(0);
    expect(socket.sentMessages()).toEqual([]); // not open yet: the open listener sends it
    socket.open();
    expect(socket.sentMessages()).toEqual([{ action: "watch", post_ids: ["42"] }]);
    socket.push(stats("42", 7));
    socket.push(stats("99", 1));
    expect(useLiveStats.getState().counts).toEqual({ 42: { likes_count: 7, comments_count: 0, seq: 1 } });
    socket.close(); // dropped: the LiveSocket reconnects
    await vi.advanceTimersByTimeAsync(100);
    const again = FakeSocket.all.at(-1)!;
    again.open();
    expect(again.sentMessages()).toEqual([{ action: "watch", post_ids: ["42"] }]);
    watches.release("42");
    vi.advanceTimersByTime(0);
    expect(useLiveStats.getState().counts).toEqual({}); // not watched: its counts would go stale
    watches.reset();
  });
});

describe("useLivePost", () => {
  it("shows a frame's counts, then a newer post object's, then the next frame's", () => {
    const { result, rerender } = renderHook(({ p }) => useLivePost(p)[0], { initialProps: { p: post(1) } });
    expect(result.current.likes_count).toBe(1);
    act(() => useLiveStats.getState().apply([{ post_id: "42", likes_count: 5, comments_count: 2 }]));
    expect(result.current).toMatchObject({ likes_count: 5, comments_count: 2, caption: "hi" });
    rerender({ p: post(6, 3) }); // refetched after the frame: newer
    expect(result.current).toMatchObject({ likes_count: 6, comments_count: 3 });
    act(() => useLiveStats.getState().apply([{ post_id: "42", likes_count: 7, comments_count: 3 }]));
    expect(result.current.likes_count).toBe(7);
  });

  it("starts from counts that arrived while another card of the post was on screen", () => {
    act(() => useLiveStats.getState().apply([{ post_id: "42", likes_count: 9, comments_count: 0 }]));
    const { result } = renderHook(() => useLivePost(post(1))[0]);
    expect(result.current.likes_count).toBe(9);
  });
});
