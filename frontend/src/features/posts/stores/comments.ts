/**
 * One post's comments: pages by cursor, and optimistic writes. A new comment shows at once, marked
 * pending, is replaced by the server's copy when the API accepts it and removed (with a toast) when
 * it refuses; a deleted one goes at once and comes back in its place if the delete fails.
 */
import { createStore } from "zustand";
import type { Comment, UserSummary } from "@/lib/api-types";
import { createCursorPager, type CursorPager, NO_PAGES, type CursorPages } from "@/lib/cursor-pages";
import { toast } from "@/lib/toast";
import { addComment, deleteComment, listComments } from "../api/posts";

/** A listed comment; `pending` until the API has stored it (its id is a local one meanwhile). */
export type ListedComment = Comment & { pending?: boolean };

export interface CommentsState extends CursorPages<ListedComment> {
  /** How this list's writes changed the post's comment count (optimistically too, and back on a rollback). */
  countChange: number;
  loadFirst: () => Promise<void>;
  loadMore: () => Promise<void>;
  /** Adds `body` by `author` at once; true once the API stored it, false when it refused (rolled back). */
  add: (body: string, author: UserSummary) => Promise<boolean>;
  remove: (comment: ListedComment) => Promise<void>;
  cancel: () => void;
}

export interface CommentRequests {
  list: typeof listComments;
  add: typeof addComment;
  remove: typeof deleteComment;
}

let pendingIds = 0;

export function createCommentsStore(postId: string, requests: CommentRequests = { list: listComments, add: addComment,
  remove: deleteComment }) {
  const written = new Set<string>(); // ids of the comments this list added (pending, then stored)
  const count = (by: number) => store.setState((state) => ({ countChange: state.countChange + by }));
  const store = createStore<CommentsState>()((set, get) => ({
    ...NO_PAGES,
    countChange: 0,
    loadFirst: () => pager.loadFirst(),
    loadMore: () => pager.loadMore(),
    add: async (body, author) => {
      const pending: ListedComment = {
        id: `pending-${++pendingIds}`, post_id: postId, body, created_at: new Date().toISOString(), pending: true,
        author: { id: author.id, username: author.username, display_name: author.display_name,
          avatar_media_id: author.avatar_media_id, avatar_url: author.avatar_url },
      };
      written.add(pending.id);
      set((state) => ({ items: [...state.items, pending] }));
      count(1);
      try {
        const saved = await requests.add(postId, body);
        written.add(saved.id);
        // In its place, unless a page loaded meanwhile already lists the server's copy.
        set((state) => ({ items: state.items.some((c) => c.id === saved.id)
          ? state.items.filter((c) => c.id !== pending.id)
          : state.items.map((c) => (c.id === pending.id ? saved : c)) }));
        return true;
      } catch (error) {
        set((state) => ({ items: state.items.filter((c) => c.id !== pending.id) }));
        count(-1);
        toast.error(error, "Could not add the comment");
        return false;
      }
    },
    remove: async (comment) => {
      if (comment.pending) return; // not stored yet: nothing to delete
      const at = get().items.findIndex((c) => c.id === comment.id);
      if (at < 0) return;
      set((state) => ({ items: state.items.filter((c) => c.id !== comment.id) }));
      count(-1);
      try {
        await requests.remove(postId, comment.id);
      } catch (error) {
        set((state) => {
          const items = [...state.items];
          items.splice(Math.min(at, items.length), 0, comment);
          return { items };
        });
        count(1);
        toast.error(error, "Could not delete the comment");
      }
    },
    cancel: () => pager.cancel(),
  }));
  const pager: CursorPager = createCursorPager<ListedComment>((cursor, signal) => requests.list(postId, cursor, signal), store.getState,
    store.setState, {
      // A comment added while the first page loaded stays after it (the page may have been read before).
      firstPage: (items) => [...items, ...store.getState().items.filter((c: ListedComment) =>
        written.has(c.id) && !items.some((listed) => listed.id === c.id))],
      onError: (error) => toast.error(error, "Could not load the comments"),
    });
  return store;
}
