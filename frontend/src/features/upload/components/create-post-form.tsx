import { ImagePlus } from "lucide-react";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { Button } from "@/components/ui/button";
import { FormField } from "@/components/ui/form-field";
import { Textarea } from "@/components/ui/input";
import { Spinner } from "@/components/ui/spinner";
import type { Post } from "@/lib/api-types";
import { errorMessage } from "@/lib/errors";
import { ACCEPTED_TYPES, uploadImage } from "@/lib/uploads";
import { cn } from "@/lib/utils";
import { createPost, waitUntilPublished } from "../api/posts";
import { useUploads } from "../stores/uploads";
import { UploadProgress } from "./upload-progress";

export const MAX_CAPTION = 2200;

type Phase = "editing" | "uploading" | "processing";

/**
 * Pick pictures, preview them, write a caption; on Share each file goes straight to S3 (a progress bar
 * per file), then the post is created and shown as processing until its media are published.
 */
export function CreatePostForm({ onPublished }: { onPublished: (post: Post) => void }) {
  const { items, refused, add, remove, update, clear } = useUploads();
  const [caption, setCaption] = useState("");
  const [phase, setPhase] = useState<Phase>("editing");
  const [error, setError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const abort = useRef<AbortController | null>(null);

  useEffect(() => {
    clear();
    return () => {
      abort.current?.abort();
      clear();
    };
  }, [clear]);

  const captionError = caption.length > MAX_CAPTION ? `The caption is ${caption.length - MAX_CAPTION} characters too long.` : null;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    if (items.length === 0) {
      setError("Choose at least one picture.");
      return;
    }
    if (captionError) return;
    const controller = new AbortController();
    abort.current = controller;
    setPhase("uploading");
    const current = useUploads.getState().items;
    const results = await Promise.allSettled(current.map(async (item) => {
      if (item.mediaId) return item.mediaId;
      update(item.key, { status: "uploading", progress: 0, error: undefined });
      try {
        const media = await uploadImage(item.file, "post", (p) => update(item.key, { progress: p }), controller.signal);
        update(item.key, { status: "uploaded", progress: 1, mediaId: media.id });
        return media.id;
      } catch (e) {
        update(item.key, { status: "failed", error: errorMessage(e) });
        throw e;
      }
    }));
    const failed = results.filter((r) => r.status === "rejected");
    if (failed.length > 0) {
      setPhase("editing");
      setError(failed.length === 1 ? "One picture could not be uploaded; remove it or try again." : `${failed.length} pictures could not be uploaded; remove them or try again.`);
      return;
    }
    const mediaIds = results.map((r) => (r as PromiseFulfilledResult<string>).value);
    try {
      const post = await createPost({ caption: caption.trim(), media_ids: mediaIds });
      setPhase("processing");
      const published = await waitUntilPublished(post.id, controller.signal);
      clear();
      onPublished(published);
    } catch (e) {
      if (controller.signal.aborted) return;
      setPhase("editing");
      setError(errorMessage(e));
    }
  }

  if (phase === "processing") {
    return (
      <div role="status" className="grid justify-items-center gap-3 rounded-2xl border border-border bg-card p-10 text-center">
        <Spinner label="Processing" />
        <p className="font-semibold">Processing your post…</p>
        <p className="text-sm text-muted-foreground">It appears in your feed and your followers' as soon as the pictures are ready.</p>
      </div>
    );
  }

  const busy = phase === "uploading";
  return (
    <form onSubmit={submit} noValidate className="grid gap-4" aria-label="New post">
      <div
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          add([...e.dataTransfer.files]);
        }}
        className={cn("grid justify-items-center gap-3 rounded-2xl border-2 border-dashed border-border p-6 text-center", dragging && "border-primary bg-primary/5")}
      >
        <ImagePlus className="size-10 text-muted-foreground" aria-hidden="true" />
        <p className="text-sm text-muted-foreground">JPEG, PNG or WebP, up to 20 MB each, at most 10.</p>
        <Button type="button" variant="secondary" disabled={busy} onClick={() => input.current?.click()}>Choose pictures</Button>
        <label htmlFor="post-files" className="sr-only">Pictures</label>
        <input
          id="post-files"
          ref={input}
          type="file"
          multiple
          accept={ACCEPTED_TYPES.join(",")}
          className="sr-only"
          onChange={(e) => {
            add([...(e.target.files ?? [])]);
            e.target.value = "";
          }}
        />
      </div>
      {refused.length > 0 ? (
        <ul role="alert" className="grid gap-1 rounded-xl border border-destructive/40 bg-destructive/5 p-3 text-sm text-destructive">
          {refused.map((reason) => <li key={reason}>{reason}</li>)}
        </ul>
      ) : null}
      {items.length > 0 ? (
        <ul className="grid gap-2" aria-label="Pictures to share">
          {items.map((item) => <UploadProgress key={item.key} item={item} onRemove={busy ? undefined : () => remove(item.key)} />)}
        </ul>
      ) : null}
      <FormField label="Caption" error={captionError} hint={`${caption.length}/${MAX_CAPTION}`}>
        <Textarea name="caption" rows={3} value={caption} onChange={(e) => setCaption(e.target.value)} placeholder="Write a caption… #hashtags and @mentions work" />
      </FormField>
      {error ? <p role="alert" className="text-sm text-destructive">{error}</p> : null}
      <Button type="submit" disabled={busy || items.length === 0 || Boolean(captionError)}>{busy ? "Uploading…" : "Share"}</Button>
    </form>
  );
}
