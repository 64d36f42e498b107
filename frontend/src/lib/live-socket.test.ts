import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { backoffDelay, LiveSocket, useLiveStatus } from "./live-socket";
import { FakeSocket } from "../test/fake-socket";

function make(token: string | null = "t0k") {
  return new LiveSocket({
    url: "ws://example.test:3001/local",
    getToken: () => token,
    createSocket: (url) => new FakeSocket(url) as unknown as WebSocket,
    random: () => 1,
    minDelayMs: 100,
    maxDelayMs: 1000,
    pingIntervalMs: 5000,
  });
}

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe("backoffDelay", () => {
  it("doubles up to the maximum, with jitter between half and all of it", () => {
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, 100, 1000, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(3, 100, 1000, () => 0)).toBe(400);
  });
});

describe("LiveSocket", () => {
  it("connects with the token, dispatches messages once per id and pings", () => {
    const live = make();
    const got: unknown[] = [];
    live.on("timeline-updated", (m) => got.push(m.data));
    live.start();
    const socket = FakeSocket.all[0]!;
    expect(socket.url).toBe("ws://example.test:3001/local?token=t0k");
    expect(useLiveStatus.getState().status).toBe("connecting");
    socket.open();
    expect(useLiveStatus.getState().status).toBe("open");
    socket.push({ id: "e1", type: "timeline-updated", data: { post_ids: ["1"] } });
    socket.push({ id: "e1", type: "timeline-updated", data: { post_ids: ["1"] } });
    socket.push({ id: "e2", type: "notification-created", data: {} });
    expect(got).toEqual([{ post_ids: ["1"] }]);
    vi.advanceTimersByTime(5000);
    expect(socket.sent).toEqual([JSON.stringify({ action: "ping" })]);
    live.stop();
    expect(useLiveStatus.getState().status).toBe("offline");
  });

  it("reconnects with growing delays, and resets them after a success", async () => {
    const beforeReconnect = vi.fn(async () => undefined);
    const live = new LiveSocket({
      url: "ws://x/local", getToken: () => "t", beforeReconnect, random: () => 1, minDelayMs: 100, maxDelayMs: 1000,
      createSocket: (url) => new FakeSocket(url) as unknown as WebSocket,
    });
    live.start();
    FakeSocket.all[0]!.drop();
    expect(useLiveStatus.getState().status).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(99);
    expect(FakeSocket.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.all).toHaveLength(2);
    expect(beforeReconnect).toHaveBeenCalledTimes(1);
    FakeSocket.all[1]!.drop();
    await vi.advanceTimersByTimeAsync(199);
    expect(FakeSocket.all).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.all).toHaveLength(3);
    FakeSocket.all[2]!.open();
    FakeSocket.all[2]!.drop();
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeSocket.all).toHaveLength(4);
    live.stop();
  });

  it("stays offline without a token", () => {
    const live = make(null);
    live.start();
    expect(FakeSocket.all).toHaveLength(0);
    expect(useLiveStatus.getState().status).toBe("offline");
  });
});
