/** The files picked for a new post and the state of each one's upload. */
import { create } from "zustand";
import { refuseReason } from "@/lib/uploads";

export type UploadStatus = "ready" | "uploading" | "uploaded" | "failed";

export interface UploadItem {
  key: string;
  file: File;
  preview: string;
  progress: number; // 0..1
  status: UploadStatus;
  error?: string;
  mediaId?: string;
}

export const MAX_FILES = 10;

interface UploadState {
  items: UploadItem[];
  refused: string[];
  add: (files: File[]) => void;
  remove: (key: string) => void;
  update: (key: string, patch: Partial<UploadItem>) => void;
  clear: () => void;
}

let counter = 0;
const preview = (file: File) => (typeof URL.createObjectURL === "function" ? URL.createObjectURL(file) : "");
const revoke = (url: string) => {
  if (url && typeof URL.revokeObjectURL === "function") URL.revokeObjectURL(url);
};

export const useUploads = create<UploadState>()((set, get) => ({
  items: [],
  refused: [],
  add: (files) => {
    const refused: string[] = [];
    const accepted: UploadItem[] = [];
    for (const file of files) {
      const reason = refuseReason(file);
      if (reason) refused.push(reason);
      else if (get().items.length + accepted.length >= MAX_FILES) refused.push(`${file.name}: a post holds at most ${MAX_FILES} pictures.`);
      else accepted.push({ key: `f${++counter}`, file, preview: preview(file), progress: 0, status: "ready" });
    }
    set((state) => ({ items: [...state.items, ...accepted], refused }));
  },
  remove: (key) =>
    set((state) => {
      const item = state.items.find((i) => i.key === key);
      if (item) revoke(item.preview);
      return { items: state.items.filter((i) => i.key !== key) };
    }),
  update: (key, patch) => set((state) => ({ items: state.items.map((i) => (i.key === key ? { ...i, ...patch } : i)) })),
  clear: () => {
    for (const item of get().items) revoke(item.preview);
    set({ items: [], refused: [] });
  },
}));
