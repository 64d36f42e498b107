import { api } from "@/lib/api-client";
import type { components } from "@/lib/api-types";

type Schemas = components["schemas"];
export type Webhook = Schemas["WebhookOut"];
export type CreatedWebhook = Schemas["CreatedWebhook"];
export type WebhookDelivery = Schemas["DeliveryOut"];
export type WebhookKind = Schemas["CreateWebhookRequest"]["kinds"][number];

/** What an endpoint may choose, as the settings page names them. */
export const WEBHOOK_KINDS: { kind: WebhookKind; label: string }[] = [
  { kind: "follow", label: "New follower" },
  { kind: "like", label: "Like" },
  { kind: "comment", label: "Comment" },
  { kind: "mention", label: "Mention" },
  { kind: "post-published", label: "My post published" },
];

export async function listWebhooks(signal?: AbortSignal): Promise<Webhook[]> {
  return (await api.get("/api/me/webhooks", { signal })).items;
}

export function createWebhook(url: string, kinds: WebhookKind[]): Promise<CreatedWebhook> {
  return api.post("/api/me/webhooks", { body: { url, kinds } });
}

export function setPaused(id: string, paused: boolean): Promise<Webhook> {
  return api.patch("/api/me/webhooks/{webhook_id}", { path: { webhook_id: id }, body: { paused } });
}

export async function removeWebhook(id: string): Promise<void> {
  await api.delete("/api/me/webhooks/{webhook_id}", { path: { webhook_id: id } });
}

export async function pingWebhook(id: string): Promise<void> {
  await api.post("/api/me/webhooks/{webhook_id}/ping", { path: { webhook_id: id } });
}

export async function listDeliveries(id: string, signal?: AbortSignal): Promise<WebhookDelivery[]> {
  return (await api.get("/api/me/webhooks/{webhook_id}/deliveries", {
    path: { webhook_id: id }, query: { limit: 10 }, signal,
  })).items;
}

/** The last attempt's outcome, as the list shows it: the status code, or why there was none. */
export function outcome(delivery: WebhookDelivery): string {
  const last = delivery.attempts[delivery.attempts.length - 1];
  if (!last) return "not sent yet";
  return last.status_code !== null && last.status_code !== undefined ? String(last.status_code) : (last.error ?? "no answer");
}
