/**
 * Live like and comment counts of the posts on screen, for everyone looking at them (not only their
 * author). A card watches its post while it is in view (one shared IntersectionObserver); the watches
 * reach the server as batched `{"action": "watch" | "unwatch", "post_ids": [...]}` messages on the
 * running LiveSocket, sent again after each reconnection (the server forgets a closed connection's);
 * `post-stats-updated` frames (the reply to a watch, then each change) land in `useLiveStats`, which
 * `useLivePost` lays over the post object.
 *
 * Which counts win: the live ones while they are newer than the post object's. A post object that
 * brings other counts (a refetch, a comment added here) wins until the next frame. Optimistic likes
 * (`useLike`) keep working: they hold until the post object's likes_count changes, and a frame is such
 * a change, carrying the server's count.
 */
import { useEffect, useMemo, useState } from "react";
import { create } from "zustand";
import { type LiveMessage, type LiveSocket, onActiveSocket } from "./live-socket";

/** The server's caps (kafkagram.watchers): posts per connection, ids per message. */
export const MAX_WATCHED_POSTS = 50;
/** A scroll's worth of posts entering and leaving the screen goes out as one message of each kind. */
const FLUSH_DELAY_MS = 150;

export interface PostStats {
  post_id: string;
  likes_count: number;
  comments_count: number;
}

export interface PostStatsUpdated {
  posts: PostStats[];
}

interface LiveCounts {
  likes_count: number;
  comments_count: number;
  seq: number; // the frame's place in arrival order
}

interface LiveStatsState {
  counts: Record<string, LiveCounts>;
  seq: number;
  apply: (posts: PostStats[]) => void;
  forget: (postIds: string[]) => void;
}

export const useLiveStats = create<LiveStatsState>()((set) => ({
  counts: {},
  seq: 0,
  apply: (posts) =>
    set((state) => {
      const seq = state.seq + 1;
      const counts = { ...state.counts };
      for (const { post_id: id, likes_count, comments_count } of posts) counts[id] = { likes_count, comments_count, seq };
      return { counts, seq };
    }),
  // Counts of a post nobody watches would go stale: kept only while watched.
  forget: (postIds) =>
    set((state) => {
      const counts = { ...state.counts };
      for (const id of postIds) delete counts[id];
      return { counts };
    }),
}));

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** What the server watches for this tab's connection, kept equal to the posts on screen. */
export class PostWatchClient {
  private wanted = new Map<string, number>(); // post id -> components showing it
  private sent = new Set<string>(); // what the server holds for the current connection
  private socket: LiveSocket | null = null;
  private offs: (() => void)[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private detach: (() => void) | null = null;

  constructor(private readonly flushDelayMs = FLUSH_DELAY_MS) {}

  acquire(postId: string): void {
    this.attach();
    this.wanted.set(postId, (this.wanted.get(postId) ?? 0) + 1);
    this.schedule();
  }

  release(postId: string): void {
    const left = (this.wanted.get(postId) ?? 0) - 1;
    if (left > 0) this.wanted.set(postId, left);
    else this.wanted.delete(postId);
    this.schedule();
  }

  /** The posts the server watches for this tab now (for tests). */
  get watching(): string[] {
    return [...this.sent];
  }

  /** Sends the difference between what is on screen and what the server watches. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    if (!socket?.isOpen) return; // the "open" listener flushes
    const gone = [...this.sent].filter((id) => !this.wanted.has(id));
    const room = MAX_WATCHED_POSTS - (this.sent.size - gone.length);
    const fresh = [...this.wanted.keys()].filter((id) => !this.sent.has(id)).slice(0, Math.max(0, room));
    for (const ids of chunks(gone, MAX_WATCHED_POSTS)) socket.send({ action: "unwatch", post_ids: ids });
    for (const ids of chunks(fresh, MAX_WATCHED_POSTS)) socket.send({ action: "watch", post_ids: ids });
    gone.forEach((id) => this.sent.delete(id));
    fresh.forEach((id) => this.sent.add(id));
    if (gone.length) useLiveStats.getState().forget(gone);
  }

  /** Stops following the running socket (tests). */
  reset(): void {
    this.detach?.();
    this.detach = null;
    this.use(null);
    this.wanted.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private attach(): void {
    if (!this.detach) this.detach = onActiveSocket((socket) => this.use(socket));
  }

  private use(socket: LiveSocket | null): void {
    this.offs.forEach((off) => off());
    this.offs = [];
    this.sent.clear();
    this.socket = socket;
    if (!socket) return;
    this.offs = [
      socket.on("open", () => {
        this.sent.clear(); // a new connection watches nothing yet
        this.flush();
      }),
      socket.on<PostStatsUpdated>("post-stats-updated", (message: LiveMessage<PostStatsUpdated>) => {
        const posts = (message.data?.posts ?? []).filter((p) => this.wanted.has(p.post_id));
        if (posts.length) useLiveStats.getState().apply(posts);
      }),
    ];
    this.flush();
  }

  private schedule(): void {
    if (!this.timer) this.timer = setTimeout(() => this.flush(), this.flushDelayMs);
  }
}

export const postWatches = new PostWatchClient();

// One observer for every watched card: a post is watched while any part of it is on screen.
const observed = new Map<Element, { postId: string; visible: boolean }>();
let observer: IntersectionObserver | null = null;

function visibility(entries: IntersectionObserverEntry[]): void {
  for (const entry of entries) {
    const state = observed.get(entry.target);
    if (!state || state.visible === entry.isIntersecting) continue;
    state.visible = entry.isIntersecting;
    if (state.visible) postWatches.acquire(state.postId);
    else postWatches.release(state.postId);
  }
}

/** Watches `postId` while `element` is on screen; returns the cleanup. */
export function watchWhileVisible(element: Element, postId: string): () => void {
  if (typeof IntersectionObserver === "undefined") {
    postWatches.acquire(postId); // no observer (old browsers, jsdom): watched while shown at all
    return () => postWatches.release(postId);
  }
  observer ??= new IntersectionObserver(visibility);
  const state = { postId, visible: false };
  observed.set(element, state);
  observer.observe(element);
  return () => {
    observer?.unobserve(element);
    observed.delete(element);
    if (state.visible) postWatches.release(postId);
  };
}

type Counted = { id: string; likes_count: number; comments_count: number };

/**
 * The post with its live counts, and the ref to put on the element that shows it:
 * `const [post, watchRef] = useLivePost(loaded); <article ref={watchRef}>`.
 */
export function useLivePost<P extends Counted>(post: P): [P, (element: Element | null) => void] {
  const [element, setElement] = useState<Element | null>(null);
  const live = useLiveStats((s) => s.counts[post.id]);
  // The post object's counts, and the last frame before they came: frames after it are newer.
  const [base, setBase] = useState({ id: post.id, likes: post.likes_count, comments: post.comments_count, seq: 0 });
  if (base.id !== post.id || base.likes !== post.likes_count || base.comments !== post.comments_count) {
    setBase({ id: post.id, likes: post.likes_count, comments: post.comments_count, seq: useLiveStats.getState().seq });
  }
  useEffect(() => (element ? watchWhileVisible(element, post.id) : undefined), [element, post.id]);
  const shown = useMemo(
    () => (live && live.seq > base.seq && (live.likes_count !== post.likes_count || live.comments_count !== post.comments_count)
      ? { ...post, likes_count: live.likes_count, comments_count: live.comments_count }
      : post),
    [post, live, base.seq],
  );
  return [shown, setElement];
}
