import { useNotifications } from "../stores/notifications";

/** The unread count next to the navigation's bell (announced to screen readers via the link's label). */
export function NotificationBadge() {
  const unread = useNotifications((s) => s.unread);
  if (unread === 0) return null;
  return (
    <span data-testid="unread-badge" aria-hidden="true" className="absolute -right-1 -top-1 flex h-4 min-w-4 items-center justify-center rounded-full bg-accent px-1 text-[10px] font-bold leading-none text-white">
      {unread > 99 ? "99+" : unread}
    </span>
  );
}

export function useUnreadLabel(): string {
  const unread = useNotifications((s) => s.unread);
  return unread === 0 ? "Notifications" : `Notifications (${unread} unread)`;
}
