export { CreatePostForm } from "./components/create-post-form";
export { UploadProgress } from "./components/upload-progress";
export { useUploads } from "./stores/uploads";
