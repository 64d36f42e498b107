import { type ComponentType, lazy, type ReactElement, Suspense } from "react";
import { createBrowserRouter, Navigate, Outlet, useLocation, useRouteError } from "react-router";
import { Button } from "@/components/ui/button";
import { PageSpinner } from "@/components/ui/spinner";
import { useSession } from "@/lib/session";
import { Layout } from "./layout";

/**
 * A route's page in its own chunk, fetched on its first visit (the first load carries only the shell:
 * the router, the layout, the session and the live updates); the shared fallback shows meanwhile, and a
 * chunk that fails to load reaches the route's errorElement. A new route: one module under ./routes and
 * `page(() => import("./routes/x"), (m) => m.XRoute)`.
 */
function page<M>(load: () => Promise<M>, pick: (module: M) => ComponentType): ReactElement {
  const Page = lazy(async () => ({ default: pick(await loadChunk(load)) }));
  return <Suspense fallback={<PageSpinner />}><Page /></Suspense>;
}

const RELOADED_KEY = "kafkagram.chunk-reload";

/** A page's chunk; when it is gone because a newer build replaced this one's files (a deploy while the
 * tab was open), the page reloads once to get the new build rather than showing the error. */
async function loadChunk<M>(load: () => Promise<M>): Promise<M> {
  try {
    const module = await load();
    sessionStorage.removeItem(RELOADED_KEY);
    return module;
  } catch (error) {
    if (sessionStorage.getItem(RELOADED_KEY)) throw error; // reloading did not help: the route's error page
    sessionStorage.setItem(RELOADED_KEY, "1");
    window.location.reload();
    return new Promise<M>(() => undefined); // the fallback stays until the reload
  }
}

const auth = () => import("./routes/auth");
const pages = () => import("./routes/pages");

function RequireAuth() {
  const signedIn = useSession((s) => Boolean(s.accessToken));
  const location = useLocation();
  if (!signedIn) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  return <Outlet />;
}

/** Never a blank page: a render error shows this, with a way back. */
function RouteError() {
  const error = useRouteError();
  return (
    <div role="alert" className="grid min-h-dvh place-content-center justify-items-center gap-3 p-6 text-center">
      <p className="text-lg font-semibold">Something went wrong</p>
      <p className="max-w-sm text-sm text-muted-foreground">{error instanceof Error ? error.message : "An unexpected error happened."}</p>
      <Button onClick={() => window.location.assign("/")}>Back to the feed</Button>
    </div>
  );
}

export const router = createBrowserRouter([
  { path: "/login", element: page(auth, (m) => m.LoginRoute), errorElement: <RouteError /> },
  { path: "/register", element: page(auth, (m) => m.RegisterRoute), errorElement: <RouteError /> },
  // The link mailed at registration: public, since it may be opened signed out or on another device.
  { path: "/verify-email", element: page(auth, (m) => m.VerifyEmailRoute), errorElement: <RouteError /> },
  {
    element: <RequireAuth />,
    errorElement: <RouteError />,
    children: [
      {
        element: <Layout />,
        children: [
          { index: true, element: page(() => import("./routes/home"), (m) => m.HomeRoute) },
          { path: "explore", element: page(pages, (m) => m.ExploreRoute) },
          { path: "new", element: page(() => import("./routes/new-post"), (m) => m.NewPostRoute) },
          { path: "notifications", element: page(() => import("./routes/notifications"), (m) => m.NotificationsRoute) },
          { path: "p/:postId", element: page(() => import("./routes/post"), (m) => m.PostRoute) },
          { path: "u/:username", element: page(() => import("./routes/profile"), (m) => m.ProfileRoute) },
          { path: "t/:tag", element: page(() => import("./routes/tag"), (m) => m.TagRoute) },
          { path: "settings/webhooks", element: page(() => import("./routes/webhooks"), (m) => m.WebhooksRoute) },
          { path: "*", element: page(pages, (m) => m.NotFoundRoute) },
        ],
      },
    ],
  },
]);
