import { type FormEvent, useCallback, useEffect, useState } from "react";
import { Button } from "@/components/ui/button";
import { FormField } from "@/components/ui/form-field";
import { Input } from "@/components/ui/input";
import { errorMessage } from "@/lib/errors";
import { toast } from "@/lib/toast";
import {
  createWebhook, type CreatedWebhook, listDeliveries, listWebhooks, outcome, pingWebhook, removeWebhook, setPaused,
  type Webhook, type WebhookDelivery, type WebhookKind, WEBHOOK_KINDS,
} from "../api/webhooks";

// Deliveries change while the page is open (a ping, a retry): the list is read again this often.
const DELIVERIES_REFRESH_MS = 3000;

function labelOf(kind: string): string {
  if (kind === "ping") return "Ping";
  return WEBHOOK_KINDS.find((k) => k.kind === kind)?.label ?? kind;
}

function Deliveries({ webhookId, version }: { webhookId: string; version: number }) {
  const [deliveries, setDeliveries] = useState<WebhookDelivery[] | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    const load = () => listDeliveries(webhookId, controller.signal).then(setDeliveries, () => undefined);
    void load();
    const timer = window.setInterval(() => void load(), DELIVERIES_REFRESH_MS);
    return () => {
      controller.abort();
      window.clearInterval(timer);
    };
  }, [webhookId, version]);

  if (deliveries === null) return <p className="text-xs text-muted-foreground">Loading deliveries…</p>;
  if (deliveries.length === 0) return <p className="text-xs text-muted-foreground">No deliveries yet.</p>;
  return (
    <ul aria-label="Last deliveries" className="grid gap-1 text-xs">
      {deliveries.map((delivery) => {
        const last = delivery.attempts[delivery.attempts.length - 1];
        const good = delivery.state === "delivered";
        return (
          <li key={delivery.id} className="flex flex-wrap items-center gap-2 rounded-md bg-muted px-2 py-1">
            <span className="font-medium">{labelOf(delivery.kind)}</span>
            <span className={good ? "text-emerald-600" : "text-destructive"} aria-label="status">{outcome(delivery)}</span>
            <span className="text-muted-foreground">{delivery.state}</span>
            {delivery.attempts.length > 1 ? <span className="text-muted-foreground">{delivery.attempts.length} attempts</span> : null}
            {last ? <span className="ml-auto text-muted-foreground">{new Date(last.attempted_at).toLocaleString()}</span> : null}
          </li>
        );
      })}
    </ul>
  );
}

function EndpointItem({ webhook, onChanged, onRemoved }: {
  webhook: Webhook; onChanged: (webhook: Webhook) => void; onRemoved: (id: string) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [version, setVersion] = useState(0);

  async function act(action: () => Promise<void>) {
    setBusy(true);
    try {
      await action();
    } catch (error) {
      toast.error(errorMessage(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <li aria-label={`Webhook ${webhook.url}`} className="grid gap-2 rounded-xl border border-border bg-card p-3">
      <div className="flex flex-wrap items-center gap-2">
        <code className="min-w-0 flex-1 break-all text-sm">{webhook.url}</code>
        {webhook.paused ? <span className="rounded-full bg-muted px-2 py-0.5 text-xs">paused</span> : null}
      </div>
      <p className="text-xs text-muted-foreground">{webhook.kinds.map(labelOf).join(", ")}</p>
      <div className="flex flex-wrap gap-2">
        <Button size="sm" variant="secondary" disabled={busy} onClick={() => void act(async () => {
          await pingWebhook(webhook.id);
          toast.info("Ping sent.");
          setVersion((v) => v + 1);
        })}>Send a ping</Button>
        <Button size="sm" variant="outline" disabled={busy} onClick={() => void act(async () => {
          onChanged(await setPaused(webhook.id, !webhook.paused));
        })}>{webhook.paused ? "Resume" : "Pause"}</Button>
        <Button size="sm" variant="destructive" disabled={busy} onClick={() => void act(async () => {
          await removeWebhook(webhook.id);
          onRemoved(webhook.id);
        })}>Remove</Button>
      </div>
      <Deliveries webhookId={webhook.id} version={version} />
    </li>
  );
}

function NewEndpointForm({ onCreated }: { onCreated: (created: CreatedWebhook) => void }) {
  const [url, setUrl] = useState("");
  const [kinds, setKinds] = useState<WebhookKind[]>(["follow", "like", "comment", "mention"]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onCreated(await createWebhook(url.trim(), kinds));
      setUrl("");
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={(e) => void submit(e)} aria-label="Add a webhook" className="grid gap-3 rounded-xl border border-border bg-card p-3">
      <FormField label="Endpoint URL" error={error} hint="https only; it must be reachable from the internet.">
        <Input type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.com/kafkagram" />
      </FormField>
      <fieldset className="flex flex-wrap gap-3 text-sm">
        <legend className="mb-1 text-sm font-medium">Events</legend>
        {WEBHOOK_KINDS.map(({ kind, label }) => (
          <label key={kind} className="flex items-center gap-1.5">
            <input
              type="checkbox"
              checked={kinds.includes(kind)}
              onChange={(e) => setKinds((now) => (e.target.checked ? [...now, kind] : now.filter((k) => k !== kind)))}
            />
            {label}
          </label>
        ))}
      </fieldset>
      <Button type="submit" disabled={busy || kinds.length === 0 || !url.trim()}>Add endpoint</Button>
    </form>
  );
}

/** The settings page's webhooks: add (the secret is shown once), ping, pause or resume, remove, and the last deliveries. */
export function WebhookSettings() {
  const [webhooks, setWebhooks] = useState<Webhook[] | null>(null);
  const [secret, setSecret] = useState<CreatedWebhook | null>(null);

  const load = useCallback((signal?: AbortSignal) => listWebhooks(signal).then(setWebhooks, (error: unknown) => {
    if (!signal?.aborted) toast.error(errorMessage(error));
  }), []);

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  return (
    <section aria-labelledby="webhooks-title" className="grid gap-4 px-3 sm:px-0">
      <div>
        <h1 id="webhooks-title" className="text-xl font-bold">Webhooks</h1>
        <p className="text-sm text-muted-foreground">
          kafkagram POSTs your account's events as JSON to these URLs, signed with each endpoint's secret
          (the <code>X-Kafkagram-Signature</code> header).
        </p>
      </div>
      {secret ? (
        <div role="status" className="grid gap-2 rounded-xl border border-amber-500 bg-amber-50 p-3 text-sm dark:bg-amber-950">
          <p className="font-semibold">Signing secret for {secret.url}: copy it now, it is not shown again.</p>
          <code aria-label="Signing secret" className="break-all rounded bg-card p-2">{secret.secret}</code>
          <Button size="sm" variant="outline" onClick={() => setSecret(null)}>I have copied it</Button>
        </div>
      ) : null}
      <NewEndpointForm onCreated={(created) => {
        setSecret(created);
        // The list keeps no secret: only the notice above shows it, until it is dismissed.
        const { id, url, kinds, paused, created_at, updated_at } = created;
        setWebhooks((now) => [...(now ?? []), { id, url, kinds, paused, created_at, updated_at }]);
      }} />
      {webhooks === null ? <p className="text-sm text-muted-foreground">Loading…</p> : webhooks.length === 0 ? (
        <p className="text-sm text-muted-foreground">No endpoints yet.</p>
      ) : (
        <ul aria-label="Webhook endpoints" className="grid gap-3">
          {webhooks.map((webhook) => (
            <EndpointItem
              key={webhook.id}
              webhook={webhook}
              onChanged={(changed) => setWebhooks((now) => (now ?? []).map((w) => (w.id === changed.id ? changed : w)))}
              onRemoved={(id) => setWebhooks((now) => (now ?? []).filter((w) => w.id !== id))}
            />
          ))}
        </ul>
      )}
    </section>
  );
}
