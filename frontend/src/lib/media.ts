import type { PostMedia } from "./api-types";

export interface ImageSources {
  src: string;
  srcSet: string;
  width: number | null;
  height: number | null;
}

/**
 * `src` (the smallest variant at least `fallbackWidth` wide) and a `srcset` of every variant, from the
 * URLs the API gives (the media CDN, or the S3 endpoint locally).
 */
export function imageSources(media: PostMedia, fallbackWidth = 640): ImageSources | null {
  const variants = [...media.variants].sort((a, b) => a.width - b.width);
  if (variants.length === 0) return null;
  const fallback = variants.find((v) => v.width >= fallbackWidth) ?? variants[variants.length - 1]!;
  return {
    src: fallback.url,
    srcSet: variants.map((v) => `${v.url} ${v.width}w`).join(", "),
    width: media.width ?? fallback.width,
    height: media.height ?? fallback.height,
  };
}
