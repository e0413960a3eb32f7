// One 1 GiB file through the real HTTP server: it arrives whole.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeRandomFile, prepareUploads } from "../helpers/largeUpload";
import { sha256File } from "../helpers/multipart";
import { spawnMaster } from "../helpers/processes";
import { STORE_TARGETS, storeEnv } from "../helpers/stores";

describe.each(STORE_TARGETS)("large upload on %s", (target) => {
  const dir = mkdtempSync(join(tmpdir(), "hangar-1g-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("a 1 GiB file streamed in one request is stored byte for byte", async () => {
    const source = join(dir, "weights.bin");
    await makeRandomFile(source, 1024);
    const store = await storeEnv(target);
    const master = await spawnMaster({
      ...store.env,
      HANGAR_DATA_DIR: join(dir, "data"),
      HANGAR_ROOT_PASSWORD: "bigRoot1!",
    });
    try {
      const upload = await prepareUploads(master.url, "bigRoot1!");
      const res = await upload("models/weights.bin", source);
      expect(res.status).toBe(201);
      expect(res.body.items).toEqual([{ path: "models/weights.bin", size: 1024 * 1024 * 1024 }]);
      const stored = join(dir, "data/workspaces/big/datasets/blobs/models/weights.bin");
      expect(await sha256File(stored)).toBe(await sha256File(source));
    } finally {
      await master.stop();
      await store.drop();
    }
  }, 120_000);
});
