import { api } from "@/lib/api-client";
import type { components, PostPage } from "@/lib/api-types";

export type Suggestion = components["schemas"]["SuggestionOut"];
export type TrendingTag = components["schemas"]["TrendingTagOut"];

/** 24 posts: eight rows of the three-column grid. */
export const GRID_PAGE = 24;

export function getExplorePosts(cursor: string | null, signal?: AbortSignal): Promise<PostPage> {
  return api.get("/api/explore/posts", { query: { cursor, limit: GRID_PAGE }, signal });
}

export async function getSuggestions(signal?: AbortSignal): Promise<Suggestion[]> {
  return (await api.get("/api/explore/people", { query: { limit: 6 }, signal })).items;
}

export async function getTrendingTags(signal?: AbortSignal): Promise<TrendingTag[]> {
  return (await api.get("/api/explore/tags", { query: { limit: 20 }, signal })).items;
}

export async function follow(username: string): Promise<void> {
  await api.put("/api/users/{username}/follow", { path: { username } });
}

export async function unfollow(username: string): Promise<void> {
  await api.delete("/api/users/{username}/follow", { path: { username } });
}
