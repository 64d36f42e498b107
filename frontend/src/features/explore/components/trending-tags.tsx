import { Hash } from "lucide-react";
import { Link } from "react-router";
import { useCursorPages } from "@/lib/cursor-pages";
import { plural } from "@/lib/utils";
import { getTrendingTags, type TrendingTag } from "../api/explore";

/** The tags most posted in the last day, each a link to its page. */
export function TrendingTags() {
  const { items } = useCursorPages<TrendingTag & { id: string }>("tags",
    async (_cursor, signal) => ({ items: (await getTrendingTags(signal)).map((t) => ({ ...t, id: t.tag })) }));
  if (items.length === 0) return null;
  return (
    <section aria-labelledby="trending-title" className="grid grid-cols-1 gap-2 px-3 sm:px-0">
      <h2 id="trending-title" className="text-sm font-semibold text-muted-foreground">Trending tags</h2>
      <ul className="flex flex-wrap gap-2" aria-label="Trending tags">
        {items.map(({ tag, posts }) => (
          <li key={tag}>
            <Link to={`/t/${encodeURIComponent(tag)}`} title={plural(posts, "post")}
              className="inline-flex items-center gap-1 rounded-full border border-border bg-card px-3 py-1 text-sm hover:bg-muted">
              <Hash className="size-3.5 text-muted-foreground" aria-hidden="true" />{tag}
            </Link>
          </li>
        ))}
      </ul>
    </section>
  );
}
