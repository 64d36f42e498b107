import { create } from "zustand";
import { persist } from "zustand/middleware";

export type Theme = "light" | "dark" | "system";

export const useTheme = create<{ theme: Theme; setTheme: (theme: Theme) => void }>()(
  persist((set) => ({ theme: "system", setTheme: (theme) => set({ theme }) }), { name: "kafkagram.theme" }),
);

export function applyTheme(theme: Theme): void {
  const dark = theme === "dark" || (theme === "system" && window.matchMedia?.("(prefers-color-scheme: dark)").matches);
  document.documentElement.classList.toggle("dark", Boolean(dark));
}
