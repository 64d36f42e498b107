import { Fragment } from "react";
import { Link } from "react-router";

const TOKEN = /([@#][A-Za-z0-9._]+)/g;

/** Text with @mentions linked to profiles and #hashtags to the explore page. */
export function RichText({ text, className }: { text: string; className?: string }) {
  const parts = text.split(TOKEN);
  return (
    <span className={className}>
      {parts.map((part, index) => {
        if (/^@[A-Za-z0-9._]+$/.test(part)) {
          const name = part.slice(1).replace(/\.+$/, "");
          return (
            <Link key={index} to={`/u/${name}`} className="font-medium text-primary hover:underline">
              {part}
            </Link>
          );
        }
        if (/^#[A-Za-z0-9_]+$/.test(part)) {
          return (
            <Link key={index} to={`/explore?tag=${encodeURIComponent(part.slice(1))}`} className="font-medium text-primary hover:underline">
              {part}
            </Link>
          );
        }
        return <Fragment key={index}>{part}</Fragment>;
      })}
    </span>
  );
}

/** A post's caption after its author's name, as the feed card and the post page show it (nothing without one). */
export function PostCaption({ author, caption }: { author: string; caption: string }) {
  if (!caption) return null;
  return (
    <p className="break-words">
      <Link to={`/u/${author}`} className="mr-1.5 font-semibold">{author}</Link>
      <RichText text={caption} />
    </p>
  );
}
