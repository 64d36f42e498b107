/**
 * The upload pipeline every picture goes through (posts and avatars): ask the API for a presigned
 * POST, send the file straight to S3 with progress, then tell the API the upload is complete.
 */
import axios from "axios";
import { api } from "./api-client";
import type { CreateMediaRequest, MediaOut } from "./api-types";
import { ApiError, toApiError } from "./errors";

export const ACCEPTED_TYPES = ["image/jpeg", "image/png", "image/webp"] as const;
export type AcceptedType = (typeof ACCEPTED_TYPES)[number];
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Why this file cannot be uploaded, or null when it can. */
export function refuseReason(file: { name: string; type: string; size: number }, maxBytes = MAX_UPLOAD_BYTES): string | null {
  if (!(ACCEPTED_TYPES as readonly string[]).includes(file.type)) {
    return `${file.name} is not a supported image: choose a JPEG, PNG or WebP picture.`;
  }
  if (file.size === 0) return `${file.name} is empty.`;
  if (file.size > maxBytes) {
    return `${file.name} is too large (${megabytes(file.size)}); the limit is ${megabytes(maxBytes).replace(".0", "")}.`;
  }
  return null;
}

/** S3 answers errors as XML: its Message when there is one. */
function s3Message(data: unknown): string | null {
  if (typeof data !== "string") return null;
  const match = /<Message>([^<]*)<\/Message>/.exec(data);
  return match?.[1] ?? null;
}

/** The presigned POST itself: a plain multipart form to S3, without our Authorization header. */
export async function postForm(url: string, fields: Record<string, string>, file: Blob,
  onProgress?: (fraction: number) => void, signal?: AbortSignal): Promise<void> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append("file", file); // S3 ignores fields after the file
  try {
    await axios.post(url, form, {
      signal,
      responseType: "text",
      onUploadProgress: (event) => {
        if (event.total) onProgress?.(event.loaded / event.total);
      },
    });
    onProgress?.(1);
  } catch (error) {
    if (axios.isAxiosError(error) && error.response) {
      throw new ApiError(error.response.status, "upload-refused", s3Message(error.response.data) ?? "the storage refused the file");
    }
    throw toApiError(error);
  }
}

export async function uploadImage(file: File, purpose: CreateMediaRequest["purpose"],
  onProgress?: (fraction: number) => void, signal?: AbortSignal): Promise<MediaOut> {
  const reason = refuseReason(file);
  if (reason) throw new ApiError(400, "refused-file", reason);
  const started = await api.post("/api/media", { body: { purpose, content_type: file.type as AcceptedType, size: file.size }, signal });
  await postForm(started.upload.url, started.upload.fields, file, onProgress, signal);
  return api.post("/api/media/{media_id}/complete", { path: { media_id: started.media.id }, signal });
}

/** Polls an upload until processing is over: the media when ready, an ApiError with why when refused. */
export async function waitUntilProcessed(mediaId: string, timeoutMs = 120_000): Promise<MediaOut> {
  const deadline = Date.now() + timeoutMs;
  let delay = 500;
  for (;;) {
    const media = await api.get("/api/media/{media_id}", { path: { media_id: mediaId } });
    if (media.status === "ready") return media;
    if (media.status === "failed") {
      throw new ApiError(422, media.failure_reason ?? "processing-failed", media.failure_message ?? "the picture could not be processed");
    }
    if (Date.now() > deadline) throw new ApiError(0, "processing-slow", "processing takes longer than expected");
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(3000, delay * 1.5);
  }
}
