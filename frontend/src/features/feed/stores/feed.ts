/**
 * The home feed: pages by cursor, posts announced over the WebSocket (`timeline-updated`) kept aside
 * until the reader asks for them (the "new posts" pill), removals applied at once.
 */
import { create } from "zustand";
import type { Post, PostPage } from "@/lib/api-types";
import { createCursorPager, type CursorPager, type CursorPages } from "@/lib/cursor-pages";
import { errorMessage } from "@/lib/errors";
import { getPost } from "@/lib/posts";
import { toast } from "@/lib/toast";
import { type FeedOrder, getTimeline } from "../api/timeline";

export interface FeedState extends Omit<CursorPages<Post>, "items"> {
  posts: Post[];
  /** Ids announced live and not shown yet. */
  incoming: string[];
  /** The reader's own posts published in this session: kept at the top even when the timeline
   * (which holds the people one follows) does not list them. */
  own: Post[];
  /** recent: newest first; ranked: the API's "top" order (likes and comments, decayed by age). */
  order: FeedOrder;
  setOrder: (order: FeedOrder) => Promise<void>;
  loadFirst: () => Promise<void>;
  loadMore: () => Promise<void>;
  announce: (action: "added" | "removed", postIds: string[]) => void;
  showIncoming: () => Promise<void>;
  prepend: (post: Post) => void;
  /** Reloads one listed post (its counts changed: a live like or comment notification). */
  refresh: (postId: string) => Promise<void>;
  reset: () => void;
}

function time(post: Post): number {
  return Date.parse(post.published_at ?? post.created_at) || 0;
}

/** The first page with the reader's own recent posts merged in, newest first. */
function withOwn(items: Post[], own: Post[]): Post[] {
  const listed = new Set(items.map((p) => p.id));
  const oldest = items.length ? Math.min(...items.map(time)) : -Infinity;
  const extra = own.filter((p) => !listed.has(p.id) && time(p) >= oldest);
  return extra.length ? [...items, ...extra].sort((a, b) => time(b) - time(a)) : items;
}

type Fetch = (cursor?: string | null, order?: FeedOrder) => Promise<PostPage>;

const EMPTY = {
  posts: [], cursor: null, status: "idle", loadingMore: false, error: null, incoming: [], own: [], order: "recent",
} satisfies Partial<FeedState>;

export function createFeedStore(fetchPage: Fetch = getTimeline, fetchPost: (id: string) => Promise<Post> = getPost) {
  const feed = create<FeedState>()((set, get) => ({
    ...EMPTY,
    setOrder: async (order) => {
      if (order === get().order) return;
      set({ order, posts: [], cursor: null, incoming: [] });
      await get().loadFirst();
    },
    loadFirst: async () => {
      await pager.loadFirst();
      if (get().status === "ready") set({ incoming: [] }); // the first page holds what was announced
    },
    loadMore: () => pager.loadMore(),
    announce: (action, postIds) =>
      set((state) => {
        if (action === "removed") {
          const gone = new Set(postIds);
          return {
            posts: state.posts.filter((p) => !gone.has(p.id)),
            incoming: state.incoming.filter((id) => !gone.has(id)),
            own: state.own.filter((p) => !gone.has(p.id)),
          };
        }
        const known = new Set([...state.posts.map((p) => p.id), ...state.incoming]);
        const fresh = postIds.filter((id) => !known.has(id));
        return fresh.length ? { incoming: [...state.incoming, ...fresh] } : {};
      }),
    showIncoming: async () => {
      if (get().order !== "recent") await get().setOrder("recent");
      try {
        const page = await fetchPage(null, "recent");
        set((state) => {
          const known = new Set(state.posts.map((p) => p.id));
          const fresh = page.items.filter((p) => !known.has(p.id));
          const updated = new Map(page.items.map((p) => [p.id, p]));
          return {
            posts: [...fresh, ...state.posts.map((p) => updated.get(p.id) ?? p)],
            incoming: [],
            cursor: state.status === "ready" ? state.cursor : page.next_cursor ?? null,
            status: "ready",
          };
        });
      } catch (error) {
        set({ error: errorMessage(error) });
        throw error;
      }
    },
    prepend: (post) =>
      set((state) => ({
        own: [post, ...state.own.filter((p) => p.id !== post.id)],
        posts: [post, ...state.posts.filter((p) => p.id !== post.id)],
        incoming: state.incoming.filter((id) => id !== post.id),
      })),
    refresh: async (postId) => {
      if (!get().posts.some((p) => p.id === postId)) return;
      const fresh = await fetchPost(postId);
      set((state) => ({ posts: state.posts.map((p) => (p.id === postId ? fresh : p)) }));
    },
    reset: () => {
      pager.cancel();
      set(EMPTY);
    },
  }));
  const pager: CursorPager = createCursorPager<Post>(
    (cursor) => fetchPage(cursor, feed.getState().order),
    () => ({ ...feed.getState(), items: feed.getState().posts }),
    ({ items, ...patch }) => feed.setState(items ? { ...patch, posts: items } : patch),
    {
      firstPage: (items) => (feed.getState().order === "recent" ? withOwn(items, feed.getState().own) : items),
      onError: (error, page) => {
        if (page === "more") toast.error(error, "Could not load more posts"); // a failed first page shows in the list
      },
    },
  );
  return feed;
}

export const useFeed = createFeedStore();
