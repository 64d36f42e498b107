/**
 * The unread badge and the list. A live `notification-created` may join an existing group ("ada and
 * 3 others liked your post"), so the badge asks the API for the count instead of adding one.
 */
import { create } from "zustand";
import type { Notification } from "@/lib/api-types";
import { errorMessage } from "@/lib/errors";
import { listNotifications, markRead, unreadCount } from "../api/notifications";

interface NotificationsState {
  unread: number;
  items: Notification[];
  cursor: string | null;
  loading: boolean;
  loaded: boolean;
  error: string | null;
  refreshUnread: () => Promise<void>;
  load: (more?: boolean) => Promise<void>;
  markAllRead: () => Promise<void>;
  markOneRead: (id: string) => Promise<void>;
  reset: () => void;
}

let unreadRequest = 0;

export const useNotifications = create<NotificationsState>()((set, get) => ({
  unread: 0,
  items: [],
  cursor: null,
  loading: false,
  loaded: false,
  error: null,
  refreshUnread: async () => {
    const request = ++unreadRequest;
    const count = await unreadCount();
    if (request === unreadRequest) set({ unread: count });
  },
  load: async (more = false) => {
    if (get().loading || (more && !get().cursor)) return;
    set({ loading: true, error: null });
    try {
      const page = await listNotifications(more ? get().cursor : null);
      set((state) => ({
        items: more ? [...state.items, ...page.items.filter((n) => !state.items.some((m) => m.id === n.id))] : page.items,
        cursor: page.next_cursor ?? null,
        loading: false,
        loaded: true,
      }));
    } catch (error) {
      set({ loading: false, error: errorMessage(error) });
    }
  },
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
  reset: () => set({ unread: 0, items: [], cursor: null, loading: false, loaded: false, error: null }),
}));
