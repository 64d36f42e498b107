import { Trash2 } from "lucide-react";
import { type FormEvent, useState } from "react";
import { Link } from "react-router";
import { UserAvatar } from "@/components/ui/avatar";
import { Button } from "@/components/ui/button";
import { Dialog, DialogClose, DialogContent, DialogTrigger } from "@/components/ui/dialog";
import { Textarea } from "@/components/ui/input";
import { Spinner } from "@/components/ui/spinner";
import type { Post } from "@/lib/api-types";
import { useLivePost } from "@/lib/live-stats";
import { useResource } from "@/lib/cursor-pages";
import { notFoundAs } from "@/lib/errors";
import { getPost } from "@/lib/posts";
import { useSession } from "@/lib/session";
import { toast } from "@/lib/toast";
import { cn, plural, relativeTime } from "@/lib/utils";
import { deletePost } from "../api/posts";
import { useComments } from "../hooks/use-comments";
import { useLike } from "../hooks/use-like";
import { PostCaption, RichText } from "./caption";
import { LikeButton } from "./like-button";
import { MediaCarousel } from "./media-carousel";
import { PostHeader } from "./post-card";

const MAX_COMMENT = 2200;

function Comments({ post, onCountChange }: { post: Post; onCountChange: (by: number) => void }) {
  const me = useSession((s) => s.user);
  const { items, status, loadingMore, cursor, loadMore, add, remove } = useComments(post.id, onCountChange);
  const loading = status === "loading" || loadingMore;
  const [body, setBody] = useState("");

  async function submit(event: FormEvent) {
    event.preventDefault();
    const text = body.trim();
    if (!text || !me) return;
    setBody(""); // the comment shows at once, pending; a refused one comes back here to retry
    if (!(await add(text, me))) setBody((current) => current || text);
  }

  return (
    <section aria-label="Comments" className="grid gap-3">
      <ul className="grid gap-3">
        {items.map((comment) => (
          <li key={comment.id} className={cn("flex items-start gap-2.5 text-sm", comment.pending && "opacity-60")}
            aria-busy={comment.pending || undefined} data-pending={comment.pending || undefined}>
            <UserAvatar user={comment.author} className="size-7" />
            <div className="min-w-0 flex-1">
              <p className="break-words">
                <Link to={`/u/${comment.author.username}`} className="mr-1.5 font-semibold">{comment.author.username}</Link>
                <RichText text={comment.body} />
              </p>
              {comment.pending ? <span className="text-xs text-muted-foreground">Posting…</span>
                : <time dateTime={comment.created_at} className="text-xs text-muted-foreground">{relativeTime(comment.created_at)}</time>}
            </div>
            {me && !comment.pending && (comment.author.id === me.id || post.author.id === me.id) ? (
              <button type="button" onClick={() => void remove(comment)} aria-label="Delete comment" className="rounded p-1 text-muted-foreground hover:bg-muted hover:text-destructive">
                <Trash2 className="size-4" aria-hidden="true" />
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      {loading ? <Spinner label="Loading comments" /> : null}
      {!loading && cursor ? (
        <Button variant="link" size="sm" className="justify-self-start" onClick={() => void loadMore()}>Load more comments</Button>
      ) : null}
      {!loading && items.length === 0 ? <p className="text-sm text-muted-foreground">No comments yet.</p> : null}
      <form onSubmit={submit} className="grid gap-2">
        <label htmlFor={`comment-${post.id}`} className="sr-only">Add a comment</label>
        <Textarea id={`comment-${post.id}`} rows={2} maxLength={MAX_COMMENT} placeholder="Add a comment…" value={body} onChange={(e) => setBody(e.target.value)} />
        <div className="flex items-center justify-between">
          <span className="text-xs text-muted-foreground">{body.length}/{MAX_COMMENT}</span>
          <Button type="submit" size="sm" disabled={!body.trim()}>Post</Button>
        </div>
      </form>
    </section>
  );
}

function DeletePost({ post, onDeleted }: { post: Post; onDeleted: () => void }) {
  const [busy, setBusy] = useState(false);
  async function remove() {
    setBusy(true);
    try {
      await deletePost(post.id);
      toast.info("Post deleted.");
      onDeleted();
    } catch (error) {
      toast.error(error, "Could not delete the post");
      setBusy(false);
    }
  }
  return (
    <Dialog>
      <DialogTrigger asChild>
        <Button variant="ghost" size="sm" className="text-destructive">Delete post</Button>
      </DialogTrigger>
      <DialogContent title="Delete this post?" description="It disappears from your profile and from your followers' feeds.">
        <div className="flex justify-end gap-2">
          <DialogClose asChild><Button variant="outline">Cancel</Button></DialogClose>
          <Button variant="destructive" disabled={busy} onClick={() => void remove()}>Delete</Button>
        </div>
      </DialogContent>
    </Dialog>
  );
}

function DetailBody({ post: loaded, onCommentsChange, onDeleted }: { post: Post; onCommentsChange: (by: number) => void; onDeleted: () => void }) {
  const [post, watchRef] = useLivePost(loaded); // its counts live while on screen
  const me = useSession((s) => s.user);
  const { liked, count, toggle } = useLike(post);
  const alt = post.caption ? `Photo by ${post.author.username}: ${post.caption.slice(0, 120)}` : `Photo by ${post.author.username}`;
  return (
    <article ref={watchRef} aria-label={`Post by ${post.author.username}`} className="overflow-hidden bg-card sm:rounded-2xl sm:border sm:border-border md:grid md:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
      <div className="bg-black/5">
        <MediaCarousel media={post.media} alt={alt} eager />
      </div>
      <div className="grid content-start gap-3 pb-4">
        <PostHeader post={post} />
        <div className="grid gap-3 px-3 text-sm">
          <PostCaption author={post.author.username} caption={post.caption} />
          <div className="flex items-center gap-1">
            <LikeButton liked={liked} onToggle={() => void toggle()} />
            <span className="font-semibold" data-testid="likes-count">{plural(count, "like")}</span>
            <span className="ml-auto text-muted-foreground">{plural(post.comments_count, "comment")}</span>
          </div>
          <Comments key={post.id} post={post} onCountChange={onCommentsChange} />
          {me?.id === post.author.id ? <DeletePost post={post} onDeleted={onDeleted} /> : null}
        </div>
      </div>
    </article>
  );
}

export function PostDetail({ postId, onDeleted }: { postId: string; onDeleted: () => void }) {
  const { data: post, error, update } = useResource(postId,
    (signal) => getPost(postId, signal).catch(notFoundAs("This post does not exist or was deleted.")));

  if (error) return <p role="alert" className="p-6 text-center text-sm text-muted-foreground">{error}</p>;
  if (!post) return <div className="flex justify-center p-10"><Spinner label="Loading the post" /></div>;
  const onCommentsChange = (by: number) => update((p) => ({ ...p, comments_count: Math.max(0, p.comments_count + by) }));
  return <DetailBody post={post} onCommentsChange={onCommentsChange} onDeleted={onDeleted} />;
}
