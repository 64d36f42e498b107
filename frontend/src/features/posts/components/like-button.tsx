import { Heart } from "lucide-react";
import { cn } from "@/lib/utils";


export function LikeButton({ liked, onToggle }: { liked: boolean; onToggle: () => void }) {
  return (
    <button
      type="button"
      aria-pressed={liked}
      aria-label={liked ? "Unlike" : "Like"}
      onClick={onToggle}
      className="rounded-full p-2 transition-transform hover:bg-muted active:scale-90"
    >
      <Heart className={cn("size-6", liked ? "fill-accent text-accent" : "")} aria-hidden="true" />
    </button>
  );
}
