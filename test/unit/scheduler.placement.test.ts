import { describe, expect, test } from "bun:test";
import { schedulePass } from "../../src/scheduler/pass";
import { demandOn, FreeCapacity, place } from "../../src/scheduler/placement";
import { isPlacement, type JobRequest, type NodeState, type Placement } from "../../src/scheduler/types";

const node = (id: string, free: number[], extra: Partial<NodeState> = {}): NodeState => ({
  id,
  schedulable: true,
  gpus: free.map((f, i) => ({ uuid: `${id}-g${i}`, free: f })),
  freeCpus: 64,
  freeMemoryMiB: 512 * 1024,
  ...extra,
});
const whole = (id: string, count: number, extra: Partial<NodeState> = {}) => node(id, Array(count).fill(1), extra);
const job = (gpus: number, extra: Partial<JobRequest> = {}): JobRequest => ({
  id: "j",
  workspace: "ws",
  user: "u",
  gpus,
  submittedAt: 0,
  attempts: 0,
  ...extra,
});
/** "node:count" per assignment, or "node/device@fraction" for a share, or the reason. */
const summary = (r: Placement | { reason: string }): string[] | string =>
  isPlacement(r)
    ? r.assignments.map((a) =>
        a.fraction === undefined ? `${a.nodeId}:${a.gpuUuids.length}` : `${a.gpuUuids[0]}@${a.fraction}`,
      )
    : r.reason;

describe("placement", () => {
  test.each<[string, JobRequest, NodeState[], string[] | string]>([
    ["one node that fits rather than two", job(4), [whole("a", 3), whole("b", 5)], ["b:4"]],
    [
      "best fit: the fewest free GPUs that still hold it",
      job(4),
      [whole("a", 8), whole("b", 4), whole("c", 5)],
      ["b:4"],
    ],
    ["best fit for 5", job(5), [whole("a", 8), whole("b", 4), whole("c", 5)], ["c:5"]],
    [
      "spans: the largest free first",
      job(6),
      [whole("a", 3), whole("b", 3), whole("c", 2), whole("d", 1)],
      ["a:3", "b:3"],
    ],
    [
      "spans: the rest on the smallest node that holds it",
      job(5),
      [whole("a", 3), whole("b", 3), whole("c", 2), whole("d", 1)],
      ["a:3", "c:2"],
    ],
    [
      "not enough in all",
      job(7),
      [whole("a", 3), whole("b", 2)],
      "no schedulable node has 7 free GPUs (most free on one node: 3; 5 free in all)",
    ],
    [
      "nodes: 1 never spans",
      job(4, { nodes: 1 }),
      [whole("a", 2), whole("b", 2)],
      "no schedulable node has 4 free GPUs (most free on one node: 2)",
    ],
    [
      "nodes: 2 splits evenly, best fit",
      job(8, { nodes: 2 }),
      [whole("a", 8), whole("b", 4), whole("c", 5)],
      ["b:4", "c:4"],
    ],
    [
      "nodes: 2 uses two nodes even when one would do",
      job(4, { nodes: 2 }),
      [whole("a", 8), whole("b", 2)],
      ["b:2", "a:2"],
    ],
    [
      "nodes: 2 with one node big enough",
      job(8, { nodes: 2 }),
      [whole("a", 8), whole("b", 3)],
      "needs 2 nodes with 4 free GPUs each; only 1 has them",
    ],
    ["whole jobs only on wholly free devices", job(2), [node("a", [0.75, 1, 0, 1])], ["a:2"]],
    [
      "a 0.75-free device is not a free GPU",
      job(3),
      [node("a", [0.75, 1, 1])],
      "no schedulable node has 3 free GPUs (most free on one node: 2; 2 free in all)",
    ],
    ["unschedulable nodes are skipped", job(4), [whole("a", 8, { schedulable: false }), whole("b", 4)], ["b:4"]],
    ["no schedulable node at all", job(1), [whole("a", 8, { schedulable: false })], "no schedulable node"],
    [
      "CPUs count: the node with enough",
      job(4, { cpus: 16 }),
      [whole("a", 4, { freeCpus: 8 }), whole("b", 8)],
      ["b:4"],
    ],
    [
      "CPUs count: the reason names them",
      job(4, { nodes: 1, cpus: 16, memoryMiB: 1024 }),
      [whole("a", 4, { freeCpus: 8 }), whole("b", 2)],
      "1 node has 4 free GPUs, but none also has 16 free CPUs and 1024 MiB free memory",
    ],
    [
      "CPUs count: spread over nodes the CPUs still lack",
      job(4, { cpus: 16 }),
      [whole("a", 3, { freeCpus: 3 }), whole("b", 2, { freeCpus: 4 })],
      "no schedulable node has 4 free GPUs (most free on one node: 3), and the nodes with free GPUs lack 4 free CPUs per GPU to spread it",
    ],
    [
      "spanning splits CPUs in proportion: 2 GPUs' worth fit on a",
      job(6, { cpus: 12 }),
      [whole("a", 5, { freeCpus: 4 }), whole("b", 4)],
      ["b:4", "a:2"],
    ],
    ["0.5 on a device that already has a share", job(0.5), [whole("a", 2), node("b", [0.5, 0])], ["b-g0@0.5"]],
    ["0.25 on the tightest share", job(0.25), [node("a", [0.75, 0.25, 0.5])], ["a-g1@0.25"]],
    ["0.5 not on a device with 0.25 left", job(0.5), [node("a", [0.25, 1])], ["a-g1@0.5"]],
    [
      "0.5 with only 0.25 left anywhere",
      job(0.5),
      [node("a", [0.25, 0]), node("b", [0.25])],
      "fractional 0.5 GPU: no device has 0.5 free",
    ],
    [
      "a share breaks a device of the node with the fewest free",
      job(0.25),
      [whole("a", 3), whole("b", 1), whole("c", 2)],
      ["b-g0@0.25"],
    ],
    [
      "fraction on an unschedulable node's share is not taken",
      job(0.5),
      [node("a", [0.5], { schedulable: false }), whole("b", 1)],
      ["b-g0@0.5"],
    ],
    [
      "invalid fraction",
      job(0.3),
      [whole("a", 8)],
      "invalid request: a GPU fraction must be one of 0.25, 0.5, not 0.3",
    ],
    [
      "uneven split",
      job(6, { nodes: 4 }),
      [whole("a", 8)],
      "invalid request: 6 GPUs cannot be split evenly over 4 nodes",
    ],
    [
      "a share cannot span",
      job(0.5, { nodes: 2 }),
      [whole("a", 8)],
      "invalid request: a fractional job runs on one device, not on 2 nodes",
    ],
  ])("%s", (_name, j, nodes, expected) => {
    expect(summary(place(j, nodes))).toEqual(expected);
  });

  test.each<[string, JobRequest, NodeState[], string[] | string]>([
    [
      "CPU-only on a node without GPUs",
      job(0, { cpus: 2, memoryMiB: 512 }),
      [whole("cpu", 0, { freeCpus: 4 })],
      ["cpu:0"],
    ],
    [
      "CPU-only keeps GPU nodes free: the node with the fewest free GPUs",
      job(0, { cpus: 2 }),
      [whole("gpu8", 8), whole("gpu1", 1), whole("cpu", 0)],
      ["cpu:0"],
    ],
    [
      "CPU-only goes where the CPUs are",
      job(0, { cpus: 16 }),
      [whole("cpu", 0, { freeCpus: 8 }), whole("gpu", 2, { freeCpus: 32 })],
      ["gpu:0"],
    ],
    [
      "CPU-only counts memory",
      job(0, { memoryMiB: 4096 }),
      [whole("small", 0, { freeMemoryMiB: 2048 }), whole("big", 0, { freeMemoryMiB: 8192 })],
      ["big:0"],
    ],
    [
      "CPU-only that fits nowhere names what it lacks and the most free",
      job(0, { cpus: 16, memoryMiB: 1024 }),
      [whole("a", 0, { freeCpus: 8 }), whole("b", 1, { freeCpus: 4, freeMemoryMiB: 100_000 })],
      "CPU-only job: no schedulable node has 16 free CPUs and 1024 MiB free memory (most free on one node: 8 CPUs, 524288 MiB memory)",
    ],
    [
      "CPU-only runs on one node",
      job(0, { cpus: 1, nodes: 2 }),
      [whole("a", 0), whole("b", 0)],
      "invalid request: a CPU-only job runs on one node, not on 2",
    ],
    [
      "negative GPUs are invalid",
      job(-1),
      [whole("a", 1)],
      "invalid request: GPUs must be 0 (CPU-only) or a positive count, not -1",
    ],
    [
      "RDMA: only a node with InfiniBand",
      job(2, { infiniband: true }),
      [whole("eth", 2), whole("ib", 4, { infiniband: true })],
      ["ib:2"],
    ],
    [
      "RDMA: multi-node on InfiniBand nodes only",
      job(2, { nodes: 2, infiniband: true }),
      [whole("eth", 1), whole("ib1", 1, { infiniband: true }), whole("ib2", 1, { infiniband: true })],
      ["ib1:1", "ib2:1"],
    ],
    [
      "RDMA: the reason names InfiniBand",
      job(1, { infiniband: true }),
      [whole("eth", 8)],
      "1 node has 1 free GPU, but none also has an InfiniBand interface",
    ],
    [
      "CPU-only skips unschedulable nodes",
      job(0, { cpus: 1 }),
      [whole("off", 0, { schedulable: false }), whole("on", 4)],
      ["on:0"],
    ],
  ])("%s", (_name, j, nodes, expected) => {
    expect(summary(place(j, nodes))).toEqual(expected);
  });

  test("a failed RDMA shape does not stand for the same shape without RDMA", () => {
    const cap = new FreeCapacity([whole("eth", 2)]);
    expect(summary(cap.place(job(1, { infiniband: true })))).toBe(
      "1 node has 1 free GPU, but none also has an InfiniBand interface",
    );
    expect(summary(cap.place(job(1)))).toEqual(["eth:1"]);
  });

  test("CPU-only placements take CPUs and memory and no device", () => {
    const cap = new FreeCapacity([whole("a", 1, { freeCpus: 6, freeMemoryMiB: 1000 })]);
    const j = job(0, { cpus: 4, memoryMiB: 600 });
    const r = cap.place(j);
    expect(isPlacement(r) && r.assignments).toEqual([{ nodeId: "a", gpuUuids: [] }]);
    if (isPlacement(r)) cap.take(j, r);
    expect(cap.nodes().map((n) => [n.gpus[0]?.free, n.freeCpus, n.freeMemoryMiB])).toEqual([[1, 2, 400]]);
    expect(summary(cap.place(j))).toBe(
      "CPU-only job: no schedulable node has 4 free CPUs and 600 MiB free memory (most free on one node: 2 CPUs, 400 MiB memory)",
    );
    // A GPU job still gets the device, within the CPUs left.
    expect(summary(cap.place(job(1, { cpus: 2 })))).toEqual(["a:1"]);
  });

  test("spanning can be turned off", () => {
    expect(summary(place(job(6), [whole("a", 3), whole("b", 3)], { allowSpan: false }))).toBe(
      "no schedulable node has 6 free GPUs (most free on one node: 3)",
    );
  });

  test("the lowest-numbered free devices of a node", () => {
    const r = place(job(2), [node("a", [0, 1, 0.5, 1, 1])]);
    expect(isPlacement(r) && r.assignments[0]?.gpuUuids).toEqual(["a-g1", "a-g3"]);
  });

  test("shares pack onto one device", () => {
    const cap = new FreeCapacity([whole("a", 2)]);
    const placeTake = (j: JobRequest) => {
      const r = cap.place(j);
      if (!isPlacement(r)) throw new Error(r.reason);
      cap.take(j, r);
      return summary(r);
    };
    expect(placeTake(job(0.5))).toEqual(["a-g0@0.5"]);
    expect(placeTake(job(0.5))).toEqual(["a-g0@0.5"]);
    for (let i = 0; i < 4; i++) expect(placeTake(job(0.25))).toEqual(["a-g1@0.25"]);
    expect(summary(cap.place(job(0.25)))).toBe("fractional 0.25 GPU: no device has 0.25 free");
    expect(cap.nodes()[0]?.gpus.map((g) => g.free)).toEqual([0, 0]);
  });

  test("taking updates the free counts later jobs see", () => {
    const cap = new FreeCapacity([whole("a", 4, { freeCpus: 10 }), whole("b", 6)]);
    const j = job(4, { cpus: 8 });
    const r = cap.place(j);
    expect(summary(r)).toEqual(["a:4"]);
    if (isPlacement(r)) cap.take(j, r);
    expect(summary(cap.place(j))).toEqual(["b:4"]);
    expect(cap.nodes().map((n) => [n.gpus.filter((g) => g.free === 1).length, n.freeCpus])).toEqual([
      [0, 2],
      [6, 64],
    ]);
  });

  test("a shape that did not fit is not searched again, and its reason follows the state", () => {
    const cap = new FreeCapacity([whole("a", 3), whole("b", 2), whole("c", 1)]);
    expect(summary(cap.place(job(4, { nodes: 1 })))).toBe(
      "no schedulable node has 4 free GPUs (most free on one node: 3)",
    );
    const j = job(3);
    const r = cap.place(j);
    if (isPlacement(r)) cap.take(j, r);
    expect(summary(cap.place(job(4, { nodes: 1, id: "again" })))).toBe(
      "no schedulable node has 4 free GPUs (most free on one node: 2)",
    );
  });

  test("split over nodes: the reason when CPUs are short", () => {
    const nodes = [whole("a", 4, { freeCpus: 4 }), whole("b", 4, { freeCpus: 16 }), whole("c", 8, { freeCpus: 2 })];
    expect(summary(place(job(8, { nodes: 2, cpus: 32 }), nodes))).toBe(
      "needs 2 nodes with 4 free GPUs and 16 free CPUs each; 3 have the GPUs, fewer than 2 of them the rest",
    );
  });

  test("demand on each node is in proportion to its GPUs", () => {
    expect(demandOn(job(8, { cpus: 32, memoryMiB: 8000 }), 2)).toEqual({ cpus: 8, memoryMiB: 2000 });
    expect(demandOn(job(0.5, { cpus: 4 }), 0.5)).toEqual({ cpus: 4, memoryMiB: 0 });
  });

  test("random instances: no device or node is over-committed", () => {
    let seed = 11;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const frees = [0, 0.25, 0.5, 0.75, 1, 1, 1, 1];
    for (let round = 0; round < 200; round++) {
      const nodes = Array.from({ length: 1 + rand(6) }, (_, n) =>
        node(
          `n${n}`,
          Array.from({ length: 1 + rand(8) }, () => frees[rand(frees.length)] as number),
          { schedulable: rand(5) > 0, freeCpus: rand(64), freeMemoryMiB: rand(8) * 4096 },
        ),
      );
      const jobs = Array.from({ length: 1 + rand(30) }, (_, i) => {
        const kind = rand(10);
        const gpus = kind < 2 ? ([0.25, 0.5][rand(2)] as number) : 1 + rand(8);
        const split = kind === 9 && gpus >= 2 ? (gpus % 2 === 0 ? 2 : 1) : undefined;
        return job(gpus, {
          id: `j${i}`,
          submittedAt: i,
          nodes: split,
          cpus: rand(3) ? rand(16) : undefined,
          memoryMiB: rand(3) ? rand(4) * 2048 : undefined,
        });
      });
      const { placements } = schedulePass({
        pending: jobs,
        nodes,
        workspaces: [{ name: "ws", trainingGpus: 1000, inUse: 0 }],
        policy: "fifo",
        maxAttempts: 0,
        now: 0,
      });
      checkNoOverCommit(nodes, jobs, placements);
    }
  });
});

// Re-derives the use of every device and node from the placements alone.
function checkNoOverCommit(nodes: NodeState[], jobs: JobRequest[], placements: Placement[]) {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const devices = new Map(nodes.flatMap((n) => n.gpus.map((g) => [g.uuid, { node: n, free: g.free, used: 0 }])));
  const nodeUse = new Map(nodes.map((n) => [n.id, { cpus: 0, mem: 0 }]));
  for (const p of placements) {
    const j = byId.get(p.jobId) as JobRequest;
    let gpus = 0;
    if (j.nodes !== undefined) expect(p.assignments.length).toBe(j.nodes);
    expect(new Set(p.assignments.map((a) => a.nodeId)).size).toBe(p.assignments.length);
    for (const a of p.assignments) {
      const use = nodeUse.get(a.nodeId);
      if (!use) throw new Error(`unknown node ${a.nodeId}`);
      const share = j.gpus < 1 ? 1 : a.gpuUuids.length / j.gpus;
      use.cpus += (j.cpus ?? 0) * share;
      use.mem += (j.memoryMiB ?? 0) * share;
      for (const uuid of a.gpuUuids) {
        const d = devices.get(uuid);
        if (!d) throw new Error(`unknown GPU ${uuid}`);
        expect(d.node.id).toBe(a.nodeId);
        expect(d.node.schedulable).toBe(true);
        if (a.fraction === undefined) expect(d.free).toBe(1);
        expect(a.fraction ?? 1).toBe(Math.min(j.gpus, 1));
        d.used += a.fraction ?? 1;
        gpus += a.fraction ?? 1;
        if (a.fraction === undefined) expect(d.used).toBe(1);
      }
    }
    expect(gpus).toBe(j.gpus);
  }
  for (const d of devices.values()) expect(d.used).toBeLessThanOrEqual(d.free);
  for (const n of nodes) {
    const use = nodeUse.get(n.id) as { cpus: number; mem: number };
    expect(use.cpus).toBeLessThanOrEqual(n.freeCpus + 1e-9);
    expect(use.mem).toBeLessThanOrEqual(n.freeMemoryMiB + 1e-9);
  }
}
