/**
 * The one HTTP client: base URL from the endpoints, the access token on every request, one refresh on
 * a 401 (concurrent 401s share it) and errors normalised to ApiError; `api` types its calls from the
 * OpenAPI schema.
 *
 * Tabs share one session (localStorage) and each refresh rotates the refresh token: a tab presenting
 * the token another tab just rotated away would trip the server's reuse detection and revoke the
 * session for every tab. So a refresh runs under a Web Lock shared by the origin's tabs, and re-reads
 * the stored session once it holds the lock: when another tab refreshed meanwhile, it takes that tab's
 * tokens instead of refreshing again. The re-read can still come too early: Chromium hands one tab's
 * localStorage writes to the other tabs' processes asynchronously, so the lock may arrive first. The
 * server covers that: for a short grace window after a rotation, the token it replaced gets the current
 * one back instead of revoking the session. Without Web Locks (an insecure http: origin other than
 * localhost) only the re-read and the grace window are left.
 */
import axios, { type AxiosError, type AxiosInstance, type InternalAxiosRequestConfig } from "axios";
import type { Tokens } from "./api-types";
import { endpoints } from "./config";
import { ApiError, toApiError } from "./errors";
import { useSession } from "./session";
import { createTypedApi } from "./typed-api";

interface RetriableConfig extends InternalAxiosRequestConfig {
  _retried?: boolean;
}

/** Runs `task` while holding the lock `name`, exclusive across this origin's tabs. */
export type TabLock = <T>(name: string, task: () => Promise<T>) => Promise<T>;

export const REFRESH_LOCK = "kafkagram.refresh";

/** `navigator.locks` where the browser has it; otherwise no lock (see the module's comment). */
export const browserLock: TabLock = (name, task) => {
  const locks = typeof navigator === "undefined" ? undefined : navigator.locks;
  return locks ? locks.request(name, task) : task();
};

export interface ApiClientOptions {
  lock?: TabLock;
}

/** The token a request was sent with, from its Authorization header. */
function bearerOf(config: InternalAxiosRequestConfig): string | null {
  const header = config.headers.get("Authorization");
  return typeof header === "string" && header.startsWith("Bearer ") ? header.slice(7) : null;
}

const AUTH_PATHS = ["/api/auth/login", "/api/auth/register", "/api/auth/refresh", "/api/auth/logout"];
const REFRESHABLE = new Set(["token-expired", "invalid-token", "missing-token"]);

export function createApiClient(baseURL: string, options: ApiClientOptions = {}): AxiosInstance {
  const client = axios.create({ baseURL, timeout: 30_000, headers: { Accept: "application/json" } });
  const lock = options.lock ?? browserLock;
  let refreshing: Promise<string> | null = null;

  /** A fresh access token in place of `refused` (the one the server turned down). */
  function refreshTokens(refused: string | null): Promise<string> {
    return lock(REFRESH_LOCK, async () => {
      // Another tab may have refreshed (or signed out) while this one waited for the lock.
      await useSession.persist.rehydrate();
      const { accessToken } = useSession.getState();
      if (accessToken && accessToken !== refused) return accessToken;
      return rotate();
    });
  }

  async function rotate(): Promise<string> {
    const { refreshToken } = useSession.getState();
    if (!refreshToken) throw new ApiError(401, "session-expired", "your session has ended; log in again");
    try {
      // A bare request: it must not go through this client's own 401 handling.
      const { data } = await axios.post<Tokens>(`${baseURL}/api/auth/refresh`, { refresh_token: refreshToken },
        { timeout: 30_000 });
      useSession.getState().setTokens(data);
      return data.access_token;
    } catch (error) {
      const apiError = toApiError(error);
      if (apiError.status === 401 || apiError.status === 400) {
        useSession.getState().signOut();
        throw new ApiError(401, "session-expired", "your session has ended; log in again");
      }
      throw apiError;
    }
  }

  client.interceptors.request.use((config) => {
    const token = useSession.getState().accessToken;
    if (token && !config.headers.has("Authorization")) config.headers.set("Authorization", `Bearer ${token}`);
    return config;
  });

  client.interceptors.response.use(undefined, async (error: AxiosError) => {
    const config = error.config as RetriableConfig | undefined;
    const data = error.response?.data as { error?: string } | undefined;
    const isAuthRoute = AUTH_PATHS.some((path) => config?.url?.endsWith(path));
    if (error.response?.status === 401 && config && !config._retried && !isAuthRoute &&
        REFRESHABLE.has(data?.error ?? "") && useSession.getState().refreshToken) {
      config._retried = true;
      refreshing ??= refreshTokens(bearerOf(config)).finally(() => {
        refreshing = null;
      });
      const token = await refreshing;
      config.headers.set("Authorization", `Bearer ${token}`);
      return client.request(config);
    }
    throw toApiError(error);
  });
  return client;
}

export const api = createTypedApi(createApiClient(endpoints.api));
