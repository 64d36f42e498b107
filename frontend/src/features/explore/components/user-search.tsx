import { Search } from "lucide-react";
import { useState } from "react";
import { Link } from "react-router";
import { UserAvatar } from "@/components/ui/avatar";
import { Input } from "@/components/ui/input";
import { Spinner } from "@/components/ui/spinner";
import { useCursorPages } from "@/lib/cursor-pages";
import { searchUsers } from "../api/search";
import { useDebounced } from "../hooks/use-debounced";

export function UserSearch({ initial = "" }: { initial?: string }) {
  const [query, setQuery] = useState(initial);
  const prefix = useDebounced(query.trim().replace(/^@/, ""));
  // The first page only: a longer prefix is the way to narrow down.
  const { items: results, status, loading, error } = useCursorPages(prefix || null,
    (cursor, signal) => searchUsers(prefix, cursor, signal));

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
      {status === "ready" && results.length === 0 ? <p className="text-sm text-muted-foreground">Nobody's username starts with “{prefix}”.</p> : null}
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
