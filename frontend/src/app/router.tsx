import { createBrowserRouter, Navigate, Outlet, useLocation, useRouteError } from "react-router";
import { Button } from "@/components/ui/button";
import { useSession } from "@/lib/session";
import { Layout } from "./layout";
import { LoginRoute, RegisterRoute, VerifyEmailRoute } from "./routes/auth";
import { HomeRoute } from "./routes/home";
import { ExploreRoute, NewPostRoute, NotFoundRoute, NotificationsRoute, PostRoute, ProfileRoute } from "./routes/pages";

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
  { path: "/login", element: <LoginRoute />, errorElement: <RouteError /> },
  { path: "/register", element: <RegisterRoute />, errorElement: <RouteError /> },
  // The link mailed at registration: public, since it may be opened signed out or on another device.
  { path: "/verify-email", element: <VerifyEmailRoute />, errorElement: <RouteError /> },
  {
    element: <RequireAuth />,
    errorElement: <RouteError />,
    children: [
      {
        element: <Layout />,
        children: [
          { index: true, element: <HomeRoute /> },
          { path: "explore", element: <ExploreRoute /> },
          { path: "new", element: <NewPostRoute /> },
          { path: "notifications", element: <NotificationsRoute /> },
          { path: "p/:postId", element: <PostRoute /> },
          { path: "u/:username", element: <ProfileRoute /> },
          { path: "*", element: <NotFoundRoute /> },
        ],
      },
    ],
  },
]);
