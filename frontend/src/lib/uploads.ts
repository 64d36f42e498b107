/**
 * The upload pipeline every picture goes through (posts and avatars): ask the API for a presigned
 * POST, send the file straight to S3 with progress, then tell the API the upload is complete.
 */
import axios from "axios";
import { api } from "./api-client";
import type { CreateMediaRequest, MediaOut, MediaUpload } from "./api-types";
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
  const { data: started } = await api.post<MediaUpload>("/api/media",
    { purpose, content_type: file.type as AcceptedType, size: file.size } satisfies CreateMediaRequest, { signal });
  await postForm(started.upload.url, started.upload.fields as Record<string, string>, file, onProgress, signal);
  const { data: done } = await api.post<MediaOut>(`/api/media/${started.media.id}/complete`, undefined, { signal });
  return done;
}

/** Polls an upload until processing is over: the media when ready, an ApiError with why when refused. */
export async function waitUntilProcessed(mediaId: string, timeoutMs = 120_000): Promise<MediaOut> {
  const deadline = Date.now() + timeoutMs;
  let delay = 500;
  for (;;) {
    const { data } = await api.get<MediaOut>(`/api/media/${mediaId}`);
    if (data.status === "ready") return data;
    if (data.status === "failed") {
      throw new ApiError(422, data.failure_reason ?? "processing-failed", data.failure_message ?? "the picture could not be processed");
    }
    if (Date.now() > deadline) throw new ApiError(0, "processing-slow", "processing takes longer than expected");
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(3000, delay * 1.5);
  }
}
