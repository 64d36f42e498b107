import { useEffect, useRef, useState } from "react";
import { useStore } from "zustand";
import { createCommentsStore } from "../stores/comments";

/** The comments of `postId` (one store per mounted list: render it with `key={postId}`), loaded on mount;
 * `onCountChange` hears each change the list's writes make to the post's comment count. */
export function useComments(postId: string, onCountChange: (by: number) => void) {
  const latest = useRef(onCountChange);
  useEffect(() => {
    latest.current = onCountChange;
  });
  const [store] = useState(() => createCommentsStore(postId));
  useEffect(() => {
    const off = store.subscribe((state, previous) => {
      if (state.countChange !== previous.countChange) latest.current(state.countChange - previous.countChange);
    });
    void store.getState().loadFirst();
    return () => {
      off();
      store.getState().cancel();
    };
  }, [store]);
  return useStore(store);
}
