import { useNavigate } from "react-router";
import { useFeed } from "@/features/feed";
import { CreatePostForm } from "@/features/upload";
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
