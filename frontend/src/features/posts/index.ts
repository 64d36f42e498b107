export { PostCard } from "./components/post-card";
export { PostDetail } from "./components/post-detail";
export { RichText } from "./components/caption";
export { MediaCarousel } from "./components/media-carousel";
