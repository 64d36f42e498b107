import { useSearchParams } from "react-router";
import { ExplorePage } from "@/features/explore";

export function ExploreRoute() {
  const [params] = useSearchParams();
  const tag = params.get("tag");
  return (
    <div className="grid gap-4">
      {tag ? (
        <p role="note" className="mx-3 rounded-xl border border-border bg-card p-3 text-sm text-muted-foreground sm:mx-0">
          Posts tagged <strong className="text-foreground">#{tag}</strong> cannot be listed yet: the API searches people only.
        </p>
      ) : null}
      <ExplorePage initialQuery={params.get("q") ?? ""} />
    </div>
  );
}

export function NotFoundRoute() {
  return <p className="p-10 text-center text-sm text-muted-foreground">This page does not exist.</p>;
}
