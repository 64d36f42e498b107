import { NotificationList } from "@/features/notifications";

export function NotificationsRoute() {
  return <div className="px-0"><NotificationList /></div>;
}
