import { api } from "@/lib/api-client";
import type { Comment, CommentPage, PostPage } from "@/lib/api-types";

export async function deletePost(id: string): Promise<void> {
  await api.delete("/api/posts/{post_id}", { path: { post_id: id } });
}

export async function likePost(id: string): Promise<void> {
  await api.put("/api/posts/{post_id}/like", { path: { post_id: id } });
}

export async function unlikePost(id: string): Promise<void> {
  await api.delete("/api/posts/{post_id}/like", { path: { post_id: id } });
}

export function listComments(postId: string, cursor: string | null, signal?: AbortSignal): Promise<CommentPage> {
  return api.get("/api/posts/{post_id}/comments", { path: { post_id: postId }, query: { cursor, limit: 20 }, signal });
}

export function addComment(postId: string, body: string): Promise<Comment> {
  return api.post("/api/posts/{post_id}/comments", { path: { post_id: postId }, body: { body } });
}

export async function deleteComment(postId: string, commentId: string): Promise<void> {
  await api.delete("/api/posts/{post_id}/comments/{comment_id}", { path: { post_id: postId, comment_id: commentId } });
}

export const TAG_PAGE_SIZE = 12;

export function listTagPosts(tag: string, cursor: string | null, signal?: AbortSignal): Promise<PostPage> {
  return api.get("/api/tags/{tag}/posts", { path: { tag }, query: { cursor, limit: TAG_PAGE_SIZE }, signal });
}
