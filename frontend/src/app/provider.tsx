import { useEffect } from "react";
import { RouterProvider } from "react-router";
import { Toaster } from "@/components/ui/toaster";
import { fetchMe } from "@/features/auth";
import { useSession } from "@/lib/session";
import { applyTheme, useTheme } from "@/lib/theme";
import { useLiveUpdates } from "./live";
import { router } from "./router";

export function App() {
  const theme = useTheme((s) => s.theme);
  const signedIn = useSession((s) => Boolean(s.accessToken));
  useLiveUpdates();

  useEffect(() => {
    applyTheme(theme);
    const media = window.matchMedia?.("(prefers-color-scheme: dark)");
    const onChange = () => applyTheme(useTheme.getState().theme);
    media?.addEventListener("change", onChange);
    return () => media?.removeEventListener("change", onChange);
  }, [theme]);

  useEffect(() => {
    // Refreshes the account (counts, avatar) once per sign-in; a dead session signs out here.
    if (signedIn) void fetchMe().catch(() => undefined);
  }, [signedIn]);

  return (
    <>
      <RouterProvider router={router} />
      <Toaster />
    </>
  );
}
