import { Search } from "lucide-react";
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { UserAvatar } from "@/components/ui/avatar";
import { Input } from "@/components/ui/input";
import { Spinner } from "@/components/ui/spinner";
import type { UserSummary } from "@/lib/api-types";
import { errorMessage } from "@/lib/errors";
import { searchUsers } from "../api/search";
import { useDebounced } from "../hooks/use-debounced";

interface Answer {
  prefix: string;
  users: UserSummary[];
  error: string | null;
}

export function UserSearch({ initial = "" }: { initial?: string }) {
  const [query, setQuery] = useState(initial);
  const prefix = useDebounced(query.trim().replace(/^@/, ""));
  const [answer, setAnswer] = useState<Answer>({ prefix: "", users: [], error: null });

  useEffect(() => {
    if (!prefix) return;
    const controller = new AbortController();
    searchUsers(prefix, controller.signal)
      .then((page) => setAnswer({ prefix, users: page.items, error: null }))
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setAnswer({ prefix, users: [], error: errorMessage(e) });
      });
    return () => controller.abort();
  }, [prefix]);

  const current = prefix !== "" && answer.prefix === prefix;
  const loading = prefix !== "" && !current;
  const results = current ? answer.users : [];
  const error = current ? answer.error : null;

  return (
    <section aria-labelledby="explore-title" className="grid gap-4 px-3 sm:px-0">
      <h1 id="explore-title" className="text-xl font-bold">Explore</h1>
      <div className="relative">
        <Search className="pointer-events-none absolute left-3 top-1/2 size-4 -translate-y-1/2 text-muted-foreground" aria-hidden="true" />
        <label htmlFor="user-search" className="sr-only">Search people by username</label>
        <Input id="user-search" type="search" autoCapitalize="none" placeholder="Search people" value={query} onChange={(e) => setQuery(e.target.value)} className="pl-9" />
      </div>
      {loading ? <Spinner label="Searching" /> : null}
      {error ? <p role="alert" className="text-sm text-destructive">{error}</p> : null}
      {current && results.length === 0 && !error ? <p className="text-sm text-muted-foreground">Nobody's username starts with “{prefix}”.</p> : null}
      {!prefix ? <p className="text-sm text-muted-foreground">Find people by the start of their username.</p> : null}
      <ul className="grid gap-1" aria-label="Search results">
        {results.map((user) => (
          <li key={user.id}>
            <Link to={`/u/${user.username}`} className="flex items-center gap-3 rounded-xl p-2 hover:bg-muted">
              <UserAvatar user={user} className="size-11" />
              <div className="min-w-0">
                <p className="truncate text-sm font-semibold">{user.username}</p>
                {user.display_name ? <p className="truncate text-sm text-muted-foreground">{user.display_name}</p> : null}
              </div>
            </Link>
          </li>
        ))}
      </ul>
    </section>
  );
}
