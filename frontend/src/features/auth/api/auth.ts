import { api } from "@/lib/api-client";
import type { LoginRequest, Me, RegisterRequest, Session } from "@/lib/api-types";
import { useSession } from "@/lib/session";

export async function register(body: RegisterRequest): Promise<Session> {
  const session = await api.post("/api/auth/register", { body });
  useSession.getState().signIn(session);
  return session;
}

export async function login(body: LoginRequest): Promise<Session> {
  const session = await api.post("/api/auth/login", { body });
  useSession.getState().signIn(session);
  return session;
}

export async function logout(): Promise<void> {
  const { refreshToken, signOut } = useSession.getState();
  try {
    if (refreshToken) await api.post("/api/auth/logout", { body: { refresh_token: refreshToken } });
  } finally {
    signOut();
  }
}

export async function fetchMe(): Promise<Me> {
  const me = await api.get("/api/me");
  useSession.getState().setUser(me);
  return me;
}
