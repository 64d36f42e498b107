import { Link } from "react-router";
import { FeedList } from "@/features/feed";
import { PostCard } from "@/features/posts";

export function HomeRoute() {
  return (
    <FeedList
      renderPost={(post, index) => <PostCard post={post} eager={index < 2} />}
      empty={
        <div className="grid justify-items-center gap-2 rounded-2xl border border-border p-10 text-center">
          <p className="font-semibold">Your feed is empty</p>
          <p className="text-sm text-muted-foreground">Follow people to see their photos here, as they post them.</p>
          <Link to="/explore" className="text-sm font-semibold text-primary hover:underline">Find people to follow</Link>
        </div>
      }
    />
  );
}
