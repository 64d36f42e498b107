import { Camera, Layers } from "lucide-react";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { UserAvatar } from "@/components/ui/avatar";
import { Button } from "@/components/ui/button";
import { Dialog, DialogTrigger } from "@/components/ui/dialog";
import { Skeleton, Spinner } from "@/components/ui/spinner";
import type { Post } from "@/lib/api-types";
import { useCursorPages, useResource } from "@/lib/cursor-pages";
import { notFoundAs } from "@/lib/errors";
import { imageSources } from "@/lib/media";
import { useSession } from "@/lib/session";
import { toast } from "@/lib/toast";
import { formatCount } from "@/lib/utils";
import { getProfile, getUserPosts } from "../api/profile";
import { useFollow } from "../hooks/use-follow";
import { ConnectionsDialog } from "./connections-dialog";
import { EditProfileDialog } from "./edit-profile-dialog";
import { FollowButton } from "./follow-button";

/** The grid's first row is above the fold: those load at once, the rest as they scroll into view. */
const EAGER_GRID_ITEMS = 3;

function GridItem({ post, eager }: { post: Post; eager: boolean }) {
  const first = post.media[0];
  const sources = first ? imageSources(first, 320) : null;
  return (
    <Link to={`/p/${post.id}`} className="relative block aspect-square overflow-hidden bg-muted" aria-label={`Post: ${post.caption || "photo"}`}>
      {sources ? (
        <img src={sources.src} srcSet={sources.srcSet} sizes="(min-width: 640px) 200px, 33vw" alt={post.caption || `Photo by ${post.author.username}`}
          loading={eager ? "eager" : "lazy"} decoding="async" className="size-full object-cover transition-transform hover:scale-105" />
      ) : null}
      {post.media.length > 1 ? <Layers className="absolute right-1.5 top-1.5 size-4 text-white drop-shadow" aria-hidden="true" /> : null}
    </Link>
  );
}

function Count({ value, label }: { value: number; label: string }) {
  return (
    <span className="grid text-center sm:flex sm:gap-1">
      <strong className="font-semibold">{formatCount(value)}</strong> <span className="text-muted-foreground">{label}</span>
    </span>
  );
}

export function ProfileView({ username }: { username: string }) {
  const me = useSession((s) => s.user);
  const { data: profile, error, update: setProfile } = useResource(username,
    (signal) => getProfile(username, signal).catch(notFoundAs(`There is no user called ${username}.`)));
  const { items: posts, loading: loadingPosts, cursor, loadMore } = useCursorPages(username,
    (from, signal) => getUserPosts(username, from, signal), (e) => toast.error(e, "Could not load the posts"));
  const [editing, setEditing] = useState(false);
  const navigate = useNavigate();
  const follow = useFollow(profile);

  if (error) return <p role="alert" className="p-8 text-center text-sm text-muted-foreground">{error}</p>;
  if (!profile) {
    return (
      <div className="flex items-center gap-6 p-4" aria-busy="true">
        <Skeleton className="size-20 rounded-full" />
        <div className="grid flex-1 gap-2"><Skeleton className="h-5 w-40" /><Skeleton className="h-4 w-56" /></div>
      </div>
    );
  }
  const isMe = me?.id === profile.id;

  return (
    <div className="grid gap-6">
      <header className="grid gap-4 px-4 pt-2 sm:px-0">
        <div className="flex items-center gap-5 sm:gap-8">
          <UserAvatar user={profile} className="size-20 sm:size-28" />
          <div className="grid min-w-0 flex-1 gap-3">
            <div className="flex flex-wrap items-center gap-3">
              <h1 className="truncate text-xl font-semibold">{profile.username}</h1>
              {isMe ? (
                <Dialog open={editing} onOpenChange={setEditing}>
                  <DialogTrigger asChild><Button variant="secondary" size="sm">Edit profile</Button></DialogTrigger>
                  {me ? <EditProfileDialog me={me} onSaved={(saved, close = true) => {
                    setProfile((p) => ({ ...p, username: saved.username, display_name: saved.display_name, bio: saved.bio,
                      avatar_media_id: saved.avatar_media_id, avatar_url: saved.avatar_url }));
                    if (close) setEditing(false);
                    if (saved.username !== username) navigate(`/u/${saved.username}`, { replace: true });
                  }} /> : null}
                </Dialog>
              ) : (
                <FollowButton following={follow.following} pending={follow.pending} onToggle={() => void follow.toggle()} />
              )}
            </div>
            <div className="flex gap-5 text-sm">
              <Count value={profile.posts_count} label="posts" />
              <Dialog>
                <DialogTrigger className="cursor-pointer hover:underline"><Count value={follow.followers} label="followers" /></DialogTrigger>
                <ConnectionsDialog username={profile.username} which="followers" />
              </Dialog>
              <Dialog>
                <DialogTrigger className="cursor-pointer hover:underline"><Count value={profile.following_count} label="following" /></DialogTrigger>
                <ConnectionsDialog username={profile.username} which="following" />
              </Dialog>
            </div>
          </div>
        </div>
        <div className="text-sm">
          {profile.display_name ? <p className="font-semibold">{profile.display_name}</p> : null}
          {profile.bio ? <p className="whitespace-pre-line break-words">{profile.bio}</p> : null}
        </div>
      </header>
      <section aria-label="Posts" className="border-t border-border pt-1">
        {posts.length > 0 ? (
          <div className="grid grid-cols-3 gap-0.5 sm:gap-1">{posts.map((post, index) => <GridItem key={post.id} post={post} eager={index < EAGER_GRID_ITEMS} />)}</div>
        ) : !loadingPosts ? (
          <div className="grid justify-items-center gap-2 p-10 text-center text-muted-foreground">
            <Camera className="size-10" aria-hidden="true" />
            <p className="text-sm">No posts yet.</p>
          </div>
        ) : null}
        {loadingPosts ? <Spinner className="w-full py-6" label="Loading posts" /> : null}
        {!loadingPosts && cursor ? <div className="flex justify-center p-4"><Button variant="outline" onClick={() => void loadMore()}>Load more</Button></div> : null}
      </section>
    </div>
  );
}
