import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Comment, CommentPage } from "@/lib/api-types";
import { useToasts } from "@/lib/toast";
import { type CommentRequests, createCommentsStore } from "./comments";

const ada = { id: "1", username: "ada", display_name: "Ada", avatar_media_id: null, avatar_url: null };

function comment(id: string, body = `comment ${id}`): Comment {
  return { id, post_id: "7", author: ada, body, created_at: "2026-12-06T12:00:00Z" };
}

/** Answers under the test's control: each request waits until the test settles it. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

function requests(first: CommentPage = { items: [comment("1")], next_cursor: null }) {
  return {
    list: vi.fn<CommentRequests["list"]>().mockResolvedValue(first),
    add: vi.fn<CommentRequests["add"]>(),
    remove: vi.fn<CommentRequests["remove"]>(),
  };
}

/** Each change of the post's comment count, in order. */
function countChanges(comments: ReturnType<typeof createCommentsStore>): number[] {
  const changes: number[] = [];
  comments.subscribe((state, previous) => {
    if (state.countChange !== previous.countChange) changes.push(state.countChange - previous.countChange);
  });
  return changes;
}

beforeEach(() => useToasts.setState({ toasts: [] }));

describe("comments store", () => {
  it("shows a new comment at once, pending, then the server's copy in its place", async () => {
    const api = requests();
    const comments = createCommentsStore("7", api);
    const counts = countChanges(comments);
    await comments.getState().loadFirst();
    const answer = deferred<Comment>();
    api.add.mockReturnValueOnce(answer.promise);

    const added = comments.getState().add("What a view!", ada);
    const [, pending] = comments.getState().items;
    expect(pending).toMatchObject({ body: "What a view!", pending: true, author: { username: "ada" } });
    expect(counts).toEqual([1]);
    expect(api.add).toHaveBeenCalledWith("7", "What a view!");

    answer.resolve(comment("42", "What a view!"));
    await expect(added).resolves.toBe(true);
    expect(comments.getState().items.map((c) => [c.id, c.pending])).toEqual([["1", undefined], ["42", undefined]]);
    expect(counts).toEqual([1]);
  });

  it("removes a refused comment, gives the count back and says why", async () => {
    const api = requests();
    const comments = createCommentsStore("7", api);
    const counts = countChanges(comments);
    await comments.getState().loadFirst();
    api.add.mockRejectedValueOnce(new Error("offline"));

    await expect(comments.getState().add("lost", ada)).resolves.toBe(false);
    expect(comments.getState().items.map((c) => c.id)).toEqual(["1"]);
    expect(counts).toEqual([1, -1]);
    expect(useToasts.getState().toasts).toMatchObject([{ kind: "error", title: "Could not add the comment", message: "offline" }]);
  });

  it("keeps a comment sent while the first page loads", async () => {
    const api = requests();
    const page = deferred<CommentPage>();
    api.list.mockReturnValueOnce(page.promise);
    api.add.mockResolvedValueOnce(comment("42", "early"));
    const comments = createCommentsStore("7", api);
    const loading = comments.getState().loadFirst();
    const added = comments.getState().add("early", ada);
    page.resolve({ items: [comment("1")], next_cursor: null });
    await loading;
    await added;
    expect(comments.getState().items.map((c) => c.id)).toEqual(["1", "42"]);
  });

  it("deletes at once and puts the comment back in its place when the API refuses", async () => {
    const api = requests({ items: [comment("1"), comment("2"), comment("3")], next_cursor: null });
    const comments = createCommentsStore("7", api);
    const counts = countChanges(comments);
    await comments.getState().loadFirst();
    const answer = deferred<void>();
    api.remove.mockReturnValueOnce(answer.promise);

    const removing = comments.getState().remove(comments.getState().items[1]!);
    expect(comments.getState().items.map((c) => c.id)).toEqual(["1", "3"]);
    answer.reject(new Error("server error"));
    await removing;
    expect(comments.getState().items.map((c) => c.id)).toEqual(["1", "2", "3"]);
    expect(counts).toEqual([-1, 1]);
    expect(useToasts.getState().toasts).toMatchObject([{ kind: "error", title: "Could not delete the comment" }]);
  });
});
