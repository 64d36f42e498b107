import { describe, expect, it } from "vitest";
import { outcome, type WebhookDelivery } from "./webhooks";

function delivery(attempts: WebhookDelivery["attempts"]): WebhookDelivery {
  return { id: "d", event_id: "e", kind: "follow", state: "pending", created_at: "2026-12-06T22:00:00Z", attempts };
}

describe("outcome", () => {
  it("shows the last attempt's status code, or why there was none", () => {
    expect(outcome(delivery([]))).toBe("not sent yet");
    expect(outcome(delivery([
      { attempt: 1, attempted_at: "2026-12-06T22:00:00Z", status_code: 500, duration_ms: 3, error: "HTTP 500" },
      { attempt: 2, attempted_at: "2026-12-06T22:00:01Z", status_code: 200, duration_ms: 2, error: null },
    ]))).toBe("200");
    expect(outcome(delivery([
      { attempt: 1, attempted_at: "2026-12-06T22:00:00Z", status_code: null, duration_ms: 5000, error: "timed out after 5 s" },
    ]))).toBe("timed out after 5 s");
  });
});
