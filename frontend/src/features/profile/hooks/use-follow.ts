import type { PublicProfile } from "@/lib/api-types";
import { followView, useFollows } from "../stores/follows";

/** Whether the caller follows `profile` (null while it loads) and its follower count, with the optimistic toggle. */
export function useFollow(profile: PublicProfile | null) {
  const username = profile?.username ?? "";
  const entry = useFollows((s) => s.entries[username]);
  const server = { following: profile?.is_following ?? false, followers: profile?.followers_count ?? 0 };
  const toggle = () => (profile ? useFollows.getState().toggle(username, server) : Promise.resolve());
  return { ...followView(entry, server), toggle };
}
