/**
 * Where the app finds the HTTP API and the WebSocket API (pictures come with their URLs from the API).
 *
 * Order, per endpoint: a query parameter (`?api=`, `?ws=`, remembered in localStorage so a reload or
 * a new tab keeps it; `?endpoints=reset` forgets them), then the build-time variables `VITE_API_URL` /
 * `VITE_WS_URL`, then defaults derived from the page's location: the API on the same origin, the
 * WebSocket API on the same host at port 3001 with the `local` stage (the layout `make up` uses).
 *
 * Overrides carry every token the app holds (and the next password typed), so a link such as
 * `https://app/?api=https://evil` must not redirect them. A production build honours an override only
 * when it stays on the page's own host: `?api=` must be the page's origin, `?ws=` the page's host name
 * with the page's security (ws: for http:, wss: for https:) on any port (the local layout and the
 * browser tests run the WebSocket API on another port of the same host). Remembered overrides are
 * checked again on every load, so one remembered before this rule (or by a dev build) is dropped. The
 * dev server (`import.meta.env.DEV`) honours any http(s)/ws(s) URL, for pointing it at a deployment.
 * The build's Content-Security-Policy (`csp.ts`) is the second fence.
 */
export interface Endpoints {
  /** Base of the HTTP API ("" = same origin; paths start with /api). */
  api: string;
  /** WebSocket API URL, the stage included, without the token. */
  ws: string;
}

export const ENDPOINTS_KEY = "kafkagram.endpoints";
const NAMES = ["api", "ws"] as const;

interface LocationLike {
  protocol: string;
  /** Host name and port, as `Location.host`. */
  host: string;
  hostname: string;
  search: string;
}

interface BuildEnv {
  VITE_API_URL?: string;
  VITE_WS_URL?: string;
  /** Vite's dev server (true) or a production build (false or unset: the strict rule). */
  DEV?: boolean;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

export function defaultEndpoints(location: LocationLike): Endpoints {
  const secure = location.protocol === "https:";
  const host = location.hostname.includes(":") ? `[${location.hostname}]` : location.hostname;
  return {
    api: "",
    ws: `${secure ? "wss" : "ws"}://${host}:3001/local`,
  };
}

function readStored(storage: Storage | undefined): Partial<Endpoints> {
  try {
    const raw = storage?.getItem(ENDPOINTS_KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : {};
    return typeof parsed === "object" && parsed !== null ? (parsed as Partial<Endpoints>) : {};
  } catch {
    return {};
  }
}

function parseUrl(value: unknown): URL | null {
  if (typeof value !== "string") return null;
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

/** May the app use `value` as endpoint `name` on this page (see the module's comment)? */
export function overrideAllowed(name: "api" | "ws", value: unknown, location: LocationLike, dev: boolean): boolean {
  const url = parseUrl(value);
  if (!url) return false;
  const schemes = name === "ws" ? ["ws:", "wss:"] : ["http:", "https:"];
  if (!schemes.includes(url.protocol)) return false;
  if (dev) return true;
  if (name === "api") return url.protocol === location.protocol && url.host === location.host;
  const secure = location.protocol === "https:";
  return url.protocol === (secure ? "wss:" : "ws:") && url.hostname === location.hostname;
}

export function resolveEndpoints(location: LocationLike, storage: Storage | undefined, env: BuildEnv): Endpoints {
  const params = new URLSearchParams(location.search);
  if (params.get("endpoints") === "reset") storage?.removeItem(ENDPOINTS_KEY);
  const dev = env.DEV === true;
  const stored = readStored(storage);
  const kept: Partial<Endpoints> = {};
  const fromQuery: Partial<Endpoints> = {};
  for (const name of NAMES) {
    if (overrideAllowed(name, stored[name], location, dev)) kept[name] = stored[name];
    const value = params.get(name);
    if (value && overrideAllowed(name, value, location, dev)) fromQuery[name] = trimSlash(value);
  }
  const remembered = { ...kept, ...fromQuery };
  const droppedStored = NAMES.some((name) => stored[name] !== undefined && kept[name] === undefined);
  if (Object.keys(fromQuery).length > 0 || droppedStored) {
    if (Object.keys(remembered).length > 0) storage?.setItem(ENDPOINTS_KEY, JSON.stringify(remembered));
    else storage?.removeItem(ENDPOINTS_KEY);
  }
  const defaults = defaultEndpoints(location);
  return {
    api: remembered.api ?? (env.VITE_API_URL ? trimSlash(env.VITE_API_URL) : defaults.api),
    ws: remembered.ws ?? (env.VITE_WS_URL ? trimSlash(env.VITE_WS_URL) : defaults.ws),
  };
}

/** Removes the endpoint parameters from the address bar once they are remembered. */
function cleanAddressBar(): void {
  const url = new URL(window.location.href);
  let changed = false;
  for (const name of [...NAMES, "endpoints"]) {
    if (url.searchParams.has(name)) {
      url.searchParams.delete(name);
      changed = true;
    }
  }
  if (changed) window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
}

function safeStorage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}

export const endpoints: Endpoints =
  typeof window === "undefined"
    ? { api: "", ws: "ws://127.0.0.1:3001/local" }
    : resolveEndpoints(window.location, safeStorage(), import.meta.env as BuildEnv);

if (typeof window !== "undefined") cleanAddressBar();
