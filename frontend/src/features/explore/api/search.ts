import { api } from "@/lib/api-client";
import type { UserPage } from "@/lib/api-types";

export async function searchUsers(prefix: string, signal?: AbortSignal, cursor?: string | null): Promise<UserPage> {
  return (await api.get<UserPage>("/api/users", { params: { prefix, cursor: cursor ?? undefined, limit: 20 }, signal })).data;
}
