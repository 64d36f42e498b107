/**
 * The unread badge and the list. A live `notification-created` may join an existing group ("ada and
 * 3 others liked your post"), so the badge asks the API for the count instead of adding one.
 */
import { create } from "zustand";
import type { Notification } from "@/lib/api-types";
import { createCursorPager, type CursorPager, type CursorPages, NO_PAGES } from "@/lib/cursor-pages";
import { listNotifications, markRead, unreadCount } from "../api/notifications";

interface NotificationsState extends CursorPages<Notification> {
  unread: number;
  refreshUnread: () => Promise<void>;
  /** The first page again, or the next one. */
  load: (more?: boolean) => Promise<void>;
  markAllRead: () => Promise<void>;
  markOneRead: (id: string) => Promise<void>;
  reset: () => void;
}

let unreadRequest = 0;

export const useNotifications = create<NotificationsState>()((set, get) => ({
  ...NO_PAGES,
  unread: 0,
  refreshUnread: async () => {
    const request = ++unreadRequest;
    const count = await unreadCount();
    if (request === unreadRequest) set({ unread: count });
  },
  load: (more = false) => (more ? pager.loadMore() : pager.loadFirst()),
  markAllRead: async () => {
    const before = get();
    set({ unread: 0, items: before.items.map((n) => ({ ...n, read: true })) });
    try {
      await markRead();
    } catch (error) {
      set({ unread: before.unread, items: before.items });
      throw error;
    }
  },
  markOneRead: async (id) => {
    const target = get().items.find((n) => n.id === id);
    if (!target || target.read) return;
    set((state) => ({ unread: Math.max(0, state.unread - 1), items: state.items.map((n) => (n.id === id ? { ...n, read: true } : n)) }));
    await markRead([id]).catch(() => undefined);
  },
  reset: () => {
    pager.cancel();
    set({ ...NO_PAGES, unread: 0 });
  },
}));

const pager: CursorPager = createCursorPager<Notification>((cursor) => listNotifications(cursor), useNotifications.getState,
  useNotifications.setState);
