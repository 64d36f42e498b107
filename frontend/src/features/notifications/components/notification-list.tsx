import { AtSign, Heart, MessageCircle, UserPlus } from "lucide-react";
import { useEffect } from "react";
import { Link } from "react-router";
import { UserAvatar } from "@/components/ui/avatar";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import type { Notification } from "@/lib/api-types";
import { toast } from "@/lib/toast";
import { cn, relativeTime } from "@/lib/utils";
import { useNotifications } from "../stores/notifications";

const ICONS = { like: Heart, comment: MessageCircle, follow: UserPlus, mention: AtSign } as const;

function target(n: Notification): string {
  if (n.post_id) return `/p/${n.post_id}`;
  const actor = n.actors[0];
  return actor ? `/u/${actor.username}` : "/notifications";
}

function Item({ notification }: { notification: Notification }) {
  const markOneRead = useNotifications((s) => s.markOneRead);
  const Icon = ICONS[notification.kind as keyof typeof ICONS] ?? Heart;
  const actor = notification.actors[0];
  return (
    <li>
      <Link
        to={target(notification)}
        onClick={() => void markOneRead(notification.id)}
        className={cn("flex items-start gap-3 rounded-xl p-3 hover:bg-muted", !notification.read && "bg-primary/5")}
      >
        <div className="relative">
          {actor ? <UserAvatar user={actor} className="size-10" /> : <div className="size-10 rounded-full bg-muted" />}
          <span className="absolute -bottom-1 -right-1 rounded-full bg-card p-0.5"><Icon className="size-3.5 text-accent" aria-hidden="true" /></span>
        </div>
        <div className="min-w-0 flex-1 text-sm">
          <p className="break-words">
            {notification.description}
            {notification.text ? <span className="text-muted-foreground">: “{notification.text}”</span> : null}
          </p>
          <time dateTime={notification.updated_at} className="text-xs text-muted-foreground">{relativeTime(notification.updated_at)}</time>
        </div>
        {!notification.read ? <span className="mt-2 size-2 shrink-0 rounded-full bg-accent" aria-label="unread" /> : null}
      </Link>
    </li>
  );
}

export function NotificationList() {
  const { items, status, loadingMore, error, cursor, unread, load, markAllRead } = useNotifications();
  const loading = status === "loading" || loadingMore;

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section aria-labelledby="notifications-title" className="grid gap-3">
      <div className="flex items-center justify-between px-3 sm:px-0">
        <h1 id="notifications-title" className="text-xl font-bold">Notifications</h1>
        <Button variant="outline" size="sm" disabled={unread === 0 && items.every((n) => n.read)}
          onClick={() => markAllRead().catch((e: unknown) => toast.error(e, "Could not mark them read"))}>
          Mark all as read
        </Button>
      </div>
      {error ? <p role="alert" className="px-3 text-sm text-destructive">{error}</p> : null}
      {status === "ready" && items.length === 0 ? <p className="p-6 text-center text-sm text-muted-foreground">Nothing yet. Likes, comments, mentions and new followers show up here.</p> : null}
      <ul className="grid gap-1">{items.map((n) => <Item key={n.id} notification={n} />)}</ul>
      {loading ? <Spinner className="py-4" label="Loading notifications" /> : null}
      {!loading && cursor ? <Button variant="link" onClick={() => void load(true)}>Load more</Button> : null}
    </section>
  );
}
