import { Link } from "react-router";
import { UserAvatar } from "@/components/ui/avatar";
import { Button } from "@/components/ui/button";
import { DialogContent } from "@/components/ui/dialog";
import { Spinner } from "@/components/ui/spinner";
import { useCursorPages } from "@/lib/cursor-pages";
import { toast } from "@/lib/toast";
import { listConnections } from "../api/profile";

export function ConnectionsDialog({ username, which }: { username: string; which: "followers" | "following" }) {
  const { items: users, loading, cursor, loadMore } = useCursorPages(`${which}/${username}`,
    (from, signal) => listConnections(username, which, from, signal), (error) => toast.error(error));

  return (
    <DialogContent title={which === "followers" ? "Followers" : "Following"}>
      <ul className="grid gap-1">
        {users.map((user) => (
          <li key={user.id}>
            <Link to={`/u/${user.username}`} className="flex items-center gap-3 rounded-lg p-2 hover:bg-muted">
              <UserAvatar user={user} />
              <div className="min-w-0">
                <p className="truncate text-sm font-semibold">{user.username}</p>
                {user.display_name ? <p className="truncate text-xs text-muted-foreground">{user.display_name}</p> : null}
              </div>
            </Link>
          </li>
        ))}
      </ul>
      {loading ? <Spinner /> : null}
      {!loading && users.length === 0 ? <p className="text-sm text-muted-foreground">Nobody yet.</p> : null}
      {!loading && cursor ? <Button variant="link" onClick={() => void loadMore()}>Load more</Button> : null}
    </DialogContent>
  );
}
