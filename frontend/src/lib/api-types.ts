/** Names for the generated OpenAPI types (src/lib/api-schema.d.ts, `npm run gen:api`). */
import type { components, operations, paths } from "./api-schema";

export type { components, operations, paths };
type Schemas = components["schemas"];

export type Me = Schemas["Me"];
export type Session = Schemas["Session"];
export type Tokens = Schemas["Tokens"];
export type EmailVerified = Schemas["EmailVerified"];
export type RegisterRequest = Schemas["RegisterRequest"];
export type LoginRequest = Schemas["LoginRequest"];
export type UpdateProfileRequest = Schemas["UpdateProfileRequest"];
export type PublicProfile = Schemas["PublicProfile"];
export type UserSummary = Schemas["UserSummaryOut"];
export type UserPage = Schemas["UserPage"];
export type Post = Schemas["PostOut"];
export type PostMedia = Schemas["PostMediaOut"];
export type Variant = Schemas["VariantOut"];
export type PostPage = Schemas["PostPage"];
export type Comment = Schemas["CommentOut"];
export type CommentPage = Schemas["CommentPage"];
export type Notification = Schemas["NotificationOut"];
export type NotificationPage = Schemas["NotificationPage"];
export type UnreadCount = Schemas["UnreadCount"];
export type CreateMediaRequest = Schemas["CreateMediaRequest"];
export type MediaUpload = Schemas["MediaUpload"];
export type MediaOut = Schemas["MediaOut"];
export type CreatePostRequest = Schemas["CreatePostRequest"];
export type ErrorBody = Schemas["ErrorBody"];

/** A cursor page of anything. */
export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}
