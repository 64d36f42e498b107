import { ChevronLeft, ChevronRight } from "lucide-react";
import { useRef, useState } from "react";
import { BlurhashImage } from "@/components/ui/blurhash-image";
import type { PostMedia } from "@/lib/api-types";
import { imageSources } from "@/lib/media";
import { cn } from "@/lib/utils";

const SIZES = "(min-width: 640px) 600px, 100vw";

/** A post's pictures: one, or a swipeable carousel with buttons and dots (keyboard: arrow keys). */
export function MediaCarousel({ media, alt, eager = false }: { media: PostMedia[]; alt: string; eager?: boolean }) {
  const [index, setIndex] = useState(0);
  const track = useRef<HTMLDivElement>(null);
  const count = media.length;

  function go(to: number) {
    const next = Math.max(0, Math.min(count - 1, to));
    setIndex(next);
    track.current?.children[next]?.scrollIntoView({ behavior: "smooth", block: "nearest", inline: "start" });
  }

  if (count === 0) {
    return <div className="flex aspect-square items-center justify-center bg-muted text-sm text-muted-foreground">processing…</div>;
  }
  return (
    <div
      className="relative"
      role={count > 1 ? "region" : undefined}
      aria-roledescription={count > 1 ? "carousel" : undefined}
      aria-label={count > 1 ? `${count} pictures` : undefined}
      onKeyDown={(event) => {
        if (event.key === "ArrowRight") go(index + 1);
        if (event.key === "ArrowLeft") go(index - 1);
      }}
    >
      <div
        ref={track}
        className="flex snap-x snap-mandatory overflow-x-auto [scrollbar-width:none]"
        onScroll={(event) => {
          const target = event.currentTarget;
          const at = Math.round(target.scrollLeft / Math.max(1, target.clientWidth));
          if (at !== index) setIndex(at);
        }}
      >
        {media.map((item, i) => {
          const sources = imageSources(item);
          return (
            <div key={item.id} className="w-full shrink-0 snap-start" aria-hidden={count > 1 && i !== index ? true : undefined}>
              {sources ? (
                <BlurhashImage
                  src={sources.src}
                  srcSet={sources.srcSet}
                  sizes={SIZES}
                  width={sources.width}
                  height={sources.height}
                  blurhash={item.blurhash}
                  alt={count > 1 ? `${alt} (${i + 1} of ${count})` : alt}
                  loading={eager && i === 0 ? "eager" : "lazy"}
                />
              ) : (
                <div className="flex aspect-square items-center justify-center bg-muted text-sm text-muted-foreground">processing…</div>
              )}
            </div>
          );
        })}
      </div>
      {count > 1 ? (
        <>
          <button
            type="button"
            aria-label="Previous picture"
            disabled={index === 0}
            onClick={() => go(index - 1)}
            className="absolute left-2 top-1/2 hidden -translate-y-1/2 rounded-full bg-black/50 p-1.5 text-white disabled:opacity-0 sm:block"
          >
            <ChevronLeft className="size-5" aria-hidden="true" />
          </button>
          <button
            type="button"
            aria-label="Next picture"
            disabled={index === count - 1}
            onClick={() => go(index + 1)}
            className="absolute right-2 top-1/2 hidden -translate-y-1/2 rounded-full bg-black/50 p-1.5 text-white disabled:opacity-0 sm:block"
          >
            <ChevronRight className="size-5" aria-hidden="true" />
          </button>
          <div className="absolute bottom-2 left-0 right-0 flex justify-center gap-1.5" aria-hidden="true">
            {media.map((item, i) => (
              <span key={item.id} className={cn("size-1.5 rounded-full", i === index ? "bg-white" : "bg-white/50")} />
            ))}
          </div>
        </>
      ) : null}
    </div>
  );
}
