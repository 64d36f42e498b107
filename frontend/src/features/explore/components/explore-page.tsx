import { ExploreGrid } from "./explore-grid";
import { SuggestedPeople } from "./suggested-people";
import { TrendingTags } from "./trending-tags";
import { UserSearch } from "./user-search";

/** Explore: the people search, then trending tags, suggested people and the popular grid. */
export function ExplorePage({ initialQuery = "" }: { initialQuery?: string }) {
  return (
    <div className="grid min-w-0 grid-cols-1 gap-6">
      <UserSearch initial={initialQuery} />
      <TrendingTags />
      <SuggestedPeople />
      <ExploreGrid />
    </div>
  );
}
