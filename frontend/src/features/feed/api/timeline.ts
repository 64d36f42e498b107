import { api } from "@/lib/api-client";
import type { Post, PostPage } from "@/lib/api-types";

export const PAGE_SIZE = 10;

export type FeedOrder = "recent" | "ranked";

export async function getTimeline(cursor?: string | null, order: FeedOrder = "recent"): Promise<PostPage> {
  const params = { cursor: cursor ?? undefined, limit: PAGE_SIZE, order: order === "recent" ? undefined : order };
  return (await api.get<PostPage>("/api/timeline", { params })).data;
}

export async function getPostById(id: string): Promise<Post> {
  return (await api.get<Post>(`/api/posts/${id}`)).data;
}
