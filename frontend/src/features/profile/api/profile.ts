import { api } from "@/lib/api-client";
import type { Me, PostPage, PublicProfile, UpdateProfileRequest, UserPage } from "@/lib/api-types";

export async function getProfile(username: string): Promise<PublicProfile> {
  return (await api.get<PublicProfile>(`/api/users/${encodeURIComponent(username)}`)).data;
}

export async function getUserPosts(username: string, cursor?: string | null): Promise<PostPage> {
  return (await api.get<PostPage>(`/api/users/${encodeURIComponent(username)}/posts`, { params: { cursor: cursor ?? undefined, limit: 18 } })).data;
}

export async function follow(username: string): Promise<void> {
  await api.put(`/api/users/${encodeURIComponent(username)}/follow`);
}

export async function unfollow(username: string): Promise<void> {
  await api.delete(`/api/users/${encodeURIComponent(username)}/follow`);
}

export async function listConnections(username: string, which: "followers" | "following", cursor?: string | null): Promise<UserPage> {
  return (await api.get<UserPage>(`/api/users/${encodeURIComponent(username)}/${which}`, { params: { cursor: cursor ?? undefined, limit: 20 } })).data;
}

export async function updateMe(body: UpdateProfileRequest): Promise<Me> {
  return (await api.patch<Me>("/api/me", body)).data;
}
