/**
 * How the app loads lists and single resources: the first page replaces the list, a next page appends
 * what is not listed yet, and only the newest load counts (starting one aborts the request before it
 * and drops its answer should it still arrive). Stores (feed, notifications) drive `createCursorPager`
 * over their own state; components use `useCursorPages` / `useResource`, which start again for a new key.
 */
import { useEffect, useRef, useState } from "react";
import { createStore, useStore } from "zustand";
import type { Page } from "./api-types";
import { errorMessage } from "./errors";

export type LoadStatus = "idle" | "loading" | "ready" | "error";

export interface CursorPages<T> {
  items: T[];
  /** Where the next page starts; null after the last one. */
  cursor: string | null;
  /** The first page's: "error" when it could not be loaded. */
  status: LoadStatus;
  loadingMore: boolean;
  /** The last failure, as a message to show. */
  error: string | null;
}

export const NO_PAGES: CursorPages<never> = { items: [], cursor: null, status: "idle", loadingMore: false, error: null };
const LOADING: CursorPages<never> = { ...NO_PAGES, status: "loading" };

export type FetchPage<T> = (cursor: string | null, signal: AbortSignal) => Promise<Page<T>>;

export interface PagerOptions<T> {
  /** Arranges the first page's items before they replace the list. */
  firstPage?: (items: T[]) => T[];
  /** Each failure that no newer load superseded, and which page failed. */
  onError?: (error: unknown, page: "first" | "more") => void;
}

export interface CursorPager {
  /** Loads the first page again; the list stays until it arrives. */
  loadFirst: () => Promise<void>;
  /** Appends the next page; does nothing after the last page or while one is loading. */
  loadMore: () => Promise<void>;
  /** Drops what is in flight. */
  cancel: () => void;
}

/** Paging over state held elsewhere (`read` it, `write` patches to it); failures are written, not thrown. */
export function createCursorPager<T extends { id: string }>(
  fetchPage: FetchPage<T>,
  read: () => CursorPages<T>,
  write: (patch: Partial<CursorPages<T>>) => void,
  { firstPage = (items) => items, onError }: PagerOptions<T> = {},
): CursorPager {
  let controller = new AbortController();

  return {
    async loadFirst() {
      controller.abort();
      controller = new AbortController();
      const { signal } = controller;
      write({ status: "loading", loadingMore: false, error: null });
      try {
        const page = await fetchPage(null, signal);
        if (!signal.aborted) write({ items: firstPage(page.items), cursor: page.next_cursor ?? null, status: "ready" });
      } catch (error) {
        if (signal.aborted) return;
        write({ status: "error", error: errorMessage(error) });
        onError?.(error, "first");
      }
    },
    async loadMore() {
      const { cursor, loadingMore, status } = read();
      const { signal } = controller; // the next first load aborts this page too
      if (!cursor || loadingMore || status === "loading" || signal.aborted) return;
      write({ loadingMore: true, error: null });
      try {
        const page = await fetchPage(cursor, signal);
        if (signal.aborted) return;
        const { items } = read();
        const listed = new Set(items.map((item) => item.id));
        write({ items: [...items, ...page.items.filter((item) => !listed.has(item.id))], cursor: page.next_cursor ?? null, loadingMore: false });
      } catch (error) {
        if (signal.aborted) return;
        write({ loadingMore: false, error: errorMessage(error) });
        onError?.(error, "more");
      }
    },
    cancel: () => controller.abort(),
  };
}

/**
 * The pages of `key` (null: nothing to load), for a component: loads the first page when the key
 * changes, showing no item of the previous key meanwhile. `loading` is true while any page loads;
 * `update` changes the loaded items (an added comment, say).
 */
export function useCursorPages<T extends { id: string }>(key: string | null, fetchPage: FetchPage<T>,
  onError?: (error: unknown) => void) {
  // The newest callbacks, so that a re-render with new closures neither restarts nor loses the load.
  const latest = useRef({ fetchPage, onError });
  useEffect(() => {
    latest.current = { fetchPage, onError };
  });
  const [store] = useState(() => createStore<CursorPages<T> & { key: string | null }>(() => ({ ...NO_PAGES, key: null })));
  const pager = useRef<CursorPager | null>(null);

  useEffect(() => {
    if (key === null) return;
    const keyPager = createCursorPager<T>((cursor, signal) => latest.current.fetchPage(cursor, signal), store.getState,
      store.setState, { onError: (error) => latest.current.onError?.(error) });
    pager.current = keyPager;
    store.setState({ ...NO_PAGES, key });
    void keyPager.loadFirst();
    return keyPager.cancel;
  }, [key, store]);

  const state = useStore(store);
  const pages: CursorPages<T> = state.key === key ? state : key === null ? NO_PAGES : LOADING;
  const loadMore = async () => pager.current?.loadMore();
  const update = (change: (items: T[]) => T[]) => store.setState((current) => ({ items: change(current.items) }));
  return { ...pages, loading: pages.status === "loading" || pages.loadingMore, loadMore, update };
}

/** One object per key, loaded as a page of one so that it resets and drops stale answers the same way. */
export function useResource<T extends { id: string }>(key: string | null, load: (signal: AbortSignal) => Promise<T>) {
  const { items, status, error, update } = useCursorPages<T>(key, async (_cursor, signal) => ({ items: [await load(signal)] }));
  return { data: items[0] ?? null, status, error, update: (change: (data: T) => T) => update((list) => list.map(change)) };
}
