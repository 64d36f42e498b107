import { WebhookSettings } from "@/features/webhooks";

export function WebhooksRoute() {
  return <WebhookSettings />;
}
