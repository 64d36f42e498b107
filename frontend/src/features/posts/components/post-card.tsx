import { MessageCircle } from "lucide-react";
import { Link } from "react-router";
import { UserAvatar } from "@/components/ui/avatar";
import type { Post } from "@/lib/api-types";
import { useLivePost } from "@/lib/live-stats";
import { plural, relativeTime } from "@/lib/utils";
import { useLike } from "../hooks/use-like";
import { PostCaption } from "./caption";
import { LikeButton } from "./like-button";
import { MediaCarousel } from "./media-carousel";

export function PostHeader({ post }: { post: Post }) {
  const when = post.published_at ?? post.created_at;
  return (
    <header className="flex items-center gap-3 px-3 py-2.5">
      <Link to={`/u/${post.author.username}`} className="flex min-w-0 items-center gap-3">
        <UserAvatar user={post.author} className="size-8" />
        <span className="truncate text-sm font-semibold">{post.author.username}</span>
      </Link>
      <span aria-hidden="true" className="text-muted-foreground">·</span>
      <time dateTime={when} title={new Date(when).toLocaleString()} className="shrink-0 text-xs text-muted-foreground">
        {relativeTime(when)}
      </time>
      {post.status !== "published" ? (
        <span className="ml-auto rounded-full bg-muted px-2 py-0.5 text-xs text-muted-foreground">processing…</span>
      ) : null}
    </header>
  );
}

/** A post in a list: header, pictures, like (optimistic), comment count, caption. */
export function PostCard({ post: loaded, eager = false }: { post: Post; eager?: boolean }) {
  const [post, watchRef] = useLivePost(loaded); // its counts live while on screen
  const { liked, count, toggle } = useLike(post);
  const alt = post.caption ? `Photo by ${post.author.username}: ${post.caption.slice(0, 120)}` : `Photo by ${post.author.username}`;
  return (
    <article
      ref={watchRef}
      aria-label={`Post by ${post.author.username}`}
      data-post-id={post.id}
      className="overflow-hidden border-border bg-card sm:rounded-2xl sm:border"
    >
      <PostHeader post={post} />
      <div onDoubleClick={() => !liked && void toggle()}>
        <MediaCarousel media={post.media} alt={alt} eager={eager} />
      </div>
      <div className="flex items-center gap-1 px-1.5 pt-1">
        <LikeButton liked={liked} onToggle={() => void toggle()} />
        <Link to={`/p/${post.id}`} aria-label={`Comments (${post.comments_count})`} className="rounded-full p-2 hover:bg-muted">
          <MessageCircle className="size-6" aria-hidden="true" />
        </Link>
      </div>
      <div className="grid gap-1 px-3 pb-3 text-sm">
        <p className="font-semibold" data-testid="likes-count">{plural(count, "like")}</p>
        <PostCaption author={post.author.username} caption={post.caption} />
        {post.comments_count > 0 ? (
          <Link to={`/p/${post.id}`} className="text-muted-foreground hover:underline">
            View {post.comments_count === 1 ? "1 comment" : `all ${post.comments_count} comments`}
          </Link>
        ) : (
          <Link to={`/p/${post.id}`} className="text-muted-foreground hover:underline">Add a comment</Link>
        )}
      </div>
    </article>
  );
}
