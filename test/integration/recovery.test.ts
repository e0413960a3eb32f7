// Recovery with real master processes: SIGKILL the master while a job runs and start it again
// (the job ends with its complete log, GPU counts right); stop a worker's sshd during a job
// (the job becomes lost and is requeued once on the other node).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUSYBOX_IMAGE } from "../helpers/env";
import { OPEN_PERIOD } from "../helpers/factories";
import { until as poll } from "../helpers/poll";
import { client, type MasterProcess, spawnMaster } from "../helpers/processes";
import { STORE_TARGETS, storeEnv } from "../helpers/stores";
import { authorize, type TestWorker, testWorkers, workerSshd } from "../helpers/workers";

const IMAGE = BUSYBOX_IMAGE;
const PASSWORD = "recoverRoot1!";

describe.each(STORE_TARGETS)("recovery on %s", (target) => {
  const dataDir = mkdtempSync(join(tmpdir(), "hangar-recovery-"));
  let store: Awaited<ReturnType<typeof storeEnv>> | undefined;
  const env: Record<string, string> = {
    HANGAR_DATA_DIR: dataDir,
    HANGAR_ROOT_PASSWORD: PASSWORD,
    HANGAR_NODE_PROBE_SECONDS: "0.3",
    HANGAR_NODE_LOST_AFTER: "2",
    HANGAR_JOB_LOST_AFTER: "1",
    HANGAR_SCHEDULER_BACKSTOP_SECONDS: "0.3",
    HANGAR_DEFAULT_IMAGE: IMAGE,
  };
  let master: MasterProcess;
  let api: ReturnType<typeof client>;
  let token: string;
  const nodeIds: Record<string, string> = {};

  const login = async () => {
    api = client(master.url);
    token = (await api("POST", "/api/auth/login", undefined, { userId: "root", password: PASSWORD })).body.token;
  };
  const until = (id: string, ok: (j: any) => boolean, ms = 40_000) =>
    poll(`job ${id}`, async () => (await api("GET", `/api/jobs/${id}`, token)).body, ok, {
      timeoutMs: ms,
      everyMs: 150,
    });

  beforeAll(async () => {
    store = await storeEnv(target);
    Object.assign(env, store.env);
    master = await spawnMaster(env);
    await login();
    const key = (await api("GET", "/api/nodes/master-key", token)).body.publicKey;
    for (const w of testWorkers()) {
      authorize(w, key);
      const added = await api("POST", "/api/nodes", token, {
        ip: w.ip,
        sshPort: w.port,
        name: `r-${w.ip.split(".").pop()}`,
      });
      expect(added.status).toBe(201);
      nodeIds[w.ip] = added.body.id;
      expect((await api("POST", `/api/nodes/${added.body.id}/connect`, token)).body.status).toBe("attached");
    }
    expect(
      (
        await api("POST", "/api/workspaces", token, {
          name: "rec",
          ...OPEN_PERIOD,
          trainingGpus: 1,
          deploymentGpus: 0,
          manager: "root",
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api("POST", "/api/workspaces/rec/trainings", token, {
          name: "t",
          type: "advanced",
          gpus: 1,
          access: "public",
        })
      ).status,
    ).toBe(201);
  });
  afterAll(async () => {
    for (const w of testWorkers()) await workerSshd("start", w).catch(() => {});
    await master?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    await store?.drop();
  });

  test("SIGKILL of the master during a job: after a restart the job succeeds with its complete log", async () => {
    const res = await api("POST", "/api/workspaces/rec/trainings/t/jobs", token, {
      name: "survivor",
      image: IMAGE,
      command: `sh -c 'i=0; while [ $i -lt 40 ]; do echo "line $i"; i=$((i+1)); sleep 0.1; done'`,
    });
    expect(res.status).toBe(201);
    const id = res.body.items[0].id as string;
    await until(id, (j) => j.status === "running");
    for (let i = 0; i < 50; i++) {
      const log = (await api("GET", `/api/jobs/${id}/log`, token)).body as string;
      if (typeof log === "string" && log.includes("line 5")) break;
      await Bun.sleep(100);
    }
    master.proc.kill("SIGKILL");
    await master.proc.exited;
    await Bun.sleep(500);
    master = await spawnMaster(env);
    await login();
    const done = await until(id, (j) => j.status === "succeeded" || j.status === "failed" || j.status === "lost");
    expect(done.status).toBe("succeeded");
    expect(done.exitCode).toBe(0);
    const log = (await api("GET", `/api/jobs/${id}/log`, token)).body as string;
    const lines = log.split("\n").filter((l) => l.startsWith("line "));
    expect(lines).toEqual(Array.from({ length: 40 }, (_, i) => `line ${i}`));
    const nodes = (await api("GET", "/api/nodes", token)).body.items;
    expect(nodes.every((n: { gpusInUse: number }) => n.gpusInUse === 0)).toBe(true);
    expect((await api("GET", "/api/workspaces/rec", token)).body.gpusInUse.training).toBe(0);
  }, 90_000);

  const submit = async (name: string, command: string) => {
    const res = await api("POST", "/api/workspaces/rec/trainings/t/jobs", token, { name, image: IMAGE, command });
    expect(res.status).toBe(201);
    return res.body.items[0].id as string;
  };
  const killMaster = async () => {
    master.proc.kill("SIGKILL");
    await master.proc.exited;
  };

  test("a job that ended while the master was down: its exit code and the rest of its log are taken at start", async () => {
    const id = await submit(
      "finisher",
      `sh -c 'i=0; while [ $i -lt 10 ]; do echo "step $i"; i=$((i+1)); sleep 0.1; done; exit 3'`,
    );
    await until(id, (j) => j.status === "running");
    await killMaster();
    await Bun.sleep(2500); // the container exits meanwhile
    master = await spawnMaster(env);
    await login();
    const done = await until(id, (j) => j.status === "failed" || j.status === "succeeded" || j.status === "lost");
    expect(done.status).toBe("failed");
    expect(done.exitCode).toBe(3);
    const log = (await api("GET", `/api/jobs/${id}/log`, token)).body as string;
    expect(log.split("\n").filter((l) => l.startsWith("step "))).toEqual(
      Array.from({ length: 10 }, (_, i) => `step ${i}`),
    );
  }, 60_000);

  test("a job whose container vanished while the master was down is lost", async () => {
    const id = await submit("vanisher", "sleep 600");
    await until(id, (j) => j.status === "running");
    await killMaster();
    await Bun.$`docker rm -f hangar-job-${id}-0`.quiet();
    master = await spawnMaster(env);
    await login();
    const gone = await until(id, (j) => j.status !== "running");
    expect(gone.status).toBe("lost");
    expect(gone.statusReason).toContain("container is gone");
    expect((await api("GET", "/api/workspaces/rec", token)).body.gpusInUse.training).toBe(0);
  }, 60_000);

  test("a worker lost during a job: the job becomes lost and is requeued once on the other node", async () => {
    const res = await api("POST", "/api/workspaces/rec/trainings/t/jobs", token, {
      name: "wanderer",
      image: IMAGE,
      command: "sleep 600",
    });
    const id = res.body.items[0].id as string;
    const first = await until(id, (j) => j.status === "running");
    const lostIp = Object.entries(nodeIds).find(([, nid]) => nid === first.node)?.[0] as string;
    const worker = testWorkers().find((w) => w.ip === lostIp) as TestWorker;
    await workerSshd("stop", worker);
    try {
      const again = await until(id, (j) => j.status === "running" && j.node !== first.node);
      expect(again.node).not.toBe(first.node);
      const events = (await api("GET", `/api/jobs/${id}/events`, token)).body.items.map((e: { to: string }) => e.to);
      expect(events).toEqual(["pending", "starting", "running", "lost", "pending", "starting", "running"]);
      const log = (await api("GET", `/api/jobs/${id}/log`, token)).body as string;
      expect(log).toContain("stopped answering: job lost");
      expect(log).toContain("requeued once on another node");
    } finally {
      await workerSshd("start", worker);
    }
    const cancelled = await api("POST", `/api/jobs/${id}/cancel`, token);
    expect(cancelled.body.status).toBe("cancelled");
  }, 90_000);
});
