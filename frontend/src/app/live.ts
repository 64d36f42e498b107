/**
 * Composes the live updates: one WebSocket while signed in; `timeline-updated` feeds the "new posts"
 * pill, `notification-created` (and every reconnection, which may have missed pushes) refreshes the
 * unread badge. Before reconnecting, a cheap authenticated request refreshes an expired access token.
 */
import { useEffect } from "react";
import { useFeed } from "@/features/feed";
import { useNotifications } from "@/features/notifications";
import { endpoints } from "@/lib/config";
import { LiveSocket, type NotificationCreated, type TimelineUpdated, useLiveStatus } from "@/lib/live-socket";
import { useSession } from "@/lib/session";

// The connection state on <html data-live="...">: for styling and for the browser tests to wait on.
useLiveStatus.subscribe((state) => {
  document.documentElement.dataset.live = state.status;
});

export function useLiveUpdates(): void {
  const signedIn = useSession((s) => Boolean(s.accessToken));
  const userId = useSession((s) => s.user?.id);

  useEffect(() => {
    if (!signedIn) return;
    const refreshUnread = () => void useNotifications.getState().refreshUnread().catch(() => undefined);
    const socket = new LiveSocket({
      url: endpoints.ws,
      getToken: () => useSession.getState().accessToken,
      beforeReconnect: () => useNotifications.getState().refreshUnread(),
    });
    const offs = [
      socket.on<TimelineUpdated>("timeline-updated", (message) => {
        if (message.data.user_id === userId || !userId) useFeed.getState().announce(message.data.action, message.data.post_ids);
      }),
      socket.on<NotificationCreated>("notification-created", (message) => {
        refreshUnread();
        const { kind, post_id: postId } = message.data;
        if (postId && (kind === "like" || kind === "comment")) void useFeed.getState().refresh(postId).catch(() => undefined);
        if (useNotifications.getState().status !== "idle") void useNotifications.getState().load();
      }),
      socket.on("open", refreshUnread),
    ];
    const online = () => socket.reconnectNow();
    window.addEventListener("online", online);
    socket.start();
    return () => {
      window.removeEventListener("online", online);
      offs.forEach((off) => off());
      socket.stop();
    };
  }, [signedIn, userId]);
}
