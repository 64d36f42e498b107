import { api } from "@/lib/api-client";
import type { Me, PostPage, PublicProfile, UpdateProfileRequest, UserPage } from "@/lib/api-types";

export function getProfile(username: string, signal?: AbortSignal): Promise<PublicProfile> {
  return api.get("/api/users/{username}", { path: { username }, signal });
}

export function getUserPosts(username: string, cursor: string | null, signal?: AbortSignal): Promise<PostPage> {
  return api.get("/api/users/{username}/posts", { path: { username }, query: { cursor, limit: 18 }, signal });
}

export async function follow(username: string): Promise<void> {
  await api.put("/api/users/{username}/follow", { path: { username } });
}

export async function unfollow(username: string): Promise<void> {
  await api.delete("/api/users/{username}/follow", { path: { username } });
}

export function listConnections(username: string, which: "followers" | "following", cursor: string | null,
  signal?: AbortSignal): Promise<UserPage> {
  return api.get(`/api/users/{username}/${which}`, { path: { username }, query: { cursor, limit: 20 }, signal });
}

export function updateMe(body: UpdateProfileRequest): Promise<Me> {
  return api.patch("/api/me", { body });
}
