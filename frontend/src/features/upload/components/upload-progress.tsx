import { AlertCircle, CheckCircle2, X } from "lucide-react";
import { Progress } from "@/components/ui/progress";
import type { UploadItem } from "../stores/uploads";

function size(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/** One picked file: preview, name, size and its upload's progress or error. */
export function UploadProgress({ item, onRemove }: { item: UploadItem; onRemove?: () => void }) {
  const percent = Math.round(item.progress * 100);
  const label =
    item.status === "failed" ? item.error ?? "upload failed"
      : item.status === "uploaded" ? "uploaded"
        : item.status === "uploading" ? `uploading ${percent}%`
          : "ready to upload";
  return (
    <li className="flex items-center gap-3 rounded-xl border border-border bg-card p-2" aria-label={`${item.file.name}: ${label}`}>
      {item.preview ? (
        <img src={item.preview} alt={`Preview of ${item.file.name}`} className="size-14 shrink-0 rounded-lg object-cover" />
      ) : (
        <div className="size-14 shrink-0 rounded-lg bg-muted" aria-hidden="true" />
      )}
      <div className="grid min-w-0 flex-1 gap-1.5">
        <div className="flex items-center justify-between gap-2 text-xs">
          <span className="truncate font-medium">{item.file.name}</span>
          <span className="shrink-0 text-muted-foreground">{size(item.file.size)}</span>
        </div>
        <Progress value={item.status === "uploaded" ? 100 : percent} aria-label={`Upload of ${item.file.name}`} />
        <p className={`flex items-center gap-1 text-xs ${item.status === "failed" ? "text-destructive" : "text-muted-foreground"}`}>
          {item.status === "failed" ? <AlertCircle className="size-3.5" aria-hidden="true" /> : null}
          {item.status === "uploaded" ? <CheckCircle2 className="size-3.5 text-green-600" aria-hidden="true" /> : null}
          <span>{label}</span>
        </p>
      </div>
      {onRemove && item.status !== "uploading" ? (
        <button type="button" onClick={onRemove} aria-label={`Remove ${item.file.name}`} className="rounded p-1 text-muted-foreground hover:bg-muted">
          <X className="size-4" aria-hidden="true" />
        </button>
      ) : null}
    </li>
  );
}
