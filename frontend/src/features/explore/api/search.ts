import { api } from "@/lib/api-client";
import type { UserPage } from "@/lib/api-types";

export function searchUsers(prefix: string, cursor: string | null, signal?: AbortSignal): Promise<UserPage> {
  return api.get("/api/users", { query: { prefix, cursor, limit: 20 }, signal });
}
