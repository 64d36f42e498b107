import { api } from "@/lib/api-client";
import type { PostPage } from "@/lib/api-types";

export const PAGE_SIZE = 10;

export type FeedOrder = "recent" | "ranked";

export function getTimeline(cursor?: string | null, order: FeedOrder = "recent"): Promise<PostPage> {
  return api.get("/api/timeline", { query: { cursor, limit: PAGE_SIZE, order: order === "recent" ? undefined : order } });
}
