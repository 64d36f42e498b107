import { useNavigate, useParams } from "react-router";
import { useFeed } from "@/features/feed";
import { PostDetail } from "@/features/posts";
import { useSession } from "@/lib/session";

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
