// Quotas under concurrent uploads (issue 10, item 8): uploads reserve bytes as they stream, so
// together they never store more than the quota, and each refused one leaves nothing behind.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { dataLayout } from "../../src/lib/layout";
import { makeTraining, makeWorkspace } from "../helpers/factories";
import { multipart } from "../helpers/multipart";
import { STORE_TARGETS } from "../helpers/stores";
import { startTestMaster, type TestMaster } from "../helpers/testMaster";

const KIB = 1024;

function bytesUnder(dir: string): number {
  if (!existsSync(dir)) return 0;
  let sum = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) sum += statSync(join(e.parentPath, e.name)).size;
  return sum;
}

describe.each(STORE_TARGETS)("quotas under concurrent uploads on %s", (target) => {
  let m: TestMaster;
  let root: string;
  beforeAll(async () => {
    m = await startTestMaster(target, { workspaceQuotaMiB: 1, codeQuotaMiB: 1 });
    root = await m.rootToken();
    await makeWorkspace(m, root, "quota", { trainingGpus: 0 });
    await makeTraining(m, root, "quota", "t1", { gpus: 0 });
    for (const name of ["a", "b"])
      expect((await m.json("POST", "/api/workspaces/quota/datasets", { token: root, body: { name } })).status).toBe(
        201,
      );
  });
  afterAll(() => m.close());

  const cases = [
    [
      "datasets (two datasets, one workspace quota)",
      (i: number) => `/api/workspaces/quota/datasets/${"ab"[i % 2]}/files`,
      () => join(m.config.dataDir, "workspaces/quota/datasets"),
    ],
    [
      "a code folder",
      () => "/api/workspaces/quota/trainings/t1/files",
      () => dataLayout(m.config.dataDir).code("quota", "t1"),
    ],
  ] as const;
  for (const [what, url, folder] of cases) {
    test(`${what}: 8 concurrent 300 KiB uploads under 1 MiB: at most 3 land, the rest 413 and leave nothing`, async () => {
      const data = new Uint8Array(300 * KIB).fill(7);
      const results = await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          const { body, contentType } = multipart([{ name: `part-${i}.bin`, data }]);
          // With its length declared, as browsers and curl send an upload.
          const res = await m.request("POST", url(i), {
            token: root,
            raw: body,
            headers: { "content-type": contentType, "content-length": String(body.byteLength) },
          });
          return { i, status: res.status, body: await res.json() };
        }),
      );
      const landed = results.filter((r) => r.status === 201);
      const refused = results.filter((r) => r.status !== 201);
      console.log(`${what}: ${landed.length} landed, ${refused.length} refused, ${bytesUnder(folder())} bytes stored`);
      expect(landed.length).toBeGreaterThanOrEqual(1);
      expect(landed.length).toBeLessThanOrEqual(3);
      for (const r of refused) {
        expect(r.status).toBe(413);
        expect(r.body.error.field).toBe("files");
      }
      expect(bytesUnder(folder())).toBeLessThanOrEqual(1024 * KIB);
      const stored = readdirSync(folder(), { recursive: true }).map(String);
      for (const r of refused) expect(stored.some((p) => p.endsWith(`part-${r.i}.bin`))).toBe(false);
      expect(bytesUnder(dataLayout(m.config.dataDir).staging)).toBe(0);
    });
  }
});

describe.each(STORE_TARGETS)("the staging folder under concurrent uploads on %s", (target) => {
  let m: TestMaster;
  let root: string;
  beforeAll(async () => {
    m = await startTestMaster(target, { stagingMiB: 1 });
    root = await m.rootToken();
    await makeWorkspace(m, root, "stage", { trainingGpus: 0 });
    expect((await m.json("POST", "/api/workspaces/stage/datasets", { token: root, body: { name: "d" } })).status).toBe(
      201,
    );
  });
  afterAll(() => m.close());

  test("8 concurrent 300 KiB uploads with HANGAR_STAGING_MB=1: the overflow gets 429 staging_full, nothing left", async () => {
    const data = new Uint8Array(300 * KIB).fill(3);
    // All 8 are in flight together: each body sends its first half, then waits for the others
    // to have begun (so none finishes and gives its room back before the last one asks).
    let go = () => {};
    const allBegun = new Promise<void>((resolve) => {
      go = resolve;
    });
    setTimeout(() => go(), 500);
    const results = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const { body, contentType } = multipart([{ name: `s-${i}.bin`, data }]);
        const half = body.length >> 1;
        const stream = new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(body.subarray(0, half));
            await allBegun;
            controller.enqueue(body.subarray(half));
            controller.close();
          },
        });
        // A browser declares the length; an in-process Request carries none unless told.
        const res = await m.request("POST", "/api/workspaces/stage/datasets/d/files", {
          token: root,
          raw: stream,
          headers: { "content-type": contentType, "content-length": String(body.length) },
        });
        return { i, status: res.status, body: await res.json() };
      }),
    );
    const refused = results.filter((r) => r.status !== 201);
    console.log(`staging: ${8 - refused.length} landed, ${refused.length} refused`);
    expect(refused.length).toBe(5); // 1 MiB holds 3 declared 300 KiB uploads, not 4
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(r.body.error.code).toBe("staging_full");
    }
    const stored = readdirSync(join(m.config.dataDir, "workspaces/stage/datasets"), { recursive: true }).map(String);
    for (const r of results) expect(stored.some((p) => p.endsWith(`s-${r.i}.bin`))).toBe(r.status === 201);
    expect(bytesUnder(dataLayout(m.config.dataDir).staging)).toBe(0);
    // With the staging folder empty again, an upload goes through.
    const { body, contentType } = multipart([{ name: "after.bin", data }]);
    const after = await m.request("POST", "/api/workspaces/stage/datasets/d/files", {
      token: root,
      raw: body,
      headers: { "content-type": contentType },
    });
    expect(after.status).toBe(201);
  });
});
