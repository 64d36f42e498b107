export { FeedList } from "./components/feed-list";
export { createFeedStore, useFeed } from "./stores/feed";
