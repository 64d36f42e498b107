import { useNavigate, useParams, useSearchParams } from "react-router";
import { UserSearch } from "@/features/explore";
import { useFeed } from "@/features/feed";
import { NotificationList } from "@/features/notifications";
import { PostDetail } from "@/features/posts";
import { ProfileView } from "@/features/profile";
import { CreatePostForm } from "@/features/upload";
import { useSession } from "@/lib/session";
import { toast } from "@/lib/toast";

export function NewPostRoute() {
  const navigate = useNavigate();
  return (
    <section aria-labelledby="new-post-title" className="grid gap-4 px-3 sm:px-0">
      <h1 id="new-post-title" className="text-xl font-bold">New post</h1>
      <CreatePostForm
        onPublished={(post) => {
          useFeed.getState().prepend(post);
          toast.info("Your post is live.");
          navigate("/");
        }}
      />
    </section>
  );
}

export function PostRoute() {
  const { postId = "" } = useParams();
  const navigate = useNavigate();
  const me = useSession((s) => s.user);
  return (
    <PostDetail
      key={postId}
      postId={postId}
      onDeleted={() => {
        useFeed.getState().announce("removed", [postId]);
        navigate(me ? `/u/${me.username}` : "/", { replace: true });
      }}
    />
  );
}

export function ProfileRoute() {
  const { username = "" } = useParams();
  return <ProfileView key={username} username={username} />;
}

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
      <UserSearch initial={params.get("q") ?? ""} />
    </div>
  );
}

export function NotificationsRoute() {
  return <div className="px-0"><NotificationList /></div>;
}

export function NotFoundRoute() {
  return <p className="p-10 text-center text-sm text-muted-foreground">This page does not exist.</p>;
}
