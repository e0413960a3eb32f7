// The pure part of `staged` storage: manifests as find prints them, content keys, what a
// transfer moves, and where a staged node's mounts point (the same jobMounts as every node).
import { describe, expect, test } from "bun:test";
import {
  besideName,
  contentKey,
  formatManifest,
  type Manifest,
  parseManifest,
  pickEvictions,
  planMerge,
  planTransfer,
  retryDelay,
  sourceId,
  stagePaths,
} from "../../src/domain/staging";
import { jobMounts, type MountSources } from "../../src/jobs/spec";
import { dataLayout } from "../../src/lib/layout";
import { sftpRoots } from "../../src/ssh/roots";

const find = (rows: [string, number, string, string][]) => rows.map((r) => `${r.join(" ")}\0`).join("");
const manifest = (rows: [string, number, string, string][]): Manifest => parseManifest(find(rows));

describe("manifests", () => {
  test("find's output becomes entries with whole-second mtimes; folders carry no size or time", () => {
    const m = manifest([
      ["d", 4096, "1700000000.5", "sub"],
      ["f", 12, "1700000001.9999999990", "sub/a b.txt"],
      ["l", 5, "1700000002.1", "link"],
      ["s", 0, "1700000002.1", "socket"],
    ]);
    expect([...m.entries()]).toEqual([
      ["sub", { type: "d", size: 0, mtime: 0 }],
      ["sub/a b.txt", { type: "f", size: 12, mtime: 1700000001 }],
      ["link", { type: "l", size: 5, mtime: 1700000002 }],
    ]);
  });

  test("the content key follows paths, sizes and mtimes, not the listing order", () => {
    const a = manifest([
      ["f", 1, "10", "x"],
      ["f", 2, "20", "y"],
    ]);
    const b = manifest([
      ["f", 2, "20.7", "y"],
      ["f", 1, "10", "x"],
    ]);
    expect(contentKey(a)).toBe(contentKey(b));
    expect(contentKey(a)).toMatch(/^[0-9a-f]{32}$/);
    expect(contentKey(manifest([["f", 1, "11", "x"]]))).not.toBe(contentKey(manifest([["f", 1, "10", "x"]])));
    expect(contentKey(manifest([["f", 2, "10", "x"]]))).not.toBe(contentKey(manifest([["f", 1, "10", "x"]])));
  });
});

describe("transfer plans", () => {
  const src = manifest([
    ["d", 0, "0", "d"],
    ["f", 100, "10", "d/same"],
    ["f", 200, "10", "d/grown"],
    ["f", 300, "10", "new"],
    ["l", 3, "99", "link"],
  ]);

  test("to an empty node everything moves, parents first", () => {
    const plan = planTransfer(src, new Map(), true);
    expect(plan).toEqual({
      send: ["d", "d/grown", "d/same", "link", "new"],
      remove: [],
      bytes: 600,
      files: 3,
      reused: 0,
    });
  });

  test("only what differs moves; gone entries are removed (a folder with its contents); kinds that changed are replaced", () => {
    const dst = manifest([
      ["d", 0, "0", "d"],
      ["f", 100, "10", "d/same"],
      ["f", 150, "10", "d/grown"],
      ["d", 0, "0", "new"],
      ["f", 1, "5", "new/inside"],
      ["l", 3, "1", "link"],
      ["d", 0, "0", "old"],
      ["f", 7, "1", "old/file"],
    ]);
    const plan = planTransfer(src, dst, true);
    expect(plan).toEqual({ send: ["d/grown", "new"], remove: ["new", "old"], bytes: 500, files: 2, reused: 1 });
    // Copying output back: what the master already has stays.
    expect(planTransfer(src, dst, false).remove).toEqual(["new"]);
  });

  test("a node holding the same content moves nothing", () => {
    expect(planTransfer(src, new Map(src), true)).toEqual({ send: [], remove: [], bytes: 0, files: 0, reused: 3 });
  });

  test("failed copies back wait 1, 2, 4 … seconds, at most the cap", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelay(n))).toEqual([1, 2, 4, 8, 16, 30, 30]);
    expect(retryDelay(4, 5)).toBe(5);
  });
});

describe("merging read-write inputs back", () => {
  const base = manifest([
    ["f", 10, "100", "same.py"],
    ["f", 10, "100", "edited.py"],
    ["f", 10, "100", "both.ipynb"],
    ["f", 10, "100", "both-same"],
    ["f", 10, "100", "gone"],
    ["f", 10, "100", "gone-but-edited-on-master"],
    ["d", 0, "0", "old"],
    ["f", 1, "100", "old/x"],
  ]);

  test("only what the job changed moves; both changed: the master's stays and the node's goes beside it", () => {
    const node = manifest([
      ["f", 10, "100", "same.py"],
      ["f", 12, "200", "edited.py"],
      ["f", 11, "200", "both.ipynb"],
      ["f", 11, "200", "both-same"],
      ["f", 10, "200", "kept"],
      ["d", 0, "0", "new"],
      ["f", 5, "200", "new/a"],
      ["l", 4, "200", "new/link"],
      ["d", 0, "0", "old"],
      ["f", 1, "100", "old/x"],
    ]);
    const master = manifest([
      ["f", 10, "100", "same.py"],
      ["f", 10, "100", "edited.py"],
      ["f", 13, "300", "both.ipynb"],
      ["f", 11, "200", "both-same"],
      ["f", 10, "100", "gone"],
      ["f", 14, "300", "gone-but-edited-on-master"],
      ["d", 0, "0", "old"],
      ["f", 1, "100", "old/x"],
    ]);
    const plan = planMerge(base, node, master, "j1");
    expect(plan.bring).toEqual([
      { path: "both.ipynb", dest: "both.from-j1.ipynb", type: "f", conflict: true },
      { path: "edited.py", dest: "edited.py", type: "f", conflict: false },
      { path: "kept", dest: "kept", type: "f", conflict: false },
      { path: "new", dest: "new", type: "d", conflict: false },
      { path: "new/a", dest: "new/a", type: "f", conflict: false },
      { path: "new/link", dest: "new/link", type: "l", conflict: false },
    ]);
    expect(plan.fetch).toEqual(["both.ipynb", "edited.py", "kept", "new/a", "new/link"]);
    expect(plan).toMatchObject({ files: 4, bytes: 11 + 12 + 10 + 5 });
    // Deleted by the job: gone on the master only where the master's is still the staged one.
    expect(plan.remove).toEqual(["gone"]);
  });

  test("a folder the job made where the master made a file goes beside it whole; children are deleted first", () => {
    const node = manifest([
      ["d", 0, "0", "x"],
      ["f", 3, "200", "x/in"],
    ]);
    const master = manifest([
      ["f", 9, "300", "x"],
      ["d", 0, "0", "old"],
      ["f", 1, "100", "old/x"],
    ]);
    const plan = planMerge(base, node, master, "j2");
    expect(plan.bring).toEqual([
      { path: "x", dest: "x.from-j2", type: "d", conflict: true },
      { path: "x/in", dest: "x.from-j2/in", type: "f", conflict: false },
    ]);
    expect(plan.remove).toEqual(["old/x", "old"]);
  });

  test("after a merge the node's manifest is the base: nothing moves again", () => {
    const node = manifest([
      ["f", 12, "200", "a"],
      ["f", 3, "200", "b"],
    ]);
    const master = manifest([["f", 12, "200", "a"]]);
    expect(planMerge(node, node, master, "j").bring).toEqual([]);
    // The base survives being written and read back.
    expect(parseManifest(formatManifest(base))).toEqual(base);
  });

  test("beside names keep the extension", () => {
    expect(besideName("nb.ipynb", "ab12")).toBe("nb.from-ab12.ipynb");
    expect(besideName("sub/dir.d/Makefile", "ab12")).toBe("sub/dir.d/Makefile.from-ab12");
    expect(besideName(".bashrc", "ab12")).toBe(".bashrc.from-ab12");
  });
});

describe("cache eviction", () => {
  const day = 86400;
  const now = 100 * day;
  const e = (key: string, bytes: number, daysAgo: number, inUse = false) => ({
    key,
    bytes,
    lastUsed: now - daysAgo * day,
    inUse,
  });

  test("over the cap: least recently used first until under it; entries in use stay", () => {
    const entries = [e("a", 50, 3), e("b", 30, 5, true), e("c", 40, 1), e("d", 20, 4)];
    expect(pickEvictions(entries, now, { maxBytes: 100, maxIdleSeconds: 7 * day })).toEqual(["d", "a"]);
    expect(pickEvictions(entries, now, { maxBytes: 1000, maxIdleSeconds: 7 * day })).toEqual([]);
    // Everything in use: nothing goes, however full.
    expect(pickEvictions([e("x", 500, 30, true)], now, { maxBytes: 1, maxIdleSeconds: day })).toEqual([]);
  });

  test("unused longer than the idle limit goes even under the cap", () => {
    const entries = [e("old", 1, 8), e("new", 1, 2), e("old-used", 1, 9, true)];
    expect(pickEvictions(entries, now, { maxBytes: 1000, maxIdleSeconds: 7 * day })).toEqual(["old"]);
  });
});

describe("staged mounts", () => {
  const layout = dataLayout("/srv/hangar");
  const sources: MountSources = {
    job: { id: "j1", workspace: "ws1", kind: "run" },
    training: "tr1",
    dataset: { name: "imgs", readOnly: true },
    builtinModel: null,
    servedJobId: null,
  };

  test("a staged node mounts its cache: inputs by content key, read-write folders and /output per job", () => {
    const master = jobMounts(layout, sources);
    const staged = jobMounts(layout, sources, { root: "/var/cache/h", keys: { "/dataset": "k1", "/code": "k2" } });
    expect(staged).toEqual([
      { source: "/var/cache/h/jobs/j1/code", target: "/code", readOnly: false },
      { source: "/var/cache/h/jobs/j1/output", target: "/output", readOnly: false },
      { source: "/var/cache/h/content/k1", target: "/dataset", readOnly: true },
    ]);
    // Same targets and modes as on a shared node; SFTP keeps serving the master's folders.
    expect(staged.map((m) => [m.target, m.readOnly])).toEqual(master.map((m) => [m.target, m.readOnly]));
    expect(sftpRoots(master).map((r) => r.dir)).toEqual(master.map((m) => m.source));
    const rw = jobMounts(
      layout,
      { ...sources, dataset: { name: "imgs", readOnly: false } },
      { root: "/c", keys: { "/dataset": "k1" } },
    );
    expect(rw.find((m) => m.target === "/dataset")?.source).toBe("/c/jobs/j1/dataset");
  });

  test("cache paths", () => {
    const p = stagePaths("/c/");
    expect([p.content("k"), p.latest("s"), p.job("j"), p.jobMount("j", "/output")]).toEqual([
      "/c/content/k",
      "/c/latest/s",
      "/c/jobs/j",
      "/c/jobs/j/output",
    ]);
    expect(sourceId("/a")).toMatch(/^[0-9a-f]{24}$/);
    expect(sourceId("/a")).not.toBe(sourceId("/b"));
  });
});
