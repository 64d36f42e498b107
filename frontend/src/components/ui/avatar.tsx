import * as AvatarPrimitive from "@radix-ui/react-avatar";
import { cn } from "@/lib/utils";

interface UserAvatarProps {
  user: { username: string; display_name?: string; avatar_url?: string | null };
  className?: string;
}

/** The user's avatar (the API's `avatar_url`), or their initials without one or while it loads. */
export function UserAvatar({ user, className }: UserAvatarProps) {
  const name = user.display_name || user.username;
  const initials = name
    .split(/\s+/)
    .map((part) => part[0] ?? "")
    .join("")
    .slice(0, 2)
    .toUpperCase();
  return (
    <AvatarPrimitive.Root
      className={cn("relative inline-flex size-9 shrink-0 overflow-hidden rounded-full bg-muted", className)}
    >
      {user.avatar_url ? (
        <AvatarPrimitive.Image
          className="size-full object-cover"
          src={user.avatar_url}
          alt={`${name}'s avatar`}
        />
      ) : null}
      <AvatarPrimitive.Fallback
        className="flex size-full items-center justify-center bg-gradient-to-br from-amber-400 via-pink-500 to-violet-600 text-xs font-bold text-white"
        aria-label={`${name}'s avatar`}
      >
        {initials}
      </AvatarPrimitive.Fallback>
    </AvatarPrimitive.Root>
  );
}
