// @vitest-environment node
/**
 * The typed calls against a real local HTTP server: path parameters filled and encoded, query and body
 * sent, the JSON answer returned; and, checked by tsc, what the schema does not allow does not compile.
 */
import axios from "axios";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import type { Comment, Post, UserPage } from "./api-types";
import { createTypedApi, fillPath } from "./typed-api";

interface Seen {
  method: string;
  url: string;
  body: string;
}

let server: Server;
let base = "";
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", body: Buffer.concat(chunks).toString() });
      if (req.method === "DELETE") {
        res.writeHead(204);
        return res.end();
      }
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ id: "1", echo: req.url }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("typed api", () => {
  it("fills and encodes path parameters, sends the query without empty values, and returns the JSON", async () => {
    const api = createTypedApi(axios.create({ baseURL: base }));
    const post = await api.get("/api/posts/{post_id}", { path: { post_id: "a/b c" } });
    expect(post).toEqual({ id: "1", echo: "/api/posts/a%2Fb%20c" });
    await api.get("/api/users", { query: { prefix: "ad", cursor: null, limit: 20 } });
    expect(seen.at(-1)).toMatchObject({ method: "GET", url: "/api/users?prefix=ad&limit=20" });
  });

  it("sends the body as JSON with the method of the call", async () => {
    const api = createTypedApi(axios.create({ baseURL: base }));
    await api.post("/api/posts/{post_id}/comments", { path: { post_id: "7" }, body: { body: "What a view!" } });
    expect(seen.at(-1)).toEqual({ method: "POST", url: "/api/posts/7/comments", body: '{"body":"What a view!"}' });
    await api.delete("/api/posts/{post_id}/comments/{comment_id}", { path: { post_id: "7", comment_id: "9" } });
    expect(seen.at(-1)).toMatchObject({ method: "DELETE", url: "/api/posts/7/comments/9" });
  });

  it("refuses a template without a value for each parameter", () => {
    expect(fillPath("/api/users/{username}/posts", { username: "ada" })).toBe("/api/users/ada/posts");
    expect(() => fillPath("/api/posts/{post_id}", {})).toThrow("/api/posts/{post_id}: no value for {post_id}");
  });

  it("types answers and options from the schema", () => {
    const api = createTypedApi(axios.create({ baseURL: base }));
    expectTypeOf(api.get<"/api/posts/{post_id}">).returns.resolves.toEqualTypeOf<Post>();
    expectTypeOf(api.get<"/api/users">).returns.resolves.toEqualTypeOf<UserPage>();
    expectTypeOf(api.post<"/api/posts/{post_id}/comments">).returns.resolves.toEqualTypeOf<Comment>();
    expectTypeOf(api.delete<"/api/posts/{post_id}">).returns.resolves.toEqualTypeOf<void>();
    // Never called: these only have to fail to compile.
    const misuses = () => [
      // @ts-expect-error the post's id is missing
      api.get("/api/posts/{post_id}"),
      // @ts-expect-error a path parameter of another name
      api.get("/api/posts/{post_id}", { path: { id: "7" } }),
      // @ts-expect-error the search needs its prefix
      api.get("/api/users", { query: { limit: 20 } }),
      // @ts-expect-error no such query parameter
      api.get("/api/timeline", { query: { page: 2 } }),
      // @ts-expect-error a comment needs its body
      api.post("/api/posts/{post_id}/comments", { path: { post_id: "7" } }),
      // @ts-expect-error no GET on this path
      api.get("/api/posts/{post_id}/like", { path: { post_id: "7" } }),
      // @ts-expect-error not a path of the API
      api.get("/api/nothing"),
    ];
    expectTypeOf(misuses).toBeFunction();
  });
});
