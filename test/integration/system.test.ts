// Health, the OpenAPI document, the error shape for unknown routes, and the web UI.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHandler } from "../../src/app";
import { STORE_TARGETS } from "../helpers/stores";
import { ROOT_PASSWORD, startTestMaster, type TestMaster } from "../helpers/testMaster";

describe.each(STORE_TARGETS)("system routes on %s", (target) => {
  let m: TestMaster;
  beforeAll(async () => {
    m = await startTestMaster(target);
  });
  afterAll(() => m.close());

  test("health answers ok with the version", async () => {
    const res = await m.json("GET", "/api/health");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok", version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  test("the OpenAPI document lists every API route of the contract so far", async () => {
    const doc = (await m.json("GET", "/api/openapi.json")).body;
    expect(doc.openapi).toMatch(/^3\./);
    const ops = new Set<string>();
    for (const [path, methods] of Object.entries(doc.paths as Record<string, object>))
      for (const method of Object.keys(methods)) ops.add(`${method.toUpperCase()} ${path}`);
    for (const op of [
      "GET /api/health",
      "POST /api/auth/login",
      "POST /api/auth/logout",
      "GET /api/me",
      "POST /api/me/password",
      "POST /api/me/keys",
      "GET /api/me/keys",
      "DELETE /api/me/keys/{accessKey}",
      "PUT /api/me/ssh-key",
      "GET /api/users",
      "POST /api/users",
      "PATCH /api/users/{userId}",
      "GET /api/access-logs",
      "GET /api/access-logs/{day}",
      "DELETE /api/access-logs/{day}",
    ])
      expect(ops).toContain(op);
    // Request schemas are in the document, e.g. the login body.
    const login = doc.paths["/api/auth/login"].post;
    expect(JSON.stringify(login.requestBody)).toContain("userId");
  });

  test("every route of the OpenAPI document but the public ones answers 401 without a token", async () => {
    const doc = (await m.json("GET", "/api/openapi.json")).body;
    const open: string[] = [];
    let guarded = 0;
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, { security?: unknown[] }>>))
      for (const [method, op] of Object.entries(ops)) {
        if (!path.startsWith("/api/")) continue;
        if (Array.isArray(op.security) && op.security.length === 0) {
          open.push(`${method.toUpperCase()} ${path}`);
          continue;
        }
        const concrete = path.replace(/\{[^}]+\}/g, "x");
        const res = await m.request(method.toUpperCase(), concrete, {
          body: method === "get" || method === "delete" ? undefined : {},
        });
        expect(`${method.toUpperCase()} ${concrete} ${res.status}`).toBe(`${method.toUpperCase()} ${concrete} 401`);
        guarded++;
      }
    // The master key is public: the worker installer fetches it before it has any credentials.
    expect(open.sort()).toEqual(["GET /api/health", "GET /api/nodes/master-key", "POST /api/auth/login"]);
    expect(guarded).toBeGreaterThanOrEqual(50);
  });

  test("an unknown API route is a 404 in the error shape", async () => {
    const res = await m.json("GET", "/api/no-such-thing");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });

  test("a malformed JSON body is a 400 naming the body", async () => {
    const res = await m.request("POST", "/api/auth/login", {
      headers: { "content-type": "application/json" },
      raw: '{"userId": "root", "password": ',
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.field).toBe("body");
    const raw = await m.deps.store.db.select().from(m.deps.store.t.sessions);
    expect(raw.length).toBe(0);
  });

  test("a JSON body over HANGAR_MAX_JSON_BYTES is a 413 naming the body, declared or chunked; within it, fine", async () => {
    const small = await startTestMaster(target, { maxJsonBytes: 1024 });
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: createHandler(small.deps) });
    try {
      const url = `http://127.0.0.1:${server.port}/api/auth/login`;
      const headers = { "content-type": "application/json" };
      const big = JSON.stringify({ userId: "root", password: "x".repeat(2000) });
      const declared = await fetch(url, { method: "POST", headers, body: big });
      expect(declared.status).toBe(413);
      expect((await declared.json()).error).toMatchObject({ code: "too_large", field: "body" });
      // No content-length: the body arrives as a stream and is cut off at the limit.
      const stream = (text: string) =>
        new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode(text));
            c.close();
          },
        });
      const chunked = await fetch(url, { method: "POST", headers, body: stream(big) });
      expect(chunked.status).toBe(413);
      expect((await chunked.json()).error.field).toBe("body");
      const fits = JSON.stringify({ userId: "root", password: ROOT_PASSWORD });
      expect((await fetch(url, { method: "POST", headers, body: fits })).status).toBe(200);
      expect((await fetch(url, { method: "POST", headers, body: stream(fits) })).status).toBe(200);
      const sessions = await small.deps.store.db.select().from(small.deps.store.t.sessions);
      expect(sessions.length).toBe(2);
    } finally {
      server.stop(true);
      await small.close();
    }
  });

  test("the web UI is served at /", async () => {
    const res = await m.request("GET", "/");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Hangar");
  });
});
