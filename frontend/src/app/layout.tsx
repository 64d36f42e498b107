import { Bell, Compass, Home, LogOut, Moon, PlusSquare, Sun, User, Webhook } from "lucide-react";
import type { ReactNode } from "react";
import { NavLink, Outlet, useNavigate } from "react-router";
import { UserAvatar } from "@/components/ui/avatar";
import { logout } from "@/features/auth";
import { useFeed } from "@/features/feed";
import { NotificationBadge, useNotifications, useUnreadLabel } from "@/features/notifications";
import { useLiveStatus } from "@/lib/live-socket";
import { useSession } from "@/lib/session";
import { useTheme } from "@/lib/theme";
import { cn } from "@/lib/utils";

function ConnectionState() {
  const status = useLiveStatus((s) => s.status);
  if (status === "open" || status === "offline") return null;
  return (
    <span role="status" className="flex items-center gap-1.5 rounded-full bg-muted px-2.5 py-1 text-xs text-muted-foreground">
      <span className="size-1.5 animate-pulse rounded-full bg-amber-500" aria-hidden="true" />
      {status === "connecting" ? "connecting…" : "reconnecting…"}
    </span>
  );
}

function NavItem({ to, label, icon, children, end }: { to: string; label: string; icon: ReactNode; children?: ReactNode; end?: boolean }) {
  return (
    <NavLink
      to={to}
      end={end}
      aria-label={label}
      className={({ isActive }) => cn(
        "relative flex flex-1 items-center justify-center gap-3 rounded-xl p-3 hover:bg-muted md:flex-none md:justify-start",
        isActive && "font-bold [&_svg]:stroke-[2.5]",
      )}
    >
      <span className="relative">{icon}{children}</span>
      <span className="hidden md:inline">{label.replace(/ \(.*\)$/, "")}</span>
    </NavLink>
  );
}

export function Layout() {
  const user = useSession((s) => s.user);
  const { theme, setTheme } = useTheme();
  const navigate = useNavigate();
  const unreadLabel = useUnreadLabel();
  const dark = theme === "dark" || (theme === "system" && document.documentElement.classList.contains("dark"));

  async function signOut() {
    await logout().catch(() => undefined);
    useFeed.getState().reset();
    useNotifications.getState().reset();
    navigate("/login");
  }

  const icon = "size-6";
  return (
    <div className="min-h-dvh md:pl-56">
      <a href="#main" className="sr-only focus:not-sr-only focus:fixed focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-card focus:p-2">Skip to content</a>
      <header className="sticky top-0 z-30 flex h-14 items-center gap-3 border-b border-border bg-background/90 px-4 backdrop-blur md:hidden">
        <span className="bg-gradient-to-r from-amber-500 via-pink-500 to-violet-600 bg-clip-text text-xl font-black text-transparent">kafkagram</span>
        <div className="ml-auto flex items-center gap-1">
          <ConnectionState />
          <button type="button" onClick={() => setTheme(dark ? "light" : "dark")} aria-label={dark ? "Switch to light mode" : "Switch to dark mode"} className="rounded-lg p-2 hover:bg-muted">
            {dark ? <Sun className="size-5" aria-hidden="true" /> : <Moon className="size-5" aria-hidden="true" />}
          </button>
          <NavLink to="/settings/webhooks" aria-label="Webhooks" className="rounded-lg p-2 hover:bg-muted">
            <Webhook className="size-5" aria-hidden="true" />
          </NavLink>
          <button type="button" onClick={() => void signOut()} aria-label="Log out" className="rounded-lg p-2 hover:bg-muted">
            <LogOut className="size-5" aria-hidden="true" />
          </button>
        </div>
      </header>
      <nav aria-label="Main" className="fixed inset-x-0 bottom-0 z-30 flex border-t border-border bg-background/95 px-1 pb-[env(safe-area-inset-bottom)] backdrop-blur md:inset-y-0 md:left-0 md:right-auto md:w-56 md:flex-col md:gap-1 md:border-r md:border-t-0 md:p-3">
        <span className="mb-6 hidden px-3 pt-4 bg-gradient-to-r from-amber-500 via-pink-500 to-violet-600 bg-clip-text text-2xl font-black text-transparent md:block">kafkagram</span>
        <NavItem to="/" end label="Home" icon={<Home className={icon} aria-hidden="true" />} />
        <NavItem to="/explore" label="Explore" icon={<Compass className={icon} aria-hidden="true" />} />
        <NavItem to="/new" label="New post" icon={<PlusSquare className={icon} aria-hidden="true" />} />
        <NavItem to="/notifications" label={unreadLabel} icon={<Bell className={icon} aria-hidden="true" />}>
          <NotificationBadge />
        </NavItem>
        <NavItem to={user ? `/u/${user.username}` : "/"} label="Profile" icon={user ? <UserAvatar user={user} className="size-6" /> : <User className={icon} aria-hidden="true" />} />
        <div className="mt-auto hidden gap-1 md:grid">
          <ConnectionState />
          <NavLink to="/settings/webhooks" className="flex items-center gap-3 rounded-xl p-3 text-sm hover:bg-muted">
            <Webhook className="size-5" aria-hidden="true" /> Webhooks
          </NavLink>
          <button type="button" onClick={() => setTheme(dark ? "light" : "dark")} className="flex items-center gap-3 rounded-xl p-3 text-sm hover:bg-muted">
            {dark ? <Sun className="size-5" aria-hidden="true" /> : <Moon className="size-5" aria-hidden="true" />}
            {dark ? "Light mode" : "Dark mode"}
          </button>
          <button type="button" onClick={() => void signOut()} className="flex items-center gap-3 rounded-xl p-3 text-sm hover:bg-muted">
            <LogOut className="size-5" aria-hidden="true" /> Log out
          </button>
        </div>
      </nav>
      <main id="main" className="mx-auto w-full max-w-xl pb-24 pt-2 sm:px-4 sm:pt-6 md:pb-10">
        <Outlet />
      </main>
    </div>
  );
}
