import { api } from "./api-client";
import type { Post } from "./api-types";

/** One post; here because the feed, the post page and the upload (waiting for publication) all read it. */
export function getPost(postId: string, signal?: AbortSignal): Promise<Post> {
  return api.get("/api/posts/{post_id}", { path: { post_id: postId }, signal });
}
