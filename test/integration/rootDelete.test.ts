// Deleting what a job wrote as root, with the master running as its own non-root user (as the
// installer runs it): a master process under setpriv (uid 65534, plus the Docker socket's group),
// folders made as root by a real container in a dataset and a code folder. The member deletes
// the files inside them through the API; deleting the dataset leaves nothing in the trash.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dataLayout } from "../../src/lib/layout";
import { BUSYBOX_IMAGE } from "../helpers/env";
import { OPEN_PERIOD } from "../helpers/factories";
import { client, type MasterProcess, spawnMaster } from "../helpers/processes";

const UID = 65534;
const NO_RM_IMAGE = "hangar-test/no-rm:latest";
const SOCKET = process.env.HANGAR_DOCKER_SOCKET ?? "/var/run/docker.sock";

/** Runs `script` in a root container with `dir` at /d: what a job does to its read-write mounts. */
async function asJob(dir: string, script: string): Promise<void> {
  const proc = Bun.spawn(["docker", "run", "--rm", "-v", `${dir}:/d`, BUSYBOX_IMAGE, "sh", "-c", script], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`job stand-in exited ${code}: ${await new Response(proc.stderr).text()}`);
}

function trashEntries(dataDir: string): string[] {
  const staging = dataLayout(dataDir).staging;
  return existsSync(staging) ? readdirSync(staging).filter((n) => n.startsWith("trash-")) : [];
}

async function helperContainers(cluster: string): Promise<string> {
  const proc = Bun.spawn(
    ["docker", "ps", "-aq", "--filter", `label=hangar.cluster=${cluster}`, "--filter", "label=hangar.purpose=delete"],
    { stdout: "pipe" },
  );
  return (await new Response(proc.stdout).text()).trim();
}

describe("a master running as a non-root user deletes what jobs wrote as root", () => {
  let dataDir: string;
  let home: string;
  let master: MasterProcess;
  let api: ReturnType<typeof client>;
  let root: string;
  let alice: string;
  const layout = () => dataLayout(dataDir);

  /** (Re)starts the master as uid 65534 with the Docker socket's group. */
  async function start(defaultImage: string): Promise<void> {
    master = await spawnMaster(
      {
        HANGAR_DATA_DIR: dataDir,
        HANGAR_ROOT_PASSWORD: "rootDel1!",
        HANGAR_DEFAULT_IMAGE: defaultImage,
        HANGAR_DOCKER_SOCKET: SOCKET,
        HOME: home,
        BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0",
      },
      30_000,
      ["setpriv", `--reuid=${UID}`, `--regid=${UID}`, `--groups=${lstatSync(SOCKET).gid}`],
    );
    api = client(master.url);
  }

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("this test drops to uid 65534: run it as root");
    dataDir = mkdtempSync(join(tmpdir(), "hangar-rootdel-"));
    home = mkdtempSync(join(tmpdir(), "hangar-rootdel-home-"));
    chownSync(dataDir, UID, UID);
    chownSync(home, UID, UID);
    await start(BUSYBOX_IMAGE);
    root = (await api("POST", "/api/auth/login", undefined, { userId: "root", password: "rootDel1!" })).body.token;
    expect(
      (await api("POST", "/api/users", root, { userId: "alice", password: "alicePass1!", role: "user" })).status,
    ).toBe(201);
    alice = (await api("POST", "/api/auth/login", undefined, { userId: "alice", password: "alicePass1!" })).body.token;
    const ws = await api("POST", "/api/workspaces", root, {
      name: "lab",
      ...OPEN_PERIOD,
      trainingGpus: 0,
      deploymentGpus: 0,
      manager: "root",
      users: ["alice"],
    });
    expect(ws.status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await master?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
    Bun.spawnSync(["docker", "rmi", "-f", NO_RM_IMAGE], { stdout: "ignore", stderr: "ignore" });
  });

  test("the master really runs as uid 65534", () => {
    const status = readFileSync(`/proc/${master.proc.pid}/status`, "utf8");
    expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe(String(UID));
  });

  test("a file in a folder a job made as root is deleted by its member; the dataset leaves no trash", async () => {
    const made = await api("POST", "/api/workspaces/lab/datasets", alice, { name: "shared", access: "read-write" });
    expect(made.status).toBe(201);
    const dir = layout().dataset("lab", "shared");
    await asJob(dir, "mkdir -p /d/made/deep && echo one > /d/made/deep/a.txt && echo two > /d/made/b.txt");
    // The precondition: root's folders, which uid 65534 may not change.
    expect(lstatSync(join(dir, "made", "deep")).uid).toBe(0);
    expect(lstatSync(join(dir, "made", "deep")).mode & 0o777).toBe(0o755);

    const del = await api("DELETE", "/api/workspaces/lab/datasets/shared/files/made/deep/a.txt", alice);
    expect(del.status).toBe(204);
    expect(existsSync(join(dir, "made", "deep", "a.txt"))).toBe(false);
    const files = (await api("GET", "/api/workspaces/lab/datasets/shared/files", alice)).body;
    expect(files.items.map((f: { path: string }) => f.path)).toEqual(["made/b.txt"]);
    // Still a file-only delete: a folder is refused, as before.
    expect((await api("DELETE", "/api/workspaces/lab/datasets/shared/files/made/deep", alice)).status).toBe(404);
    expect(existsSync(join(dir, "made", "deep"))).toBe(true);

    const gone = await api("DELETE", "/api/workspaces/lab/datasets/shared", alice);
    expect(gone.status).toBe(204);
    expect(existsSync(dir)).toBe(false);
    expect(trashEntries(dataDir)).toEqual([]);
    expect(await helperContainers(readFileSync(layout().clusterIdFile, "utf8").trim())).toBe("");
  }, 60_000);

  test("a code file in a folder a notebook made as root is deleted", async () => {
    const tr = await api("POST", "/api/workspaces/lab/trainings", alice, {
      name: "nb",
      type: "advanced",
      gpus: 0,
      access: "private",
    });
    expect(tr.status).toBe(201);
    const code = layout().code("lab", "nb");
    await asJob(code, "mkdir -p /d/.ipynb_checkpoints && echo x > /d/.ipynb_checkpoints/t-checkpoint.ipynb");
    expect(lstatSync(join(code, ".ipynb_checkpoints")).uid).toBe(0);
    const del = await api(
      "DELETE",
      "/api/workspaces/lab/trainings/nb/files/.ipynb_checkpoints/t-checkpoint.ipynb",
      alice,
    );
    expect(del.status).toBe(204);
    expect(existsSync(join(code, ".ipynb_checkpoints", "t-checkpoint.ipynb"))).toBe(false);
  }, 60_000);

  test("a deleted dataset left in the trash by an older master is swept at start", async () => {
    // What the old master left: a trash entry (the master's) holding root's folders.
    mkdirSync(layout().staging, { recursive: true });
    chownSync(layout().staging, UID, UID);
    const entry = join(layout().staging, `trash-${crypto.randomUUID()}`);
    mkdirSync(entry);
    chownSync(entry, UID, UID);
    await asJob(entry, "mkdir -p /d/x/y && echo z > /d/x/y/z.bin");
    expect(trashEntries(dataDir)).toHaveLength(1);
    await master.stop();
    await start(BUSYBOX_IMAGE);
    const deadline = Date.now() + 30_000;
    while (trashEntries(dataDir).length > 0 && Date.now() < deadline) await Bun.sleep(200);
    expect(trashEntries(dataDir)).toEqual([]);
  }, 60_000);

  test("an image without /bin/rm is passed over for the next one ready on the master", async () => {
    // An image with no files at all, made the default: the builtin row (busybox, global, ready) is next.
    const build = Bun.spawn(["docker", "build", "-q", "-t", NO_RM_IMAGE, "-"], {
      stdin: new TextEncoder().encode("FROM scratch\nLABEL hangar.test=no-rm\n"),
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await build.exited).toBe(0);
    await master.stop();
    await start(NO_RM_IMAGE);
    alice = (await api("POST", "/api/auth/login", undefined, { userId: "alice", password: "alicePass1!" })).body.token;
    expect(
      (await api("POST", "/api/workspaces/lab/datasets", alice, { name: "again", access: "read-write" })).status,
    ).toBe(201);
    const dir = layout().dataset("lab", "again");
    await asJob(dir, "mkdir -p /d/out && echo w > /d/out/w.txt");
    const del = await api("DELETE", "/api/workspaces/lab/datasets/again/files/out/w.txt", alice);
    expect(del.status).toBe(204);
    expect(existsSync(join(dir, "out", "w.txt"))).toBe(false);
    // The empty image was tried first, and passed over.
    expect(master.output()).toContain("deleting files a job wrote: the image has no usable /bin/rm");
    expect(await helperContainers(readFileSync(layout().clusterIdFile, "utf8").trim())).toBe("");
  }, 60_000);
});
