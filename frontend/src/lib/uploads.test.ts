// @vitest-environment node
/** The presigned POST against a real local HTTP server standing in for S3: fields first, the file last,
 * progress reported, and S3's XML error message surfaced. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postForm, refuseReason } from "./uploads";

let server: Server;
let base = "";
let lastBody = "";

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      lastBody = Buffer.concat(chunks).toString("latin1");
      if (req.url === "/refuse") {
        res.writeHead(400, { "Content-Type": "application/xml" });
        res.end("<?xml version=\"1.0\"?><Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed size</Message></Error>");
        return;
      }
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("postForm", () => {
  it("sends the policy fields before the file and reports progress up to 1", async () => {
    const progress: number[] = [];
    await postForm(`${base}/bucket`, { key: "uploads/1/2", "Content-Type": "image/jpeg", policy: "p" },
      new Blob([new Uint8Array(64 * 1024)], { type: "image/jpeg" }), (p) => progress.push(p));
    const key = lastBody.indexOf('name="key"');
    const file = lastBody.indexOf('name="file"');
    expect(key).toBeGreaterThan(-1);
    expect(file).toBeGreaterThan(key);
    expect(progress.at(-1)).toBe(1);
  });

  it("turns S3's XML refusal into a readable error", async () => {
    await expect(postForm(`${base}/refuse`, {}, new Blob(["x"]))).rejects.toMatchObject({
      status: 400, code: "upload-refused", message: "Your proposed upload exceeds the maximum allowed size",
    });
  });
});

describe("refuseReason", () => {
  it("accepts JPEG, PNG and WebP up to 20 MB", () => {
    expect(refuseReason({ name: "a.png", type: "image/png", size: 20 * 1024 * 1024 })).toBeNull();
    expect(refuseReason({ name: "a.gif", type: "image/gif", size: 10 })).toMatch(/not a supported image/);
    expect(refuseReason({ name: "a.jpg", type: "image/jpeg", size: 0 })).toBe("a.jpg is empty.");
    expect(refuseReason({ name: "a.jpg", type: "image/jpeg", size: 20 * 1024 * 1024 + 1 })).toMatch(/too large/);
  });
});
