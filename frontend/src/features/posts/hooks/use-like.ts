import { useCallback, useRef, useState } from "react";
import type { Post } from "@/lib/api-types";
import { useLiveStats } from "@/lib/live-stats";
import { useSession } from "@/lib/session";
import { toast } from "@/lib/toast";
import { likePost, unlikePost } from "../api/posts";
import { useLikes } from "../stores/likes";

interface Override {
  base: number; // the server's likes_count the optimistic count was computed from
  count: number;
  seq: number; // the post's last live update then (src/lib/live-stats): any later one is a newer server count
}

/**
 * Like state of one post with an optimistic update, rolled back (with a toast) when the API refuses.
 * The optimistic count holds until a newer server count: the post object brings another count, or a live
 * update of the post arrives (even one equal to the old count: someone else unliked meanwhile).
 */
export function useLike(post: Post) {
  const userId = useSession((s) => s.user?.id ?? "");
  const liked = useLikes((s) => s.liked[userId]?.[post.id]) ?? post.liked_by_me ?? false;
  const [override, setOverride] = useState<Override | null>(null);
  const inFlight = useRef(false);
  const liveSeq = useLiveStats((s) => s.counts[post.id]?.seq ?? 0);
  const current = override && override.base === post.likes_count && liveSeq <= override.seq ? override : null;
  if (override && !current) setOverride(null); // newer for good: a later count back at `base` must not revive it
  const count = current ? current.count : post.likes_count;

  const toggle = useCallback(async () => {
    if (inFlight.current || !userId) return;
    inFlight.current = true;
    const next = !liked;
    const before = count;
    useLikes.getState().set(userId, post.id, next);
    const seq = () => useLiveStats.getState().counts[post.id]?.seq ?? 0;
    setOverride({ base: post.likes_count, count: Math.max(0, before + (next ? 1 : -1)), seq: seq() });
    try {
      await (next ? likePost(post.id) : unlikePost(post.id));
    } catch (error) {
      useLikes.getState().set(userId, post.id, !next);
      setOverride({ base: post.likes_count, count: before, seq: seq() });
      toast.error(error, next ? "Could not like the post" : "Could not remove the like");
    } finally {
      inFlight.current = false;
    }
  }, [post.id, post.likes_count, userId, count, liked]);

  return { liked, count, toggle };
}
