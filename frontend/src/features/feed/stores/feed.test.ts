import { describe, expect, it, vi } from "vitest";
import type { Post, PostPage } from "@/lib/api-types";
import { createFeedStore } from "./feed";

function post(id: string, minutesAgo = 0, likes = 0): Post {
  const at = new Date(Date.UTC(2026, 10, 29, 12, 0) - minutesAgo * 60_000).toISOString();
  return {
    id, author: { id: "9", username: "bob", display_name: "Bob", avatar_media_id: null, avatar_url: null }, caption: `post ${id}`,
    status: "published", mentions: [], hashtags: [], likes_count: likes, comments_count: 0, created_at: at, published_at: at, media: [], liked_by_me: false,
  };
}

function pages(...list: PostPage[]) {
  const fetch = vi.fn<(cursor?: string | null, order?: string) => Promise<PostPage>>();
  for (const page of list) fetch.mockResolvedValueOnce(page);
  return fetch;
}

describe("feed store", () => {
  it("loads pages by cursor without duplicates", async () => {
    const fetch = pages({ items: [post("3", 1), post("2", 2)], next_cursor: "c1" }, { items: [post("2", 2), post("1", 3)], next_cursor: null });
    const feed = createFeedStore(fetch);
    await feed.getState().loadFirst();
    await feed.getState().loadMore();
    expect(feed.getState().posts.map((p) => p.id)).toEqual(["3", "2", "1"]);
    expect(fetch).toHaveBeenLastCalledWith("c1", "recent");
    await feed.getState().loadMore(); // no cursor left: no request
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it("keeps announced posts aside until asked, then shows them on top", async () => {
    const fetch = pages({ items: [post("2", 2)], next_cursor: null }, { items: [post("4", 0), post("3", 1), post("2", 2, 5)], next_cursor: null });
    const feed = createFeedStore(fetch);
    await feed.getState().loadFirst();
    feed.getState().announce("added", ["3"]);
    feed.getState().announce("added", ["4", "3", "2"]);
    expect(feed.getState().incoming).toEqual(["3", "4"]);
    expect(feed.getState().posts.map((p) => p.id)).toEqual(["2"]);
    await feed.getState().showIncoming();
    expect(feed.getState().posts.map((p) => p.id)).toEqual(["4", "3", "2"]);
    expect(feed.getState().posts[2]!.likes_count).toBe(5);
    expect(feed.getState().incoming).toEqual([]);
  });

  it("drops removed posts at once", async () => {
    const feed = createFeedStore(pages({ items: [post("2"), post("1")], next_cursor: null }));
    await feed.getState().loadFirst();
    feed.getState().announce("removed", ["2"]);
    expect(feed.getState().posts.map((p) => p.id)).toEqual(["1"]);
  });

  it("keeps the reader's own new post on top after a reload", async () => {
    const feed = createFeedStore(pages({ items: [post("1", 5)], next_cursor: null }));
    feed.getState().prepend(post("7", 0));
    await feed.getState().loadFirst();
    expect(feed.getState().posts.map((p) => p.id)).toEqual(["7", "1"]);
  });

  it("switches to the ranked order and back to recent for new posts", async () => {
    const fetch = pages(
      { items: [post("2", 1)], next_cursor: null },
      { items: [post("1", 5, 9), post("2", 1)], next_cursor: "r1" },
      { items: [post("3", 0), post("2", 1)], next_cursor: null },
    );
    const feed = createFeedStore(fetch);
    await feed.getState().loadFirst();
    await feed.getState().setOrder("ranked");
    expect(fetch).toHaveBeenLastCalledWith(null, "ranked");
    expect(feed.getState().posts.map((p) => p.id)).toEqual(["1", "2"]);
    feed.getState().announce("added", ["3"]);
    fetch.mockResolvedValueOnce({ items: [post("3", 0), post("2", 1)], next_cursor: null });
    await feed.getState().showIncoming();
    expect(feed.getState().order).toBe("recent");
    expect(feed.getState().posts.map((p) => p.id)).toEqual(["3", "2"]);
  });

  it("reloads one listed post when its counts change", async () => {
    const fetchPost = vi.fn(async (id: string) => post(id, 1, 3));
    const feed = createFeedStore(pages({ items: [post("2", 1)], next_cursor: null }), fetchPost);
    await feed.getState().loadFirst();
    await feed.getState().refresh("9"); // not listed: nothing to do
    await feed.getState().refresh("2");
    expect(fetchPost).toHaveBeenCalledTimes(1);
    expect(feed.getState().posts[0]!.likes_count).toBe(3);
  });

  it("reports a failed first load", async () => {
    const fetch = vi.fn<(cursor?: string | null) => Promise<PostPage>>().mockRejectedValue(new Error("offline"));
    const feed = createFeedStore(fetch);
    await feed.getState().loadFirst();
    expect(feed.getState()).toMatchObject({ status: "error", error: "offline" });
  });
});
