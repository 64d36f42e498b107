import { create } from "zustand";
import { errorMessage } from "./errors";

export interface Toast {
  id: number;
  kind: "info" | "error";
  title?: string;
  message: string;
}

interface ToastState {
  toasts: Toast[];
  push: (toast: Omit<Toast, "id">) => void;
  dismiss: (id: number) => void;
}

let nextId = 1;

export const useToasts = create<ToastState>()((set) => ({
  toasts: [],
  push: (toast) => set((state) => ({ toasts: [...state.toasts.slice(-3), { ...toast, id: nextId++ }] })),
  dismiss: (id) => set((state) => ({ toasts: state.toasts.filter((t) => t.id !== id) })),
}));

export const toast = {
  info: (message: string, title?: string) => useToasts.getState().push({ kind: "info", message, title }),
  error: (error: unknown, title?: string) =>
    useToasts.getState().push({ kind: "error", message: typeof error === "string" ? error : errorMessage(error), title }),
};

export function dismissToast(id: number): void {
  useToasts.getState().dismiss(id);
}
