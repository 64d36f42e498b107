import { useParams } from "react-router";
import { TagPosts } from "@/features/posts";

/** /t/:tag, where every #tag of a caption links: the tag's posts, newest first. */
export function TagRoute() {
  const tag = (useParams().tag ?? "").toLowerCase(); // tags are stored lowercase: #Math is #math
  return <TagPosts key={tag} tag={tag} />;
}
