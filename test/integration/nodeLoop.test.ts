// The real master process: registers itself as node `local`, and its health loop (not test
// ticks) turns a worker error when its sshd stops and attached again when it is back.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until as poll } from "../helpers/poll";
import { client, type MasterProcess, spawnMaster } from "../helpers/processes";
import { STORE_TARGETS, storeEnv } from "../helpers/stores";
import { authorize, type TestWorker, testWorkers, workerSshd } from "../helpers/workers";

const until = <T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000) =>
  poll(what, get, ok, { timeoutMs: ms });

describe.each(STORE_TARGETS)("master process with the node health loop on %s", (target) => {
  let dataDir: string;
  let master: MasterProcess;
  let api: ReturnType<typeof client>;
  let token: string;
  const worker = () => testWorkers()[0] as TestWorker;
  let store: Awaited<ReturnType<typeof storeEnv>> | undefined;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "hangar-loop-"));
    store = await storeEnv(target);
    master = await spawnMaster({
      ...store.env,
      HANGAR_DATA_DIR: dataDir,
      HANGAR_ROOT_PASSWORD: "loopRoot1!",
      HANGAR_NODE_PROBE_SECONDS: "0.3",
      HANGAR_NODE_LOST_AFTER: "2",
    });
    api = client(master.url);
    token = (await api("POST", "/api/auth/login", undefined, { userId: "root", password: "loopRoot1!" })).body.token;
  });
  afterAll(async () => {
    await workerSshd("start", worker()).catch(() => {});
    await master?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    await store?.drop();
  });

  test("the master is node local, attached through its own Docker", async () => {
    const list = (await api("GET", "/api/nodes", token)).body;
    const local = list.items.find((n: any) => n.id === "local");
    expect(local).toMatchObject({ name: "local", status: "attached", gpuTotal: 0 });
    expect(local.dockerVersion).toMatch(/^\d+\./);
    expect(local.cpus).toBeGreaterThan(0);
    expect(local.interfaces.control).toBeTruthy();
  });

  test("a worker turns error when its sshd stops and attached when it is back, by the loop alone", async () => {
    const w = worker();
    authorize(w, (await api("GET", "/api/nodes/master-key", token)).body.publicKey);
    const added = await api("POST", "/api/nodes", token, { ip: w.ip, sshPort: w.port, name: "loop-w" });
    expect(added.status).toBe(201);
    const id = added.body.id as string;
    expect((await api("POST", `/api/nodes/${id}/connect`, token)).body.status).toBe("attached");
    await workerSshd("stop", w);
    const lost = await until(
      "error",
      () => api("GET", `/api/nodes/${id}`, token),
      (r) => r.body.status === "error",
    );
    expect(lost.body.statusMessage).toMatch(/refused|closed|no answer/);
    await workerSshd("start", w);
    await until(
      "attached",
      () => api("GET", `/api/nodes/${id}`, token),
      (r) => r.body.status === "attached",
    );
  }, 40_000);
});
