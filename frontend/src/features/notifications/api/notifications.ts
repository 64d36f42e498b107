import { api } from "@/lib/api-client";
import type { NotificationPage, UnreadCount } from "@/lib/api-types";

export async function listNotifications(cursor?: string | null): Promise<NotificationPage> {
  return (await api.get<NotificationPage>("/api/notifications", { params: { cursor: cursor ?? undefined, limit: 20 } })).data;
}

export async function unreadCount(): Promise<number> {
  return (await api.get<UnreadCount>("/api/notifications/unread-count")).data.count;
}

export async function markRead(ids?: string[]): Promise<number> {
  return (await api.post<{ marked: number }>("/api/notifications/read", ids ? { ids } : {})).data.marked;
}
