/**
 * Where the app finds the HTTP API and the WebSocket API (pictures come with their URLs from the API).
 *
 * Order, per endpoint: a query parameter (`?api=`, `?ws=`, remembered in localStorage so a reload or
 * a new tab keeps it; `?endpoints=reset` forgets them), then the build-time variables `VITE_API_URL` /
 * `VITE_WS_URL`, then defaults derived from the page's location: the API on the same origin, the
 * WebSocket API on the same host at port 3001 with the `local` stage (the layout `make up` uses).
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
  hostname: string;
  search: string;
}

interface BuildEnv {
  VITE_API_URL?: string;
  VITE_WS_URL?: string;
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

function isUrl(value: string, schemes: string[]): boolean {
  try {
    return schemes.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

export function resolveEndpoints(location: LocationLike, storage: Storage | undefined, env: BuildEnv): Endpoints {
  const params = new URLSearchParams(location.search);
  if (params.get("endpoints") === "reset") storage?.removeItem(ENDPOINTS_KEY);
  const stored = readStored(storage);
  const fromQuery: Partial<Endpoints> = {};
  for (const name of NAMES) {
    const value = params.get(name);
    const schemes = name === "ws" ? ["ws:", "wss:"] : ["http:", "https:"];
    if (value && isUrl(value, schemes)) fromQuery[name] = trimSlash(value);
  }
  const remembered = { ...stored, ...fromQuery };
  if (Object.keys(fromQuery).length > 0) storage?.setItem(ENDPOINTS_KEY, JSON.stringify(remembered));
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
