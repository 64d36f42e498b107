import { api } from "@/lib/api-client";
import type { Comment, CommentPage, Post } from "@/lib/api-types";

export async function getPost(id: string): Promise<Post> {
  return (await api.get<Post>(`/api/posts/${id}`)).data;
}

export async function deletePost(id: string): Promise<void> {
  await api.delete(`/api/posts/${id}`);
}

export async function likePost(id: string): Promise<void> {
  await api.put(`/api/posts/${id}/like`);
}

export async function unlikePost(id: string): Promise<void> {
  await api.delete(`/api/posts/${id}/like`);
}

export async function listComments(postId: string, cursor?: string | null): Promise<CommentPage> {
  return (await api.get<CommentPage>(`/api/posts/${postId}/comments`, { params: { cursor: cursor ?? undefined, limit: 20 } })).data;
}

export async function addComment(postId: string, body: string): Promise<Comment> {
  return (await api.post<Comment>(`/api/posts/${postId}/comments`, { body })).data;
}

export async function deleteComment(postId: string, commentId: string): Promise<void> {
  await api.delete(`/api/posts/${postId}/comments/${commentId}`);
}
