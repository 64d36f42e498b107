import { ArrowUp } from "lucide-react";
import { type ReactNode, useEffect, useRef } from "react";
import { Button } from "@/components/ui/button";
import { Skeleton, Spinner } from "@/components/ui/spinner";
import type { Post } from "@/lib/api-types";
import { toast } from "@/lib/toast";
import { useFeed } from "../stores/feed";

function NewPostsPill({ count, onClick }: { count: number; onClick: () => void }) {
  if (count === 0) return null;
  return (
    <div className="pointer-events-none sticky top-16 z-20 flex justify-center">
      <Button onClick={onClick} className="pointer-events-auto rounded-full shadow-lg animate-fade-in" aria-live="polite">
        <ArrowUp aria-hidden="true" />
        {count === 1 ? "1 new post" : `${count} new posts`}
      </Button>
    </div>
  );
}

function FeedSkeleton() {
  return (
    <div className="grid gap-6" aria-hidden="true">
      {[0, 1].map((i) => (
        <div key={i} className="grid gap-3">
          <div className="flex items-center gap-3 px-3"><Skeleton className="size-8 rounded-full" /><Skeleton className="h-4 w-32" /></div>
          <Skeleton className="aspect-square w-full rounded-none sm:rounded-2xl" />
        </div>
      ))}
    </div>
  );
}

/** The home feed with infinite scroll; `renderPost` draws each post (composed by the app). */
export function FeedList({ renderPost, empty }: { renderPost: (post: Post, index: number) => ReactNode; empty: ReactNode }) {
  const { posts, status, error, cursor, loadingMore, incoming, order, setOrder, loadFirst, loadMore, showIncoming } = useFeed();
  const sentinel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    void loadFirst();
  }, [loadFirst]);

  useEffect(() => {
    const target = sentinel.current;
    if (!target || !cursor) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void loadMore();
    }, { rootMargin: "800px 0px" });
    observer.observe(target);
    return () => observer.disconnect();
  }, [cursor, loadMore, posts.length]);

  async function reveal() {
    try {
      await showIncoming();
      window.scrollTo({ top: 0, behavior: "smooth" });
    } catch (e) {
      toast.error(e, "Could not load the new posts");
    }
  }

  return (
    <section aria-label="Home feed" className="grid gap-4">
      <div className="flex justify-center gap-1 px-3 sm:px-0" role="group" aria-label="Order of the feed">
        {(["recent", "ranked"] as const).map((value) => (
          <Button key={value} size="sm" variant={order === value ? "secondary" : "ghost"} aria-pressed={order === value}
            onClick={() => void setOrder(value)}>
            {value === "recent" ? "Latest" : "Top"}
          </Button>
        ))}
      </div>
      <NewPostsPill count={incoming.length} onClick={() => void reveal()} />
      {status === "loading" && posts.length === 0 ? <FeedSkeleton /> : null}
      {status === "error" && posts.length === 0 ? (
        <div role="alert" className="grid justify-items-center gap-3 rounded-2xl border border-border p-8 text-center text-sm">
          <p>Could not load your feed: {error}</p>
          <Button variant="outline" onClick={() => void loadFirst()}>Try again</Button>
        </div>
      ) : null}
      {status === "ready" && posts.length === 0 ? empty : null}
      <div className="grid gap-4 sm:gap-6">{posts.map((post, index) => <div key={post.id}>{renderPost(post, index)}</div>)}</div>
      <div ref={sentinel} aria-hidden="true" />
      {loadingMore ? <Spinner className="py-4" label="Loading more posts" /> : null}
      {status === "ready" && posts.length > 0 && !cursor ? (
        <p className="py-6 text-center text-xs text-muted-foreground">You're all caught up.</p>
      ) : null}
    </section>
  );
}
