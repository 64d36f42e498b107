import { act, renderHook, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { Page } from "./api-types";
import { createCursorPager, type CursorPages, type FetchPage, NO_PAGES, useCursorPages, useResource } from "./cursor-pages";
import { ApiError, notFoundAs } from "./errors";

interface Item {
  id: string;
}

const items = (...ids: string[]): Item[] => ids.map((id) => ({ id }));

/** A promise settled by the test, to decide which of two requests answers first. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A pager over a plain variable, as a store would hold it. */
function pagerOver(fetchPage: FetchPage<Item>, onError?: (error: unknown, page: "first" | "more") => void) {
  let state: CursorPages<Item> = NO_PAGES;
  const pager = createCursorPager(fetchPage, () => state, (patch) => {
    state = { ...state, ...patch };
  }, { onError });
  return { pager, state: () => state };
}

describe("createCursorPager", () => {
  it("loads the first page, appends the next ones without duplicates and stops after the last", async () => {
    const fetchPage = vi.fn<FetchPage<Item>>()
      .mockResolvedValueOnce({ items: items("3", "2"), next_cursor: "c1" })
      .mockResolvedValueOnce({ items: items("2", "1"), next_cursor: null });
    const { pager, state } = pagerOver(fetchPage);
    await pager.loadFirst();
    await pager.loadMore();
    await pager.loadMore(); // after the last page: no request
    expect(state()).toMatchObject({ items: items("3", "2", "1"), cursor: null, status: "ready", loadingMore: false });
    expect(fetchPage.mock.calls.map(([cursor]) => cursor)).toEqual([null, "c1"]);
  });

  it("keeps only the newest first load: the older request is aborted and its late answer dropped", async () => {
    const older = deferred<Page<Item>>();
    const signals: AbortSignal[] = [];
    const answers = [older.promise, Promise.resolve({ items: items("new"), next_cursor: null })];
    const { pager, state } = pagerOver((_cursor, signal) => {
      signals.push(signal);
      return answers[signals.length - 1]!;
    });
    const first = pager.loadFirst();
    await pager.loadFirst();
    older.resolve({ items: items("old"), next_cursor: "c" });
    await first;
    expect(signals[0]!.aborted).toBe(true);
    expect(state()).toMatchObject({ items: items("new"), cursor: null, status: "ready" });
  });

  it("drops a next page that a new first load overtook", async () => {
    const next = deferred<Page<Item>>();
    const fetchPage = vi.fn<FetchPage<Item>>()
      .mockResolvedValueOnce({ items: items("1"), next_cursor: "c1" })
      .mockReturnValueOnce(next.promise)
      .mockResolvedValueOnce({ items: items("9"), next_cursor: null });
    const { pager, state } = pagerOver(fetchPage);
    await pager.loadFirst();
    const more = pager.loadMore();
    expect(state().loadingMore).toBe(true);
    await pager.loadFirst();
    next.resolve({ items: items("2"), next_cursor: null });
    await more;
    expect(state()).toMatchObject({ items: items("9"), loadingMore: false, status: "ready" });
  });

  it("writes a failure as its message, keeps the list, and says which page failed", async () => {
    const onError = vi.fn();
    const fetchPage = vi.fn<FetchPage<Item>>()
      .mockResolvedValueOnce({ items: items("1"), next_cursor: "c1" })
      .mockRejectedValueOnce(new ApiError(503, "unavailable", "try later"))
      .mockRejectedValueOnce(new Error("offline"));
    const { pager, state } = pagerOver(fetchPage, onError);
    await pager.loadFirst();
    await pager.loadMore();
    expect(state()).toMatchObject({ items: items("1"), cursor: "c1", status: "ready", loadingMore: false, error: "try later" });
    await pager.loadFirst();
    expect(state()).toMatchObject({ items: items("1"), status: "error", error: "offline" });
    expect(onError.mock.calls.map(([, page]) => page)).toEqual(["more", "first"]);
  });

  it("writes nothing once cancelled", async () => {
    const answer = deferred<Page<Item>>();
    const { pager, state } = pagerOver(() => answer.promise);
    const load = pager.loadFirst();
    pager.cancel();
    answer.resolve({ items: items("1"), next_cursor: "c" });
    await load;
    expect(state()).toMatchObject({ items: [], status: "loading" });
    await pager.loadMore();
    expect(state().loadingMore).toBe(false);
  });
});

describe("useCursorPages", () => {
  it("pages a key, then starts again for a new key without showing the old items", async () => {
    const fetchPage = vi.fn(async (key: string, cursor: string | null): Promise<Page<Item>> =>
      cursor ? { items: [{ id: `${key}-2` }], next_cursor: null } : { items: [{ id: `${key}-1` }], next_cursor: "c" });
    const { result, rerender } = renderHook(({ key }) => useCursorPages(key, (cursor) => fetchPage(key, cursor)),
      { initialProps: { key: "a" } });
    expect(result.current).toMatchObject({ items: [], status: "loading", loading: true });
    await waitFor(() => expect(result.current.status).toBe("ready"));
    await act(() => result.current.loadMore());
    expect(result.current).toMatchObject({ items: items("a-1", "a-2"), cursor: null, loading: false });

    rerender({ key: "b" });
    expect(result.current).toMatchObject({ items: [], status: "loading" });
    await waitFor(() => expect(result.current.items).toEqual(items("b-1")));
    expect(fetchPage).toHaveBeenLastCalledWith("b", null);
  });

  it("ignores the answer for the previous key when it comes last", async () => {
    const answers: Record<string, ReturnType<typeof deferred<Page<Item>>>> = { a: deferred(), b: deferred() };
    const { result, rerender } = renderHook(({ key }) => useCursorPages(key, () => answers[key]!.promise),
      { initialProps: { key: "a" } });
    rerender({ key: "b" });
    await act(async () => answers.b!.resolve({ items: items("b"), next_cursor: null }));
    await act(async () => answers.a!.resolve({ items: items("a"), next_cursor: "a-next" }));
    expect(result.current).toMatchObject({ items: items("b"), cursor: null, status: "ready" });
  });

  it("loads nothing for a null key", () => {
    const fetchPage = vi.fn<FetchPage<Item>>();
    const { result } = renderHook(() => useCursorPages(null, fetchPage));
    expect(result.current).toMatchObject({ items: [], status: "idle", loading: false });
    expect(fetchPage).not.toHaveBeenCalled();
  });

  it("shows a failed first page as an error and tells onError", async () => {
    const onError = vi.fn();
    const { result } = renderHook(() => useCursorPages("a", () => Promise.reject(new Error("offline")), onError));
    await waitFor(() => expect(result.current).toMatchObject({ status: "error", error: "offline", loading: false }));
    expect(onError).toHaveBeenCalledWith(new Error("offline"));
  });

  it("changes the loaded items in place", async () => {
    const { result } = renderHook(() => useCursorPages("a", async () => ({ items: items("1"), next_cursor: null })));
    await waitFor(() => expect(result.current.status).toBe("ready"));
    act(() => result.current.update((list) => [...list, { id: "2" }]));
    expect(result.current.items).toEqual(items("1", "2"));
  });
});

describe("useResource", () => {
  it("loads one object per key and lets it be changed", async () => {
    const { result, rerender } = renderHook(({ id }) => useResource(id, async () => ({ id, likes: 1 })),
      { initialProps: { id: "7" } });
    expect(result.current.data).toBeNull();
    await waitFor(() => expect(result.current.data).toEqual({ id: "7", likes: 1 }));
    act(() => result.current.update((post) => ({ ...post, likes: post.likes + 1 })));
    expect(result.current.data).toEqual({ id: "7", likes: 2 });
    rerender({ id: "8" });
    expect(result.current).toMatchObject({ data: null, status: "loading" });
    await waitFor(() => expect(result.current.data).toEqual({ id: "8", likes: 1 }));
  });

  it("shows a 404 as the caller's sentence and other errors as they are", async () => {
    const answer = (status: number) => Promise.reject(new ApiError(status, "refused", `the API's ${status}`));
    const { result } = renderHook(() => useResource("7", () => answer(404).catch(notFoundAs("This post was deleted."))));
    await waitFor(() => expect(result.current).toMatchObject({ status: "error", error: "This post was deleted." }));
    await expect(answer(403).catch(notFoundAs("gone"))).rejects.toMatchObject({ status: 403, message: "the API's 403" });
  });
});
