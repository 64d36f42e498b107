/**
 * The Content-Security-Policy of a production build, as a <meta http-equiv> that `vite.config.ts` puts
 * first in index.html's <head> (a meta policy works wherever `dist/` is served, from any static host).
 *
 * connect-src names the only places the app may talk to: its own origin, the configured HTTP API
 * (`VITE_API_URL`), WebSocket API (`VITE_WS_URL`) and media storage (`KAFKAGRAM_MEDIA_ORIGINS`: the
 * S3 endpoint uploads are POSTed to, and where pictures load from). Unset ones fall back to the local
 * layouts `make up` and Docker Compose use: WebSocket API and S3 on any port of the loopback host
 * (tests use free ports) or of LocalStack's name; a deployment sets all three, so its policy names
 * exactly its own origins. Scripts come only from the build's own files (Vite's module scripts).
 */

export interface CspSources {
  /** VITE_API_URL ("" or unset: the page's own origin). */
  apiUrl?: string;
  /** VITE_WS_URL (unset: the local layout). */
  wsUrl?: string;
  /** KAFKAGRAM_MEDIA_ORIGINS: space- or comma-separated origins (unset: the local layout). */
  mediaOrigins?: string;
}

// CSP host sources have no IPv6 literals: a page on [::1] must configure its endpoints.
export const LOCAL_WS_SOURCES = ["ws://127.0.0.1:*", "ws://localhost:*"];
export const LOCAL_MEDIA_SOURCES = [
  "http://127.0.0.1:*", "http://localhost:*", "http://localhost.localstack.cloud:*",
];

/** The origin of an absolute URL, or an error naming the setting (a typo must fail the build, not the app). */
function originOf(url: string, setting: string, schemes: string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${setting} must be an absolute URL, got ${JSON.stringify(url)}`);
  }
  if (!schemes.includes(parsed.protocol)) throw new Error(`${setting} must start with ${schemes.join(" or ")}//, got ${url}`);
  return `${parsed.protocol}//${parsed.host}`;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

export function contentSecurityPolicy(sources: CspSources): string {
  const api = sources.apiUrl ? [originOf(sources.apiUrl, "VITE_API_URL", ["http:", "https:"])] : [];
  const ws = sources.wsUrl ? [originOf(sources.wsUrl, "VITE_WS_URL", ["ws:", "wss:"])] : LOCAL_WS_SOURCES;
  const media = sources.mediaOrigins?.trim()
    ? sources.mediaOrigins.split(/[\s,]+/).filter(Boolean)
      .map((origin) => originOf(origin, "KAFKAGRAM_MEDIA_ORIGINS", ["http:", "https:"]))
    : LOCAL_MEDIA_SOURCES;
  const directives: Record<string, string[]> = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    // Radix (dialogs' scroll lock) inserts <style> elements; styles cannot carry tokens away.
    "style-src": ["'self'", "'unsafe-inline'"],
    // data:/blob: for the upload previews and the blurhash placeholders.
    "img-src": unique(["'self'", "data:", "blob:", ...media]),
    "font-src": ["'self'", "data:"],
    "connect-src": unique(["'self'", ...api, ...ws, ...media]),
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
  };
  return Object.entries(directives).map(([name, values]) => `${name} ${values.join(" ")}`).join("; ");
}
