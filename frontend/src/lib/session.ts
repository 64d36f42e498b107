/**
 * The signed-in session (tokens and the account), shared by the API client, the WebSocket client and
 * the features. Kept in localStorage so a reload stays signed in.
 */
import { create } from "zustand";
import { createJSONStorage, persist } from "zustand/middleware";
import type { Me, Session, Tokens } from "./api-types";

export interface SessionState {
  accessToken: string | null;
  refreshToken: string | null;
  user: Me | null;
  signIn: (session: Session) => void;
  setTokens: (tokens: Tokens) => void;
  setUser: (user: Me) => void;
  signOut: () => void;
}

export const SESSION_KEY = "kafkagram.session";

export const useSession = create<SessionState>()(
  persist(
    (set) => ({
      accessToken: null,
      refreshToken: null,
      user: null,
      signIn: (session) =>
        set({ accessToken: session.access_token, refreshToken: session.refresh_token, user: session.user }),
      setTokens: (tokens) => set({ accessToken: tokens.access_token, refreshToken: tokens.refresh_token }),
      setUser: (user) => set({ user }),
      signOut: () => set({ accessToken: null, refreshToken: null, user: null }),
    }),
    {
      name: SESSION_KEY,
      storage: createJSONStorage(() => localStorage),
      partialize: (state) => ({ accessToken: state.accessToken, refreshToken: state.refreshToken, user: state.user }),
    },
  ),
);

// Another tab refreshed the tokens, signed in or signed out: adopt its session (the `storage` event
// fires only in the other tabs of the origin), so this tab never presents a rotated-away token.
if (typeof window !== "undefined") {
  window.addEventListener("storage", (event) => {
    if (event.key === SESSION_KEY || event.key === null) void useSession.persist.rehydrate();
  });
}
