import { useState } from "react";
import { Button } from "@/components/ui/button";
import { toast } from "@/lib/toast";
import { follow, unfollow } from "../api/profile";

/** Follow / Following with an optimistic switch, rolled back when the API refuses. */
export function FollowButton({ username, following, onChange }: { username: string; following: boolean; onChange: (following: boolean) => void }) {
  const [busy, setBusy] = useState(false);
  async function toggle() {
    const next = !following;
    setBusy(true);
    onChange(next);
    try {
      await (next ? follow(username) : unfollow(username));
    } catch (error) {
      onChange(!next);
      toast.error(error, next ? `Could not follow ${username}` : `Could not unfollow ${username}`);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Button variant={following ? "outline" : "default"} size="sm" disabled={busy} onClick={() => void toggle()} aria-pressed={following}>
      {following ? "Following" : "Follow"}
    </Button>
  );
}
