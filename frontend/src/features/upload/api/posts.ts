import { api } from "@/lib/api-client";
import type { CreatePostRequest, Post } from "@/lib/api-types";
import { getPost } from "@/lib/posts";

export function createPost(body: CreatePostRequest): Promise<Post> {
  return api.post("/api/posts", { body });
}

/** Polls the new post until its media are processed (published), with growing intervals. */
export async function waitUntilPublished(id: string, signal: AbortSignal, timeoutMs = 120_000): Promise<Post> {
  const deadline = Date.now() + timeoutMs;
  let delay = 500;
  for (;;) {
    const post = await getPost(id, signal);
    if (post.status === "published") return post;
    if (post.status === "failed") {
      const reason = post.failure_reason ? ` (${post.failure_reason.replace(/-/g, " ")})` : "";
      throw new Error(`a picture of this post could not be processed${reason}; try another picture`);
    }
    if (post.status !== "pending") throw new Error(`the post could not be published (${post.status})`);
    if (Date.now() > deadline) throw new Error("processing takes longer than expected; the post will appear when ready");
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, delay);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(new DOMException("aborted", "AbortError"));
      }, { once: true });
    });
    delay = Math.min(3000, delay * 1.5);
  }
}
