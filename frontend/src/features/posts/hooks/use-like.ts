import { useCallback, useRef, useState } from "react";
import type { Post } from "@/lib/api-types";
import { useSession } from "@/lib/session";
import { toast } from "@/lib/toast";
import { likePost, unlikePost } from "../api/posts";
import { useLikes } from "../stores/likes";

interface Override {
  base: number; // the server's likes_count the optimistic count was computed from
  count: number;
}

/**
 * Like state of one post with an optimistic update, rolled back (with a toast) when the API refuses.
 * The optimistic count holds until the post object brings another server count.
 */
export function useLike(post: Post) {
  const userId = useSession((s) => s.user?.id ?? "");
  const liked = useLikes((s) => s.liked[userId]?.[post.id]) ?? post.liked_by_me ?? false;
  const [override, setOverride] = useState<Override | null>(null);
  const inFlight = useRef(false);
  const count = override && override.base === post.likes_count ? override.count : post.likes_count;

  const toggle = useCallback(async () => {
    if (inFlight.current || !userId) return;
    inFlight.current = true;
    const next = !liked;
    const before = count;
    useLikes.getState().set(userId, post.id, next);
    setOverride({ base: post.likes_count, count: Math.max(0, before + (next ? 1 : -1)) });
    try {
      await (next ? likePost(post.id) : unlikePost(post.id));
    } catch (error) {
      useLikes.getState().set(userId, post.id, !next);
      setOverride({ base: post.likes_count, count: before });
      toast.error(error, next ? "Could not like the post" : "Could not remove the like");
    } finally {
      inFlight.current = false;
    }
  }, [post.id, post.likes_count, userId, count, liked]);

  return { liked, count, toggle };
}
