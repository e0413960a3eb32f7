// CPU-only work end to end on the real Docker Engine: a fresh master with no GPU registers itself
// as node `local`, a workspace reserving no GPUs is created on that GPU-less cluster, and a job
// asking for 0 GPUs runs there with its CPU and memory limits enforced by Docker (read back from
// the container's cgroup). The workspace's CPU share holds a second job pending with the reason.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BUSYBOX_IMAGE } from "../helpers/env";
import { makeTraining, makeWorkspace } from "../helpers/factories";
import { until as poll } from "../helpers/poll";
import { STORE_TARGETS } from "../helpers/stores";
import { startTestMaster, type TestMaster } from "../helpers/testMaster";

/** Prints the container's CPU quota and memory limit (cgroup v2, else v1). */
const LIMITS =
  "cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us; " +
  "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes";

for (const target of STORE_TARGETS) {
  describe(`CPU-only jobs on a master without GPUs (${target})`, () => {
    let m: TestMaster;
    let root: string;
    let alice: string;

    const job = async (id: string) => (await m.json("GET", `/api/jobs/${id}`, { token: alice })).body;
    const until = (id: string, ok: (j: any) => boolean, ms = 60_000) =>
      poll(`job ${id}`, () => job(id), ok, { timeoutMs: ms });
    const submit = (body: Record<string, unknown>) =>
      m.json("POST", "/api/workspaces/cpu-ws/trainings/prep/jobs", {
        token: alice,
        body: { image: BUSYBOX_IMAGE, ...body },
      });

    beforeAll(async () => {
      m = await startTestMaster(target, { schedulerBackstopSeconds: 0.2 }, { scheduler: true, localNode: true });
      root = await m.rootToken();
      alice = await m.userWithToken("alice");
    });
    afterAll(() => m.close());

    test("the master is node local, attached, with no GPUs", async () => {
      const nodes = await poll(
        "node local",
        async () => (await m.json("GET", "/api/nodes", { token: root })).body.items,
        (items: any[]) => items.some((n) => n.id === "local" && n.status === "attached"),
      );
      const local = nodes.find((n: { id: string }) => n.id === "local");
      expect(local.gpus).toEqual([]);
      expect(local.cpus).toBeGreaterThanOrEqual(2);
    });

    test("a workspace with no GPUs and a CPU share is created on the GPU-less cluster", async () => {
      const ws = await makeWorkspace(m, root, "cpu-ws", {
        trainingGpus: 0,
        cpus: 2,
        memoryMiB: 1024,
        users: ["alice"],
      });
      expect(ws).toMatchObject({ trainingGpus: 0, deploymentGpus: 0, cpus: 2, memoryMiB: 1024 });
      // A GPU is still refused: the cluster has none.
      const over = await m.json("PATCH", "/api/workspaces/cpu-ws", { token: root, body: { trainingGpus: 1 } });
      expect(over.status).toBe(409);
      const tr = await makeTraining(m, alice, "cpu-ws", "prep", { gpus: 0, cpus: 1.5, memoryMiB: 256 });
      expect(tr).toMatchObject({ gpus: 0, cpus: 1.5, memoryMiB: 256 });
    });

    test("a CPU-only job runs on node local with its CPU and memory limits", async () => {
      const res = await submit({ name: "limits", command: LIMITS });
      expect(res.status).toBe(201);
      const [created] = res.body.items;
      expect(created).toMatchObject({ gpus: 0, cpus: 1.5, memoryMiB: 256 });
      const done = await until(created.id, (j) => j.status === "succeeded" || j.status === "failed");
      expect(done).toMatchObject({ status: "succeeded", node: "local", exitCode: 0 });
      expect(done.assignments).toEqual([{ nodeId: "local", gpuUuids: [] }]);
      const log = await (await m.request("GET", `/api/jobs/${created.id}/log`, { token: alice })).text();
      // 1.5 CPUs: a quota of 150000 µs per 100000 µs period; 256 MiB in bytes.
      expect(log).toContain("150000");
      expect(log).toContain(String(256 * 1024 * 1024));
    });

    test.each<[string, Record<string, unknown>, string, RegExp]>([
      ["more CPUs than the workspace shares", { cpus: 3 }, "cpus", /more than workspace cpu-ws's 2 CPU cores/],
      ["no CPUs in a workspace with a CPU share", { cpus: 0 }, "cpus", /say how many the job uses/],
      ["more memory than the workspace shares", { memoryMiB: 2048 }, "memoryMiB", /1024 MiB of memory/],
      ["negative CPUs", { cpus: -1 }, "cpus", /0 \(no limit\)/],
      ["negative GPUs", { gpus: -1 }, "gpus", /0 \(CPU only\)/],
      [
        "RDMA on a cluster without InfiniBand",
        { gpuOptions: ["rdma-infiniband"] },
        "gpuOptions",
        /rdma-infiniband needs a node with an InfiniBand interface; none of the cluster's nodes has one/,
      ],
    ])("refused: %s", async (_name, extra, field, message) => {
      const res = await submit({ name: "bad", command: "true", ...extra });
      expect(res.status).toBe(400);
      expect(res.body.error.field).toBe(field);
      expect(res.body.error.message).toMatch(message);
    });

    test("the workspace's CPU share holds a second job pending with the reason, until the first ends", async () => {
      const first = (await submit({ name: "long", command: "sleep 60" })).body.items[0];
      await until(first.id, (j) => j.status === "running");
      const second = (await submit({ name: "short", command: "echo done", cpus: 1 })).body.items[0];
      const waiting = await until(second.id, (j) => j.reasonCode === "workspace");
      expect(waiting).toMatchObject({
        status: "pending",
        statusReason: "workspace cpu-ws: 1.5 of 2 CPUs in use; the job asks for 1",
      });
      expect((await m.json("POST", `/api/jobs/${first.id}/cancel`, { token: alice })).status).toBe(200);
      expect(await until(second.id, (j) => j.status === "succeeded")).toMatchObject({ node: "local" });
    });
  });
}
