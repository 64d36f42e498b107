import { Fragment, type ReactNode } from "react";
import { Link } from "react-router";

/** The longest hashtag the API reads from a caption (HASHTAG_MAX_LENGTH in the layer's catalog). */
const HASHTAG_MAX_LENGTH = 100;

// The API's caption parser (layers/kafkagram/kafkagram/store/posts.py), so that a link is shown exactly
// for what the API lists: a mention is "@" not after a word character, "." or "@", then a username; a
// hashtag is "#" not after a word character, "#" or "&", then word characters (Unicode letters, digits, _).
const TOKENS = /(?<![\p{L}\p{N}_.@])@([A-Za-z0-9._]+)|(?<![\p{L}\p{N}_#&])#([\p{L}\p{N}_]+)/gu;

/** Where a hashtag's posts are listed (`tag` with or without "#", any case: tags are stored lowercase). */
export function tagPath(tag: string): string {
  return `/t/${encodeURIComponent(tag.replace(/^#/, "").toLowerCase())}`;
}

const LINK = "font-medium text-primary hover:underline";

/** Text with @mentions linked to profiles and #hashtags to their tag page. */
export function RichText({ text, className }: { text: string; className?: string }) {
  const parts: ReactNode[] = [];
  let at = 0;
  for (const match of text.matchAll(TOKENS)) {
    const [token, mention, tag] = match;
    if (tag !== undefined && tag.length > HASHTAG_MAX_LENGTH) continue; // the API ignores it too
    parts.push(<Fragment key={`t${at}`}>{text.slice(at, match.index)}</Fragment>);
    if (mention !== undefined) {
      const name = mention.replace(/\.+$/, ""); // trailing dots end the sentence, not the name
      parts.push(<Link key={match.index} to={`/u/${name}`} className={LINK}>@{name}</Link>);
      parts.push(<Fragment key={`d${match.index}`}>{mention.slice(name.length)}</Fragment>);
    } else {
      parts.push(<Link key={match.index} to={tagPath(tag ?? "")} className={LINK}>{token}</Link>);
    }
    at = match.index + token.length;
  }
  parts.push(<Fragment key={`t${at}`}>{text.slice(at)}</Fragment>);
  return <span className={className}>{parts}</span>;
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
