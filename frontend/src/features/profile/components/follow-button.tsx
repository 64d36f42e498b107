import { Button } from "@/components/ui/button";

/** Follow / Following; the switch is optimistic (stores/follows.ts), so the button never waits. */
export function FollowButton({ following, pending, onToggle }: { following: boolean; pending: boolean; onToggle: () => void }) {
  return (
    <Button variant={following ? "outline" : "default"} size="sm" onClick={onToggle} aria-pressed={following}
      aria-busy={pending || undefined}>
      {following ? "Following" : "Follow"}
    </Button>
  );
}
