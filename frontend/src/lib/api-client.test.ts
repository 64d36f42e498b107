// @vitest-environment node
/**
 * The API client against a real local HTTP server (no mocked axios): the access token on requests,
 * one shared refresh on 401s, sign-out when the refresh is refused, and error normalisation.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApiClient, type TabLock } from "./api-client";
import { ApiError } from "./errors";
import { useSession } from "./session";

let server: Server;
let base = "";
let refreshCalls = 0;
let validAccess = "access-2";
let issued = "access-2";
// The server's rotation: only the current refresh token works; presenting a rotated-away one revokes
// the session (as kafkagram.auth.sessions does).
let currentRefresh: string | null = "refresh-1";
let rotatedAway: string[] = [];
const seenAuthorization: string[] = [];

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(body === undefined ? "" : JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>) : {};
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void (async () => {
      const auth = req.headers.authorization ?? "";
      if (req.url === "/api/auth/refresh") {
        refreshCalls += 1;
        const body = await readJson(req);
        const presented = String(body.refresh_token);
        if (rotatedAway.includes(presented)) {
          currentRefresh = null;
          return send(res, 401, { error: "invalid-token", message: "refresh token reused; session revoked" });
        }
        if (presented !== currentRefresh) return send(res, 401, { error: "invalid-token", message: "refresh token not recognised" });
        const next = `refresh-${rotatedAway.length + 2}`;
        rotatedAway.push(presented);
        currentRefresh = next;
        await new Promise((r) => setTimeout(r, 30)); // concurrent 401s must share this one call
        return send(res, 200, { access_token: issued, refresh_token: next, expires_in: 900, refresh_expires_in: 86400 });
      }
      if (req.url === "/api/me") {
        seenAuthorization.push(auth);
        if (auth !== `Bearer ${validAccess}`) return send(res, 401, { error: "token-expired", message: "access token expired" });
        return send(res, 200, { id: "1", username: "ada" });
      }
      if (req.url === "/api/bad") return send(res, 400, { error: "invalid-request", message: "username: String should match pattern" });
      if (req.url === "/api/conflict") return send(res, 409, { error: "username-taken", message: "the username 'ada' is taken" });
      if (req.url === "/api/crash") {
        res.writeHead(502, { "Content-Type": "text/plain" });
        return res.end("bad gateway");
      }
      send(res, 404, { error: "not-found", message: "no such route" });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  refreshCalls = 0;
  validAccess = "access-2";
  issued = "access-2";
  currentRefresh = "refresh-1";
  rotatedAway = [];
  seenAuthorization.length = 0;
  useSession.setState({ accessToken: "access-1", refreshToken: "refresh-1", user: null });
});

/** One lock shared by the "tabs" of a test, as navigator.locks is by a browser's tabs of one origin. */
function memoryLock(): TabLock {
  let tail: Promise<unknown> = Promise.resolve();
  return <T,>(_name: string, task: () => Promise<T>) => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}

describe("api client", () => {
  it("sends the access token and refreshes it once for concurrent 401s", async () => {
    const api = createApiClient(base);
    const answers = await Promise.all([api.get("/api/me"), api.get("/api/me"), api.get("/api/me")]);
    expect(answers.map((a) => a.data.username)).toEqual(["ada", "ada", "ada"]);
    expect(refreshCalls).toBe(1);
    expect(seenAuthorization.filter((h) => h === "Bearer access-1")).toHaveLength(3);
    expect(useSession.getState()).toMatchObject({ accessToken: "access-2", refreshToken: "refresh-2" });
  });

  it("two tabs whose tokens expire together refresh once and both keep the session", async () => {
    const lock = memoryLock();
    const [tabA, tabB] = [createApiClient(base, { lock }), createApiClient(base, { lock })];
    const answers = await Promise.all([tabA.get("/api/me"), tabB.get("/api/me")]);
    expect(answers.map((a) => a.data.username)).toEqual(["ada", "ada"]);
    expect(refreshCalls).toBe(1);
    expect(currentRefresh).toBe("refresh-2"); // not revoked
    expect(useSession.getState()).toMatchObject({ accessToken: "access-2", refreshToken: "refresh-2" });
  });

  it("without the lock the second tab's stale refresh token revokes the session (what the lock prevents)", async () => {
    const noLock: TabLock = (_name, task) => task();
    const [tabA, tabB] = [createApiClient(base, { lock: noLock }), createApiClient(base, { lock: noLock })];
    const outcomes = await Promise.allSettled([tabA.get("/api/me"), tabB.get("/api/me")]);
    expect(refreshCalls).toBe(2);
    expect(currentRefresh).toBeNull(); // revoked: the next refresh of either tab fails
    expect(outcomes.some((o) => o.status === "rejected")).toBe(true);
  });

  it("signs out when the refresh token is refused", async () => {
    useSession.setState({ refreshToken: "stolen" });
    const api = createApiClient(base);
    const error = await api.get("/api/me").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 401, code: "session-expired" });
    expect(useSession.getState().accessToken).toBeNull();
  });

  it("does not loop when the new token is refused too", async () => {
    issued = "access-3"; // the server then refuses even the fresh token
    const api = createApiClient(base);
    const error = await api.get("/api/me").catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 401, code: "token-expired" });
    expect(refreshCalls).toBe(1);
  });

  it("maps API errors, validation fields, non-JSON answers and network failures", async () => {
    const api = createApiClient(base);
    await expect(api.get("/api/bad")).rejects.toMatchObject({ status: 400, code: "invalid-request", field: "username", message: "String should match pattern" });
    await expect(api.get("/api/conflict")).rejects.toMatchObject({ status: 409, code: "username-taken", field: null });
    await expect(api.get("/api/crash")).rejects.toMatchObject({ status: 502, code: "server-error" });
    const closed = createApiClient("http://127.0.0.1:1");
    await expect(closed.get("/api/me")).rejects.toMatchObject({ status: 0, code: "network-error" });
  });
});
