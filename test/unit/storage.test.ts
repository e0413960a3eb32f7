// Pure storage mode detection (src/domain/storage.ts): what a node's answer to the probe means,
// and how the mode chosen at connect is kept on health rounds.
import { describe, expect, test } from "bun:test";
import {
  checkStorage,
  type ProbeRead,
  type StorageMode,
  storageMode,
  storageProbeScript,
} from "../../src/domain/storage";

const TOKEN = "0123456789abcdef0123456789abcdef";

async function sh(script: string): Promise<ProbeRead> {
  const proc = Bun.spawn(["sh", "-c", script], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, output: out + err };
}

describe("storage mode", () => {
  test.each<[string, ProbeRead, StorageMode]>([
    ["the same token: shared", { code: 0, output: `${TOKEN}\n` }, "shared"],
    ["no file at the path: staged", { code: 0, output: "@@hangar:storage:missing@@\n" }, "staged"],
    ["another filesystem's old token: staged", { code: 0, output: "ffffffffffffffffffffffffffffffff" }, "staged"],
    ["unreadable: none", { code: 1, output: "cat: permission denied" }, "none"],
    ["not asked (connection failed): none", null, "none"],
  ])("%s", (_name, read, expected) => {
    expect(storageMode(TOKEN, read)).toBe(expected);
  });

  test("the probe script reads the file, or says it is missing, in a real sh", async () => {
    const path = `/tmp/hangar-storage-probe-${process.pid}`;
    await Bun.write(path, `${TOKEN}\n`);
    expect(storageMode(TOKEN, await sh(storageProbeScript(path)))).toBe("shared");
    await Bun.file(path).delete();
    expect(storageMode(TOKEN, await sh(storageProbeScript(path)))).toBe("staged");
    // Quotes in the path stay one word.
    expect(storageProbeScript("/d/it's")).toContain(`'/d/it'\\''s'`);
  });

  test.each<[string, StorageMode, StorageMode, boolean, StorageMode, string | null]>([
    ["connect chooses shared", "none", "shared", true, "shared", null],
    ["connect chooses staged", "shared", "staged", true, "staged", null],
    ["a round keeps shared", "shared", "shared", false, "shared", null],
    [
      "a round that misses the file fails a shared node",
      "shared",
      "staged",
      false,
      "shared",
      "the master's probe file is not there",
    ],
    [
      "a round that cannot read fails a shared node",
      "shared",
      "none",
      false,
      "shared",
      "the probe file could not be read",
    ],
    ["a share appearing on a staged node is taken", "staged", "shared", false, "shared", null],
    ["a staged node stays staged", "staged", "none", false, "staged", null],
    ["never detected: the round chooses", "none", "staged", false, "staged", null],
  ])("%s", (_name, chosen, detected, connecting, storage, why) => {
    const r = checkStorage({ chosen, detected, connecting, dataDir: "/srv/hangar" });
    expect(r.storage).toBe(storage);
    if (why === null) expect(r.problem).toBeNull();
    else
      expect(r.problem).toBe(
        `shared storage lost: /srv/hangar on the node is not the master's data dir any more (${why})`,
      );
  });
});
