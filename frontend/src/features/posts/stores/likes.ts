/**
 * The viewer's likes and unlikes of this session, over what the API said (`liked_by_me`): a post
 * object fetched before a like still shows it as liked, and a failed request rolls back here.
 * In memory only: after a reload the API's answer is the truth again.
 */
import { create } from "zustand";

interface LikesState {
  liked: Record<string, Record<string, boolean>>; // user id -> post id -> liked
  set: (userId: string, postId: string, liked: boolean) => void;
}

export const useLikes = create<LikesState>()((set) => ({
  liked: {},
  set: (userId, postId, liked) =>
    set((state) => ({ liked: { ...state.liked, [userId]: { ...(state.liked[userId] ?? {}), [postId]: liked } } })),
}));
