// Small hardening items (issue 10, low): browser-encoded multipart names are decoded before the
// name rules, a file/folder clash is a 409 that names no path on the master, and the web UI is
// served with security headers.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { makeTraining, makeWorkspace } from "../helpers/factories";
import { multipart, type PartFile } from "../helpers/multipart";
import { STORE_TARGETS } from "../helpers/stores";
import { startTestMaster, type TestMaster } from "../helpers/testMaster";

describe.each(STORE_TARGETS)("upload names and web headers on %s", (target) => {
  let m: TestMaster;
  let root: string;
  beforeAll(async () => {
    m = await startTestMaster(target);
    root = await m.rootToken();
    await makeWorkspace(m, root, "names", { trainingGpus: 0 });
    await makeTraining(m, root, "names", "t1", { gpus: 0 });
    expect((await m.json("POST", "/api/workspaces/names/datasets", { token: root, body: { name: "d" } })).status).toBe(
      201,
    );
  });
  afterAll(() => m.close());

  const upload = async (files: PartFile[], to = "/api/workspaces/names/datasets/d/files") => {
    const { body, contentType } = multipart(files);
    const res = await m.request("POST", to, { token: root, raw: body, headers: { "content-type": contentType } });
    return { status: res.status, text: await res.text() };
  };

  test('a browser-encoded name (quote%22.txt is quote".txt) meets the name rule: refused, not stored', async () => {
    const res = await upload([{ name: "quote%22.txt", data: "q" }]);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error.message).toContain('"');
    const blobs = join(m.config.dataDir, "workspaces/names/datasets");
    expect(existsSync(join(blobs, "d/quote%22.txt"))).toBe(false);
    const list = await m.json("GET", "/api/workspaces/names/datasets/d/files", { token: root });
    expect(list.body.items.map((f: { path: string }) => f.path)).not.toContain("quote%22.txt");
  });

  for (const [where, to] of [
    ["dataset", "/api/workspaces/names/datasets/d/files"],
    ["code folder", "/api/workspaces/names/trainings/t1/files"],
  ] as const) {
    test(`${where}: a file over a folder, a folder over a file, both in one upload: 409, no path leaks`, async () => {
      expect((await upload([{ name: "dir/inner.txt", data: "1" }], to)).status).toBe(201);
      expect((await upload([{ name: "plain", data: "1" }], to)).status).toBe(201);
      for (const files of [
        [{ name: "dir", data: "x" }],
        [{ name: "plain/below.txt", data: "x" }],
        [
          { name: "same", data: "x" },
          { name: "same/below.txt", data: "x" },
        ],
      ]) {
        const res = await upload(files, to);
        expect(res.status).toBe(409);
        expect(JSON.parse(res.text).error.code).toBe("name_clash");
        expect(res.text).not.toContain(m.config.dataDir);
        expect(res.text).not.toContain(process.cwd());
      }
    });
  }

  test("the web UI carries CSP, X-Frame-Options, nosniff and Referrer-Policy; its scripts are external", async () => {
    for (const path of ["/", "/workspaces/names"]) {
      const res = await m.request("GET", path);
      expect(res.status).toBe(200);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("same-origin");
      const html = await res.text();
      // Every script is a file (allowed by script-src 'self'); none inline.
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      const script = /<script[^>]*src="([^"]+)"/.exec(html)?.[1] as string;
      const asset = await m.request("GET", script);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("x-content-type-options")).toBe("nosniff");
    }
  }, 60_000);
});
