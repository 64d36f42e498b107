import { decode } from "blurhash";
import { useEffect, useRef, useState } from "react";
import { cn } from "@/lib/utils";

interface BlurhashImageProps {
  src: string;
  srcSet?: string;
  sizes?: string;
  alt: string;
  blurhash?: string | null;
  width?: number | null;
  height?: number | null;
  className?: string;
  loading?: "lazy" | "eager";
}

/** An image over its blurhash placeholder (decoded to a 32 px canvas), faded in once loaded. */
export function BlurhashImage({ src, srcSet, sizes, alt, blurhash, width, height, className, loading = "lazy" }: BlurhashImageProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [loaded, setLoaded] = useState(false);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    const target = canvas.current;
    if (!blurhash || !target) return;
    try {
      const pixels = decode(blurhash, 32, 32);
      const context = target.getContext("2d");
      if (!context) return;
      const image = context.createImageData(32, 32);
      image.data.set(pixels);
      context.putImageData(image, 0, 0);
    } catch {
      // An invalid hash leaves the muted background.
    }
  }, [blurhash]);

  const ratio = width && height ? `${width} / ${height}` : "1 / 1";
  return (
    <div className={cn("relative w-full overflow-hidden bg-muted", className)} style={{ aspectRatio: ratio }}>
      {blurhash ? (
        <canvas ref={canvas} width={32} height={32} aria-hidden="true" className="absolute inset-0 size-full" />
      ) : null}
      {failed ? (
        <div className="absolute inset-0 flex items-center justify-center text-xs text-muted-foreground">
          image unavailable
        </div>
      ) : (
        <img
          src={src}
          srcSet={srcSet}
          sizes={sizes}
          alt={alt}
          width={width ?? undefined}
          height={height ?? undefined}
          loading={loading}
          // Eager pictures are the ones above the fold: fetch them before the lazy ones' placeholders.
          fetchPriority={loading === "eager" ? "high" : "auto"}
          decoding="async"
          onLoad={() => setLoaded(true)}
          onError={() => setFailed(true)}
          className={cn("absolute inset-0 size-full object-cover transition-opacity duration-300", loaded ? "opacity-100" : "opacity-0")}
        />
      )}
    </div>
  );
}
