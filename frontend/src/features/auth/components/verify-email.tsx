import { useEffect, useRef, useState } from "react";
import { Spinner } from "@/components/ui/spinner";
import { toApiError } from "@/lib/errors";
import { verifyEmail } from "../api/auth";

type State = { step: "verifying" } | { step: "verified"; email: string } | { step: "failed"; message: string };

/** The token of a /verify-email link: in the fragment (`#token=`), which no server sees, or `?token=`. */
export function tokenFromLocation(location: { hash: string; search: string }): string | null {
  const fromHash = new URLSearchParams(location.hash.replace(/^#/, "")).get("token");
  return fromHash || new URLSearchParams(location.search).get("token");
}

/** Confirms the address of the link mailed at registration; works signed in or not (the token is the proof). */
export function VerifyEmail() {
  const [state, setState] = useState<State>(() =>
    tokenFromLocation(window.location) ? { step: "verifying" } : { step: "failed", message: "This link has no token: open the whole link from the email." });
  const sent = useRef(false);

  useEffect(() => {
    const token = tokenFromLocation(window.location);
    if (!token || sent.current) return; // StrictMode runs effects twice; one request is enough
    sent.current = true;
    // The token has done its work once sent: keep it out of the history and of screenshots.
    window.history.replaceState(window.history.state, "", window.location.pathname);
    verifyEmail(token)
      .then((verified) => setState({ step: "verified", email: verified.email }))
      .catch((error: unknown) => setState({ step: "failed", message: toApiError(error).message }));
  }, []);

  if (state.step === "verifying") return <Spinner label="Confirming your email address" />;
  if (state.step === "verified") {
    return <p role="status" className="text-sm">Your email address <strong>{state.email}</strong> is confirmed.</p>;
  }
  return <p role="alert" className="text-sm text-destructive">{state.message}</p>;
}
