import { Hash } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import { useCursorPages } from "@/lib/cursor-pages";
import { plural } from "@/lib/utils";
import { listTagPosts } from "../api/posts";
import { PostCard } from "./post-card";

/** The posts whose caption has #`tag`, newest first, a page at a time. */
export function TagPosts({ tag }: { tag: string }) {
  const { items: posts, status, error, loading, cursor, loadMore } = useCursorPages(tag,
    (from, signal) => listTagPosts(tag, from, signal));

  return (
    <section aria-labelledby="tag-title" className="grid gap-4">
      <header className="flex items-center gap-3 px-3 sm:px-0">
        <span className="grid size-12 place-content-center rounded-full bg-muted" aria-hidden="true"><Hash className="size-6" /></span>
        <div className="min-w-0">
          <h1 id="tag-title" className="truncate text-xl font-bold">#{tag}</h1>
          {status === "ready" ? (
            <p className="text-sm text-muted-foreground">{cursor ? "Newest first" : plural(posts.length, "post")}</p>
          ) : null}
        </div>
      </header>
      {/* A bad tag in the address is the API's 400, which says what a tag may hold. */}
      {error ? <p role="alert" className="p-6 text-center text-sm text-muted-foreground">{error}</p> : null}
      {status === "ready" && posts.length === 0 ? (
        <p className="p-10 text-center text-sm text-muted-foreground">No posts with #{tag} yet.</p>
      ) : null}
      <div className="grid gap-4 sm:gap-6">
        {/* The first two are above the fold: their pictures load at once, the rest as they scroll near. */}
        {posts.map((post, index) => <PostCard key={post.id} post={post} eager={index < 2} />)}
      </div>
      {loading ? <Spinner className="w-full py-6" label="Loading posts" /> : null}
      {!loading && cursor ? (
        <div className="flex justify-center p-4"><Button variant="outline" onClick={() => void loadMore()}>Load more</Button></div>
      ) : null}
    </section>
  );
}
