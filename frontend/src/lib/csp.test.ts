// @vitest-environment node
import { describe, expect, it } from "vitest";
import { contentSecurityPolicy, LOCAL_MEDIA_SOURCES, LOCAL_WS_SOURCES } from "./csp";

function directive(policy: string, name: string): string[] {
  const found = policy.split("; ").find((part) => part.startsWith(`${name} `));
  return found ? found.split(" ").slice(1) : [];
}

describe("contentSecurityPolicy", () => {
  it("names exactly the configured API, WebSocket and media origins in a deployment build", () => {
    const policy = contentSecurityPolicy({
      apiUrl: "https://api.example.org/prod/", wsUrl: "wss://ws.example.org/prod",
      mediaOrigins: "https://media.example.org, https://kafkagram-media.s3.amazonaws.com",
    });
    expect(directive(policy, "connect-src")).toEqual([
      "'self'", "https://api.example.org", "wss://ws.example.org", "https://media.example.org",
      "https://kafkagram-media.s3.amazonaws.com",
    ]);
    expect(directive(policy, "img-src")).toEqual([
      "'self'", "data:", "blob:", "https://media.example.org", "https://kafkagram-media.s3.amazonaws.com",
    ]);
    expect(directive(policy, "script-src")).toEqual(["'self'"]);
    expect(directive(policy, "object-src")).toEqual(["'none'"]);
  });

  it("falls back to the local layouts (loopback ports, LocalStack) when nothing is configured", () => {
    const policy = contentSecurityPolicy({});
    expect(directive(policy, "connect-src")).toEqual(["'self'", ...LOCAL_WS_SOURCES, ...LOCAL_MEDIA_SOURCES]);
    expect(policy).not.toContain("https:");
  });

  it("fails the build on a setting that is not an absolute URL of the right kind", () => {
    expect(() => contentSecurityPolicy({ wsUrl: "https://ws.example.org" })).toThrow(/VITE_WS_URL/);
    expect(() => contentSecurityPolicy({ mediaOrigins: "media.example.org" })).toThrow(/KAFKAGRAM_MEDIA_ORIGINS/);
  });
});
