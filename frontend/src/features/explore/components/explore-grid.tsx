import { Compass, Heart, Layers, MessageCircle } from "lucide-react";
import { Link } from "react-router";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import type { Post } from "@/lib/api-types";
import { useCursorPages } from "@/lib/cursor-pages";
import { imageSources } from "@/lib/media";
import { toast } from "@/lib/toast";
import { formatCount } from "@/lib/utils";
import { getExplorePosts } from "../api/explore";

function Tile({ post }: { post: Post }) {
  const first = post.media[0];
  const sources = first ? imageSources(first, 320) : null;
  return (
    <Link to={`/p/${post.id}`} className="group relative block aspect-square overflow-hidden bg-muted"
      aria-label={`Post by ${post.author.username}: ${post.caption || "photo"}`}>
      {sources ? (
        <img src={sources.src} srcSet={sources.srcSet} sizes="(min-width: 640px) 200px, 33vw" alt={post.caption || `Photo by ${post.author.username}`}
          loading="lazy" className="size-full object-cover" />
      ) : null}
      {post.media.length > 1 ? <Layers className="absolute right-1.5 top-1.5 size-4 text-white drop-shadow" aria-hidden="true" /> : null}
      {/* Counts on hover (pointer devices); the post page has them for everyone. */}
      <span aria-hidden="true" className="absolute inset-0 hidden items-center justify-center gap-4 bg-black/40 text-sm font-semibold text-white group-hover:flex">
        <span className="flex items-center gap-1"><Heart className="size-4 fill-current" />{formatCount(post.likes_count)}</span>
        <span className="flex items-center gap-1"><MessageCircle className="size-4 fill-current" />{formatCount(post.comments_count)}</span>
      </span>
    </Link>
  );
}

/** Popular recent posts from people the viewer does not follow, as square thumbnails. */
export function ExploreGrid() {
  const { items: posts, status, loading, cursor, loadMore } = useCursorPages("explore", getExplorePosts,
    (e) => toast.error(e, "Could not load Explore"));
  return (
    <section aria-labelledby="explore-grid-title" className="grid grid-cols-1 gap-2">
      <h2 id="explore-grid-title" className="px-3 text-sm font-semibold text-muted-foreground sm:px-0">Popular now</h2>
      {posts.length > 0 ? (
        <div className="grid grid-cols-3 gap-0.5 sm:gap-1" aria-label="Popular posts">
          {posts.map((post) => <Tile key={post.id} post={post} />)}
        </div>
      ) : status === "ready" ? (
        <div className="grid justify-items-center gap-2 p-10 text-center text-muted-foreground">
          <Compass className="size-10" aria-hidden="true" />
          <p className="text-sm">Nothing to explore yet: posts from people you don't follow show here.</p>
        </div>
      ) : null}
      {loading ? <Spinner className="w-full py-6" label="Loading posts" /> : null}
      {!loading && cursor ? <div className="flex justify-center p-4"><Button variant="outline" onClick={() => void loadMore()}>Load more</Button></div> : null}
    </section>
  );
}
