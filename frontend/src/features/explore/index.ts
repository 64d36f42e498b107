export { UserSearch } from "./components/user-search";
