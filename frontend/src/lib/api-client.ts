/**
 * The one HTTP client: base URL from the endpoints, the access token on every request, one refresh on
 * a 401 (concurrent 401s share it) and errors normalised to ApiError; `api` types its calls from the
 * OpenAPI schema.
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

const AUTH_PATHS = ["/api/auth/login", "/api/auth/register", "/api/auth/refresh", "/api/auth/logout"];
const REFRESHABLE = new Set(["token-expired", "invalid-token", "missing-token"]);

export function createApiClient(baseURL: string): AxiosInstance {
  const client = axios.create({ baseURL, timeout: 30_000, headers: { Accept: "application/json" } });
  let refreshing: Promise<string> | null = null;

  async function refreshTokens(): Promise<string> {
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
      refreshing ??= refreshTokens().finally(() => {
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
