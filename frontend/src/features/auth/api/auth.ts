import { api } from "@/lib/api-client";
import type { LoginRequest, Me, RegisterRequest, Session } from "@/lib/api-types";
import { useSession } from "@/lib/session";

export async function register(body: RegisterRequest): Promise<Session> {
  const { data } = await api.post<Session>("/api/auth/register", body);
  useSession.getState().signIn(data);
  return data;
}

export async function login(body: LoginRequest): Promise<Session> {
  const { data } = await api.post<Session>("/api/auth/login", body);
  useSession.getState().signIn(data);
  return data;
}

export async function logout(): Promise<void> {
  const { refreshToken, signOut } = useSession.getState();
  try {
    if (refreshToken) await api.post("/api/auth/logout", { refresh_token: refreshToken });
  } finally {
    signOut();
  }
}

export async function fetchMe(): Promise<Me> {
  const { data } = await api.get<Me>("/api/me");
  useSession.getState().setUser(data);
  return data;
}
