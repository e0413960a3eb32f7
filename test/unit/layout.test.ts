// The data directory's layout: the on-disk names existing installations already have (a rename
// would orphan their data), all under the root; and the layout and the executor stay in their rooms.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { dataLayout } from "../../src/lib/layout";

const SRC = join(import.meta.dir, "..", "..", "src");
const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
const importsOf = (file: string) =>
  [...readFileSync(file, "utf8").matchAll(/^import\s[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1] as string);

describe("data layout", () => {
  const l = dataLayout("/data");

  test.each([
    [l.sqliteFile, "hangar.db"],
    [l.pidFile, "hangar.pid"],
    [l.accessLogs, "log"],
    [l.accessLogFile("20260102"), "log/20260102.log"],
    [l.backups, "backup"],
    [l.sshDir, "ssh"],
    [l.masterKeyFile, "ssh/id_ed25519"],
    [l.gatewayHostKeyFile, "ssh/gateway_host_ed25519"],
    [l.dockerForward("n1"), "run/docker-n1.sock"],
    [l.localAdminTokenFile, "run/local-admin.token"],
    [l.staging, "tmp"],
    [l.jobLogDir("j1"), "jobs/j1"],
    [l.jobLog("j1"), "jobs/j1/log"],
    [l.jobLogLast("j1"), "jobs/j1/log.last"],
    [l.jobLogLast("j1.1"), "jobs/j1/log.1.last"],
    [l.builtinModel("tabular-regression"), "builtin/tabular-regression"],
    [l.workspaceDatasets("ws"), "workspaces/ws/datasets"],
    [l.dataset("ws", "ds"), "workspaces/ws/datasets/ds"],
    [l.training("ws", "tr"), "workspaces/ws/trainings/tr"],
    [l.code("ws", "tr"), "workspaces/ws/trainings/tr/code"],
    [l.jobOutput("ws", "tr", "j1"), "workspaces/ws/trainings/tr/jobs/j1/output"],
  ])("%s is <data>/%s", (path, rel) => {
    expect(path).toBe(`/data/${rel}`);
  });

  test("a relative root stays relative (./data by default)", () => {
    expect(dataLayout("data").dataset("ws", "ds")).toBe(join("data", "workspaces", "ws", "datasets", "ds"));
  });

  test("the layout module imports no feature folder", () => {
    const imports = importsOf(join(SRC, "lib", "layout.ts"));
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((i) => !i.startsWith("node:"))).toEqual([]);
  });
});

describe("executor port", () => {
  test("only src/executor imports dockerode", () => {
    const users = sourceFiles(SRC)
      .filter((f) => importsOf(f).some((i) => i === "dockerode" || i.startsWith("dockerode/")))
      .map((f) => relative(SRC, f));
    expect(users.length).toBeGreaterThan(0);
    expect(users.filter((f) => !f.startsWith("executor/"))).toEqual([]);
  });

  test("outside src/executor only the port, the spec and the engine factories are used", () => {
    const reachIn = sourceFiles(SRC)
      .filter((f) => !relative(SRC, f).startsWith("executor/"))
      .flatMap((f) => importsOf(f).map((i) => [relative(SRC, f), i] as const))
      .filter(([, i]) => /\/executor\/(dockerOptions|executor)$/.test(i));
    expect(reachIn).toEqual([["nodes/manager.ts", "../executor/executor"]]);
  });
});
