/**
 * Following someone, optimistically: the button and the follower count change at once and go back,
 * with a toast, when the API refuses. What a toggle set holds until the profile brings other server
 * values (a reload after the change), as the likes do.
 */
import { create } from "zustand";
import { toast } from "@/lib/toast";
import { follow, unfollow } from "../api/profile";

export interface FollowState {
  following: boolean;
  followers: number;
}

interface Entry extends FollowState {
  /** The server's values the optimistic ones were computed from. */
  base: FollowState;
  pending: boolean;
}

export interface FollowsState {
  entries: Record<string, Entry>; // by username
  /** Follows or unfollows `username`, whose profile last said `server`; resolves once the API answered. */
  toggle: (username: string, server: FollowState) => Promise<void>;
}

/** What to show for `username`: its toggle's values while the profile still says what they came from. */
export function followView(entry: Entry | undefined, server: FollowState): FollowState & { pending: boolean } {
  if (entry && entry.base.following === server.following && entry.base.followers === server.followers) {
    return { following: entry.following, followers: entry.followers, pending: entry.pending };
  }
  return { ...server, pending: false };
}

export function createFollowsStore(requests = { follow, unfollow }) {
  return create<FollowsState>()((set, get) => ({
    entries: {},
    toggle: async (username, server) => {
      const before = followView(get().entries[username], server);
      if (before.pending) return; // one change at a time per person
      const next = !before.following;
      const write = (values: FollowState, pending: boolean) =>
        set((state) => ({ entries: { ...state.entries, [username]: { ...values, base: server, pending } } }));
      write({ following: next, followers: Math.max(0, before.followers + (next ? 1 : -1)) }, true);
      try {
        await (next ? requests.follow(username) : requests.unfollow(username));
        write(get().entries[username] ?? before, false);
      } catch (error) {
        write(before, false);
        toast.error(error, next ? `Could not follow ${username}` : `Could not unfollow ${username}`);
      }
    },
  }));
}

export const useFollows = createFollowsStore();
