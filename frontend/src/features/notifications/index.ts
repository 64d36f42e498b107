export { NotificationBadge, useUnreadLabel } from "./components/notification-badge";
export { NotificationList } from "./components/notification-list";
export { useNotifications } from "./stores/notifications";
