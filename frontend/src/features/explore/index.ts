export { ExplorePage } from "./components/explore-page";
export { UserSearch } from "./components/user-search";
