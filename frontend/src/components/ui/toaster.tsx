import * as ToastPrimitive from "@radix-ui/react-toast";
import { X } from "lucide-react";
import { dismissToast, useToasts } from "@/lib/toast";
import { cn } from "@/lib/utils";

export function Toaster() {
  const toasts = useToasts((state) => state.toasts);
  return (
    <ToastPrimitive.Provider swipeDirection="right" duration={6000}>
      {toasts.map((toast) => (
        <ToastPrimitive.Root
          key={toast.id}
          type={toast.kind === "error" ? "foreground" : "background"}
          onOpenChange={(open) => {
            if (!open) dismissToast(toast.id);
          }}
          className={cn(
            "flex w-full items-start gap-3 rounded-xl border bg-card p-3 pr-2 text-sm shadow-lg animate-fade-in",
            toast.kind === "error" ? "border-destructive/50" : "border-border",
          )}
        >
          <div className="grid flex-1 gap-0.5">
            {toast.title ? <ToastPrimitive.Title className="font-semibold">{toast.title}</ToastPrimitive.Title> : null}
            <ToastPrimitive.Description className={toast.kind === "error" ? "text-destructive" : undefined}>
              {toast.message}
            </ToastPrimitive.Description>
          </div>
          <ToastPrimitive.Close aria-label="Dismiss" className="rounded p-1 text-muted-foreground hover:bg-muted">
            <X className="size-4" aria-hidden="true" />
          </ToastPrimitive.Close>
        </ToastPrimitive.Root>
      ))}
      <ToastPrimitive.Viewport className="fixed bottom-20 right-0 z-[100] flex w-full max-w-sm flex-col gap-2 p-3 outline-none sm:bottom-0" />
    </ToastPrimitive.Provider>
  );
}
