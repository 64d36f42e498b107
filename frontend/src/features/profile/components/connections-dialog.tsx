import { useEffect, useState } from "react";
import { Link } from "react-router";
import { UserAvatar } from "@/components/ui/avatar";
import { Button } from "@/components/ui/button";
import { DialogContent } from "@/components/ui/dialog";
import { Spinner } from "@/components/ui/spinner";
import type { UserSummary } from "@/lib/api-types";
import { toast } from "@/lib/toast";
import { listConnections } from "../api/profile";

export function ConnectionsDialog({ username, which }: { username: string; which: "followers" | "following" }) {
  const [users, setUsers] = useState<UserSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);

  async function load(from: string | null) {
    try {
      const page = await listConnections(username, which, from);
      setUsers((current) => (from ? [...current, ...page.items] : page.items));
      setCursor(page.next_cursor ?? null);
    } catch (error) {
      toast.error(error);
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    let live = true;
    listConnections(username, which)
      .then((page) => {
        if (!live) return;
        setUsers(page.items);
        setCursor(page.next_cursor ?? null);
      })
      .catch((error: unknown) => toast.error(error))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [username, which]);

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
      {!loading && cursor ? <Button variant="link" onClick={() => {
        setLoading(true);
        void load(cursor);
      }}>Load more</Button> : null}
    </DialogContent>
  );
}
