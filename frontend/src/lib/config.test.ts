import { describe, expect, it } from "vitest";
import { ENDPOINTS_KEY, overrideAllowed, resolveEndpoints } from "./config";

const at = (search = "", protocol = "http:", hostname = "127.0.0.1", port = "3000") => ({
  protocol, hostname, search, host: port ? `${hostname}:${port}` : hostname,
});
const PROD = { DEV: false };
const DEV = { DEV: true };
const q = (params: Record<string, string>) => `?${new URLSearchParams(params).toString()}`;

describe("resolveEndpoints", () => {
  it("derives the make-up layout from the page's location", () => {
    expect(resolveEndpoints(at(), localStorage, PROD)).toEqual({
      api: "", ws: "ws://127.0.0.1:3001/local",
    });
    expect(resolveEndpoints(at("", "https:", "example.org", ""), localStorage, PROD).ws).toBe("wss://example.org:3001/local");
  });

  it("uses build-time variables over the defaults", () => {
    const env = { ...PROD, VITE_API_URL: "https://api.example.org/", VITE_WS_URL: "wss://ws.example.org/prod" };
    expect(resolveEndpoints(at(), localStorage, env)).toEqual({ api: "https://api.example.org", ws: "wss://ws.example.org/prod" });
  });

  it("remembers same-host query overrides, ignores invalid ones and forgets them on reset", () => {
    const first = resolveEndpoints(at("?ws=ws%3A%2F%2F127.0.0.1%3A4100%2Flocal&api=javascript:alert(1)"), localStorage, PROD);
    expect(first.ws).toBe("ws://127.0.0.1:4100/local");
    expect(first.api).toBe("");
    expect(resolveEndpoints(at(), localStorage, { ...PROD, VITE_WS_URL: "ws://other" }).ws).toBe("ws://127.0.0.1:4100/local");
    expect(JSON.parse(localStorage.getItem(ENDPOINTS_KEY)!)).toEqual({ ws: "ws://127.0.0.1:4100/local" });
    expect(resolveEndpoints(at("?endpoints=reset"), localStorage, PROD).ws).toBe("ws://127.0.0.1:3001/local");
  });

  it("in a production build ignores ?api= and ?ws= that leave the page's host, and remembers nothing", () => {
    const evil = q({ api: "https://evil.example", ws: "wss://evil.example/socket" });
    expect(resolveEndpoints(at(evil), localStorage, PROD)).toEqual({ api: "", ws: "ws://127.0.0.1:3001/local" });
    expect(localStorage.getItem(ENDPOINTS_KEY)).toBeNull();
    // Another port of the same host is another origin: not the API.
    expect(resolveEndpoints(at(q({ api: "http://127.0.0.1:4444" })), localStorage, PROD).api).toBe("");
    // A plain ws: socket from an https: page would send the token in clear.
    expect(resolveEndpoints(at(q({ ws: "ws://example.org:3001/local" }), "https:", "example.org", ""), localStorage, PROD).ws)
      .toBe("wss://example.org:3001/local");
    expect(localStorage.getItem(ENDPOINTS_KEY)).toBeNull();
  });

  it("drops a remembered foreign endpoint (stored before this rule, or by a dev build)", () => {
    localStorage.setItem(ENDPOINTS_KEY, JSON.stringify({ api: "https://evil.example", ws: "ws://127.0.0.1:4100/local" }));
    expect(resolveEndpoints(at(), localStorage, PROD)).toEqual({ api: "", ws: "ws://127.0.0.1:4100/local" });
    expect(JSON.parse(localStorage.getItem(ENDPOINTS_KEY)!)).toEqual({ ws: "ws://127.0.0.1:4100/local" });
  });

  it("in the dev server honours any http(s) / ws(s) override", () => {
    const remote = q({ api: "https://api.example.org", ws: "wss://ws.example.org/dev" });
    expect(resolveEndpoints(at(remote), localStorage, DEV)).toEqual({ api: "https://api.example.org", ws: "wss://ws.example.org/dev" });
  });
});

describe("overrideAllowed", () => {
  it("takes the page's own origin for the API and its own host for the WebSocket API", () => {
    const page = at("", "https:", "app.example.org", "");
    expect(overrideAllowed("api", "https://app.example.org/v2", page, false)).toBe(true);
    expect(overrideAllowed("api", "https://app.example.org.evil.example", page, false)).toBe(false);
    expect(overrideAllowed("api", "http://app.example.org", page, false)).toBe(false);
    expect(overrideAllowed("ws", "wss://app.example.org:8443/prod", page, false)).toBe(true);
    expect(overrideAllowed("ws", "wss://evil.example/prod", page, false)).toBe(false);
    expect(overrideAllowed("ws", "https://app.example.org", page, true)).toBe(false);
    expect(overrideAllowed("api", 42, page, true)).toBe(false);
  });
});
