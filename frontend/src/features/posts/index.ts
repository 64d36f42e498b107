export { PostCard } from "./components/post-card";
export { PostDetail } from "./components/post-detail";
export { RichText, tagPath } from "./components/caption";
export { MediaCarousel } from "./components/media-carousel";
export { TagPosts } from "./components/tag-posts";
