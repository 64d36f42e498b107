import { useState } from "react";
import { Link } from "react-router";
import { UserAvatar } from "@/components/ui/avatar";
import { Button } from "@/components/ui/button";
import { useCursorPages } from "@/lib/cursor-pages";
import { toast } from "@/lib/toast";
import { plural } from "@/lib/utils";
import { follow, getSuggestions, type Suggestion, unfollow } from "../api/explore";

/** Follow / Following, switched at once and switched back when the API refuses. */
function FollowToggle({ username }: { username: string }) {
  const [following, setFollowing] = useState(false);
  const [busy, setBusy] = useState(false);
  async function toggle() {
    const next = !following;
    setBusy(true);
    setFollowing(next);
    try {
      await (next ? follow(username) : unfollow(username));
    } catch (error) {
      setFollowing(!next);
      toast.error(error, next ? `Could not follow ${username}` : `Could not unfollow ${username}`);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Button variant={following ? "outline" : "default"} size="sm" disabled={busy} onClick={() => void toggle()}
      aria-pressed={following} aria-label={`${following ? "Following" : "Follow"} ${username}`}>
      {following ? "Following" : "Follow"}
    </Button>
  );
}

/** People followed by people the viewer follows, with how many of them (loaded once per visit). */
export function SuggestedPeople() {
  const { items, status } = useCursorPages<Suggestion & { id: string }>("people",
    async (_cursor, signal) => ({ items: (await getSuggestions(signal)).map((s) => ({ ...s, id: s.user.id })) }));
  if (status !== "ready" || items.length === 0) return null; // nothing to suggest before one follows someone
  return (
    <section aria-labelledby="suggested-title" className="grid grid-cols-1 gap-2 px-3 sm:px-0">
      <h2 id="suggested-title" className="text-sm font-semibold text-muted-foreground">Suggested for you</h2>
      <ul className="grid grid-cols-1 gap-1" aria-label="Suggested people">
        {items.map(({ user, mutual_count }) => (
          <li key={user.id} className="flex items-center gap-3 rounded-xl p-2 hover:bg-muted">
            <Link to={`/u/${user.username}`} className="flex min-w-0 flex-1 items-center gap-3">
              <UserAvatar user={user} className="size-11" />
              <div className="min-w-0">
                <p className="truncate text-sm font-semibold">{user.username}</p>
                <p className="line-clamp-2 text-xs text-muted-foreground">Followed by {plural(mutual_count, "person", "people")} you follow</p>
              </div>
            </Link>
            <FollowToggle username={user.username} />
          </li>
        ))}
      </ul>
    </section>
  );
}
