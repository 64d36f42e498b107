import { api } from "@/lib/api-client";
import type { EmailVerified, LoginRequest, Me, RegisterRequest, Session } from "@/lib/api-types";
import { ApiError } from "@/lib/errors";
import { useSession } from "@/lib/session";

/** Registration answers alike whether or not the email already had an account (it never says), so
 * the new account is signed in by logging in with what was just typed. */
export async function register(body: RegisterRequest): Promise<Session> {
  await api.post("/api/auth/register", { body });
  try {
    return await login({ username: body.username, password: body.password });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      throw new ApiError(409, "not-registered", "No account was created with these details. If this email " +
        "already has an account, log in to it instead.");
    }
    throw error;
  }
}

/** Confirms the email address with the token from the link mailed at registration. */
export async function verifyEmail(token: string): Promise<EmailVerified> {
  return api.post("/api/auth/verify-email", { body: { token } });
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
