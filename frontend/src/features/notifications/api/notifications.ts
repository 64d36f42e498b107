import { api } from "@/lib/api-client";
import type { NotificationPage } from "@/lib/api-types";

export function listNotifications(cursor?: string | null): Promise<NotificationPage> {
  return api.get("/api/notifications", { query: { cursor, limit: 20 } });
}

export async function unreadCount(): Promise<number> {
  return (await api.get("/api/notifications/unread-count")).count;
}

export async function markRead(ids?: string[]): Promise<number> {
  return (await api.post("/api/notifications/read", { body: ids ? { ids } : {} })).marked;
}
