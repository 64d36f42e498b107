import { describe, expect, it } from "vitest";
import { ENDPOINTS_KEY, resolveEndpoints } from "./config";

const at = (search = "", protocol = "http:", hostname = "127.0.0.1") => ({ protocol, hostname, search });

describe("resolveEndpoints", () => {
  it("derives the make-up layout from the page's location", () => {
    expect(resolveEndpoints(at(), localStorage, {})).toEqual({
      api: "", ws: "ws://127.0.0.1:3001/local",
    });
    expect(resolveEndpoints(at("", "https:", "example.org"), localStorage, {}).ws).toBe("wss://example.org:3001/local");
  });

  it("uses build-time variables over the defaults", () => {
    const env = { VITE_API_URL: "https://api.example.org/", VITE_WS_URL: "wss://ws.example.org/prod" };
    expect(resolveEndpoints(at(), localStorage, env)).toEqual({ api: "https://api.example.org", ws: "wss://ws.example.org/prod" });
  });

  it("remembers query overrides, ignores invalid ones and forgets them on reset", () => {
    const first = resolveEndpoints(at("?ws=ws%3A%2F%2F127.0.0.1%3A4100%2Flocal&api=javascript:alert(1)"), localStorage, {});
    expect(first.ws).toBe("ws://127.0.0.1:4100/local");
    expect(first.api).toBe("");
    expect(resolveEndpoints(at(), localStorage, { VITE_WS_URL: "ws://other" }).ws).toBe("ws://127.0.0.1:4100/local");
    expect(JSON.parse(localStorage.getItem(ENDPOINTS_KEY)!)).toEqual({ ws: "ws://127.0.0.1:4100/local" });
    expect(resolveEndpoints(at("?endpoints=reset"), localStorage, {}).ws).toBe("ws://127.0.0.1:3001/local");
  });
});
