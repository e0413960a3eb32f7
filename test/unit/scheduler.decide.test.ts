// Every rule of the scheduler's pure decision (src/scheduler/decide.ts), as tables: a snapshot
// and the time in, the actions (and the node-error times and GPU usage) out.
import { describe, expect, test } from "bun:test";
import type { JobState } from "../../src/domain/jobState";
import { type Action, decide, type SchedulerSettings, type Snapshot } from "../../src/scheduler/decide";
import type { ActiveJob, SchedulerNode, SchedulerWorkspace } from "../../src/scheduler/store";

const SEC = 1000;
const MIN = 60 * SEC;
const NOW = Date.UTC(2026, 3, 1, 12);

const settings: SchedulerSettings = {
  queuePolicy: "fifo",
  schedulerMaxAttempts: 3,
  pendingTimeoutSeconds: 0,
  jobLostAfterSeconds: 60,
};

const job = (id: string, extra: Partial<ActiveJob> = {}): ActiveJob => ({
  id,
  status: "pending",
  kind: "run",
  workspace: "ws",
  createdBy: "alice",
  gpus: 1,
  cpus: 0,
  memoryMiB: 0,
  infiniband: false,
  nodeCount: 1,
  createdAt: NOW - 10 * MIN,
  queuedAt: NOW - 10 * MIN,
  attempts: 0,
  statusReason: "queued",
  afterJobId: null,
  retryOnNodeLoss: true,
  requeues: 0,
  assignments: [],
  ...extra,
});
/** A live job holding `count` whole GPUs of node `nodeId` (from its first device on). */
const running = (id: string, nodeId: string, count = 1, extra: Partial<ActiveJob> = {}): ActiveJob =>
  job(id, {
    status: "running",
    gpus: count,
    statusReason: null,
    assignments: [
      { nodeId, gpuUuids: Array.from({ length: count }, (_, i) => `${nodeId}-g${i}`), containerId: `c-${id}` },
    ],
    ...extra,
  });
const node = (id: string, gpus: number, extra: Partial<SchedulerNode> = {}): SchedulerNode => ({
  id,
  name: `${id}-name`,
  desired: "attached",
  status: "attached",
  gpuUuids: Array.from({ length: gpus }, (_, i) => `${id}-g${i}`),
  cpus: 64,
  memoryMiB: 512_000,
  infiniband: false,
  ...extra,
});
const ws = (name: string, extra: Partial<SchedulerWorkspace> = {}): SchedulerWorkspace => ({
  name,
  startsAt: NOW - 24 * 60 * MIN,
  endsAt: NOW + 24 * 60 * MIN,
  trainingGpus: 8,
  deploymentGpus: 0,
  cpus: 0,
  memoryMiB: 0,
  ...extra,
});
const snapshot = (extra: Partial<Snapshot> = {}): Snapshot => ({
  jobs: [],
  nodes: [node("n1", 4)],
  workspaces: [ws("ws")],
  predecessors: new Map(),
  nodeErrorSince: new Map(),
  ...extra,
});
const start = (jobId: string, nodeId: string, uuids: string[]): Action => ({
  type: "start",
  jobId,
  assignments: [{ nodeId, gpuUuids: uuids }],
  nodes: [`${nodeId}-name`],
});
const actionsOf = (s: Snapshot, now = NOW, extra: Partial<SchedulerSettings> = {}) =>
  decide(s, now, { ...settings, ...extra }).actions;

describe("decide: node loss", () => {
  const onBroken = (extra: Partial<ActiveJob> = {}) => [running("j1", "n1", 1, extra)];
  const broken = [node("n1", 4, { status: "error" })];
  test.each<[string, Partial<ActiveJob>, number, Action[]]>([
    ["not before jobLostAfter", {}, 59 * SEC, []],
    [
      "lost at jobLostAfter, requeued once",
      {},
      60 * SEC,
      [{ type: "lose", jobId: "j1", node: "n1-name", requeue: true }],
    ],
    ["no second requeue", { requeues: 1 }, 5 * MIN, [{ type: "lose", jobId: "j1", node: "n1-name", requeue: false }]],
    [
      "not requeued when the job may not be (notebooks, deployments)",
      { retryOnNodeLoss: false },
      5 * MIN,
      [{ type: "lose", jobId: "j1", node: "n1-name", requeue: false }],
    ],
  ])("%s", (_name, extra, inErrorFor, expected) => {
    const s = snapshot({ jobs: onBroken(extra), nodes: broken, nodeErrorSince: new Map([["n1", NOW - inErrorFor]]) });
    expect(actionsOf(s)).toEqual(expected);
  });

  test("a node newly in error starts its clock now; one back to attached forgets it", () => {
    const d = decide(
      snapshot({
        nodes: [node("n1", 4, { status: "error" }), node("n2", 4), node("n3", 4, { status: "error" })],
        jobs: [running("j1", "n1"), running("j2", "n2"), running("j3", "n3")],
        nodeErrorSince: new Map([
          ["n2", NOW - 10 * MIN],
          ["n3", NOW - 2 * MIN],
          ["gone", NOW - 10 * MIN],
        ]),
      }),
      NOW,
      settings,
    );
    expect(Object.fromEntries(d.nodeErrorSince)).toEqual({ n1: NOW, n3: NOW - 2 * MIN });
    expect(d.actions).toEqual([{ type: "lose", jobId: "j3", node: "n3-name", requeue: true }]);
  });

  test("jobLostAfter 0: lost in the pass that sees the error", () => {
    const s = snapshot({ jobs: onBroken(), nodes: broken });
    expect(actionsOf(s, NOW, { jobLostAfterSeconds: 0 })).toEqual([
      { type: "lose", jobId: "j1", node: "n1-name", requeue: true },
    ]);
  });

  test("a job spread over nodes is lost when any of them is", () => {
    const spread = job("j1", {
      status: "running",
      gpus: 2,
      nodeCount: 2,
      assignments: [
        { nodeId: "n1", gpuUuids: ["n1-g0"] },
        { nodeId: "n2", gpuUuids: ["n2-g0"] },
      ],
    });
    const s = snapshot({
      jobs: [spread],
      nodes: [node("n1", 4), node("n2", 4, { status: "error" })],
      nodeErrorSince: new Map([["n2", NOW - 2 * MIN]]),
    });
    expect(actionsOf(s)).toEqual([{ type: "lose", jobId: "j1", node: "n2-name", requeue: true }]);
  });

  test("a job lost in this pass still counts in this pass's usage (its share frees in the next)", () => {
    const s = snapshot({
      jobs: [running("j1", "n1", 2), job("p1", { gpus: 8 })],
      nodes: [node("n1", 4, { status: "error" }), node("n2", 8)],
      nodeErrorSince: new Map([["n1", NOW - 2 * MIN]]),
    });
    const d = decide(s, NOW, settings);
    expect(d.usage.pools.get("ws")).toBe(2);
    expect(d.actions).toEqual([
      { type: "lose", jobId: "j1", node: "n1-name", requeue: true },
      {
        type: "wait",
        jobId: "p1",
        reason: "workspace ws: 2 of 8 training GPUs in use; the job asks for 8",
        attempts: 0,
        code: "workspace",
      },
    ]);
  });
});

describe("decide: which pending jobs are queued", () => {
  test("a job waits silently until its predecessor has ended", () => {
    const cases: [JobState | undefined, Action[]][] = [
      [undefined, []],
      ["pending", []],
      ["running", []],
      ["succeeded", [{ type: "queue", jobId: "j2", at: NOW }, start("j2", "n1", ["n1-g0"])]],
      ["failed", [{ type: "queue", jobId: "j2", at: NOW }, start("j2", "n1", ["n1-g0"])]],
    ];
    for (const [before, expected] of cases) {
      const predecessors = new Map<string, JobState>(before ? [["j1", before]] : []);
      const j2 = job("j2", { afterJobId: "j1", queuedAt: null, statusReason: "after job j1" });
      expect({ before, actions: actionsOf(snapshot({ jobs: [j2], predecessors })) }).toEqual({
        before,
        actions: expected,
      });
    }
  });

  test.each<[string, Partial<SchedulerWorkspace>, string]>([
    ["not started yet", { startsAt: NOW + MIN }, "workspace ws is not active (outside its period)"],
    ["expired", { endsAt: NOW }, "workspace ws is not active (outside its period)"],
  ])("a workspace %s: its jobs wait with that reason, once", (_name, period, reason) => {
    const s = snapshot({ jobs: [job("j1")], workspaces: [ws("ws", period)] });
    expect(actionsOf(s)).toEqual([{ type: "wait", jobId: "j1", reason, code: "inactive" }]);
    const again = snapshot({ jobs: [job("j1", { statusReason: reason })], workspaces: [ws("ws", period)] });
    expect(actionsOf(again)).toEqual([]);
  });

  test("a job of an unknown workspace waits as inactive", () => {
    const s = snapshot({ jobs: [job("j1", { workspace: "gone" })] });
    expect(actionsOf(s)).toEqual([
      { type: "wait", jobId: "j1", reason: "workspace gone is not active (outside its period)", code: "inactive" },
    ]);
  });

  test("a job entering the queue is marked queued now, and its queue time is now (no timeout)", () => {
    const s = snapshot({
      jobs: [job("j1", { queuedAt: null, createdAt: NOW - 60 * MIN, statusReason: "after job j0", gpus: 8 })],
    });
    expect(actionsOf(s, NOW, { pendingTimeoutSeconds: 60 })).toEqual([
      { type: "queue", jobId: "j1", at: NOW },
      {
        type: "wait",
        jobId: "j1",
        reason: "no schedulable node has 8 free GPUs (most free on one node: 4)",
        attempts: 1,
        code: "capacity",
      },
    ]);
  });
});

describe("decide: placement, waiting and timeouts", () => {
  test("placed jobs start on the named nodes, best fit", () => {
    const s = snapshot({ jobs: [job("j1", { gpus: 2 })], nodes: [node("big", 8), node("small", 2)] });
    expect(actionsOf(s)).toEqual([start("j1", "small", ["small-g0", "small-g1"])]);
  });

  test("devices held by live jobs are not handed out again; nodes not attached get nothing", () => {
    const s = snapshot({
      jobs: [running("r1", "n1", 3), job("j1"), job("j2", { queuedAt: NOW - MIN })],
      nodes: [node("n1", 4), node("off", 4, { desired: "detached" }), node("bad", 4, { status: "error" })],
    });
    const actions = actionsOf(s, NOW, { schedulerMaxAttempts: 0 });
    expect(actions).toEqual([
      start("j1", "n1", ["n1-g3"]),
      {
        type: "wait",
        jobId: "j2",
        reason: "no schedulable node has 1 free GPU (most free on one node: 0)",
        attempts: 1,
        code: "capacity",
      },
    ]);
  });

  test.each<[string, Partial<ActiveJob>, Partial<SchedulerWorkspace>, Action[]]>([
    [
      "a failed fit counts as an attempt",
      { gpus: 8 },
      {},
      [
        {
          type: "wait",
          jobId: "j1",
          reason: "no schedulable node has 8 free GPUs (most free on one node: 4)",
          attempts: 1,
          code: "capacity",
        },
      ],
    ],
    [
      "the same failed fit again: the count goes on, the reason stays",
      { gpus: 8, attempts: 1, statusReason: "no schedulable node has 8 free GPUs (most free on one node: 4)" },
      {},
      [
        {
          type: "wait",
          jobId: "j1",
          reason: "no schedulable node has 8 free GPUs (most free on one node: 4)",
          attempts: 2,
          code: "capacity",
        },
      ],
    ],
    [
      "the workspace's share is no attempt",
      { gpus: 4, attempts: 1 },
      { trainingGpus: 2 },
      [
        {
          type: "wait",
          jobId: "j1",
          reason: "workspace ws has 2 training GPUs; the job asks for 4",
          attempts: 1,
          code: "workspace",
        },
      ],
    ],
    [
      "an unchanged workspace reason writes nothing",
      { gpus: 4, attempts: 1, statusReason: "workspace ws has 2 training GPUs; the job asks for 4" },
      { trainingGpus: 2 },
      [],
    ],
    [
      "an invalid request is no attempt",
      { gpus: 0.3 },
      {},
      [
        {
          type: "wait",
          jobId: "j1",
          reason: "invalid request: a GPU fraction must be one of 0.25, 0.5, not 0.3",
          attempts: 0,
          code: "invalid",
        },
      ],
    ],
  ])("%s", (_name, extra, share, expected) => {
    expect(actionsOf(snapshot({ jobs: [job("j1", extra)], workspaces: [ws("ws", share)] }))).toEqual(expected);
  });

  test("waiting behind the head of the queue is no attempt", () => {
    const s = snapshot({
      jobs: [job("head", { gpus: 8, queuedAt: NOW - 2 * MIN }), job("next", { queuedAt: NOW - MIN })],
    });
    expect(actionsOf(s)).toEqual([
      {
        type: "wait",
        jobId: "head",
        reason: "no schedulable node has 8 free GPUs (most free on one node: 4)",
        attempts: 1,
        code: "capacity",
      },
      {
        type: "wait",
        jobId: "next",
        reason: "behind job head, which holds the queue until it has failed 3 passes (1 so far)",
        attempts: 0,
        code: "blocked",
      },
    ]);
  });

  test("pending longer than the timeout fails; a job within it is placed", () => {
    const s = snapshot({ jobs: [job("old", { queuedAt: NOW - 61 * SEC }), job("new", { queuedAt: NOW - 59 * SEC })] });
    expect(actionsOf(s, NOW, { pendingTimeoutSeconds: 60 })).toEqual([
      start("new", "n1", ["n1-g0"]),
      { type: "fail", jobId: "old", reason: "pending longer than 60 s" },
    ]);
    expect(actionsOf(s, NOW, { pendingTimeoutSeconds: 0 }).map((a) => a.type)).toEqual(["start", "start"]);
  });

  test("the queue policy orders the placements: lifo takes the newest first", () => {
    const s = snapshot({
      jobs: [job("older", { gpus: 4, queuedAt: NOW - 2 * MIN }), job("newer", { gpus: 4, queuedAt: NOW - MIN })],
    });
    const started = (policy: SchedulerSettings["queuePolicy"]) =>
      actionsOf(s, NOW, { queuePolicy: policy, schedulerMaxAttempts: 0 }).filter((a) => a.type === "start");
    expect(started("fifo").map((a) => a.jobId)).toEqual(["older"]);
    expect(started("lifo").map((a) => a.jobId)).toEqual(["newer"]);
  });

  test("a multi-node job gets its GPUs split over that many nodes", () => {
    const s = snapshot({ jobs: [job("j1", { gpus: 4, nodeCount: 2 })], nodes: [node("a", 2), node("b", 2)] });
    expect(actionsOf(s)).toEqual([
      {
        type: "start",
        jobId: "j1",
        assignments: [
          { nodeId: "a", gpuUuids: ["a-g0", "a-g1"] },
          { nodeId: "b", gpuUuids: ["b-g0", "b-g1"] },
        ],
        nodes: ["a-name", "b-name"],
      },
    ]);
  });
});

describe("decide: CPU and memory", () => {
  test("a CPU-only job starts on a node without GPUs, with no devices", () => {
    const s = snapshot({
      nodes: [node("cpu", 0, { cpus: 4 })],
      jobs: [job("j1", { gpus: 0, cpus: 2, memoryMiB: 512 })],
    });
    expect(actionsOf(s)).toEqual([start("j1", "cpu", [])]);
  });

  test("what live jobs asked for is taken off their nodes", () => {
    const s = snapshot({
      nodes: [node("n1", 0, { cpus: 8 }), node("n2", 0, { cpus: 4 })],
      jobs: [
        running("r1", "n1", 0, { gpus: 0, cpus: 6, assignments: [{ nodeId: "n1", gpuUuids: [] }] }),
        job("j1", { gpus: 0, cpus: 3 }),
      ],
    });
    expect(actionsOf(s)).toEqual([start("j1", "n2", [])]);
  });

  test("a workspace's CPU share counts its live jobs of every kind, with the reason", () => {
    const s = snapshot({
      nodes: [node("n1", 4)],
      workspaces: [ws("ws", { cpus: 4, deploymentGpus: 1 })],
      jobs: [running("d1", "n1", 1, { kind: "deployment", cpus: 3 }), job("j1", { gpus: 0, cpus: 2 })],
    });
    expect(actionsOf(s)).toEqual([
      {
        type: "wait",
        jobId: "j1",
        reason: "workspace ws: 3 of 4 CPUs in use; the job asks for 2",
        code: "workspace",
        attempts: 0,
      },
    ]);
  });

  test("an RDMA job goes to the node whose facts have InfiniBand", () => {
    const s = snapshot({
      nodes: [node("eth", 4), node("ib", 4, { infiniband: true })],
      jobs: [job("j1", { infiniband: true, gpus: 1 })],
    });
    expect(actionsOf(s)).toEqual([start("j1", "ib", ["ib-g0"])]);
  });

  test("a job that asks for no CPUs is placed as before", () => {
    const s = snapshot({ nodes: [node("n1", 1, { cpus: 0, memoryMiB: 0 })], jobs: [job("j1")] });
    expect(actionsOf(s)).toEqual([start("j1", "n1", ["n1-g0"])]);
  });
});

describe("decide: deployments draw on their own pool", () => {
  const deployment = (id: string, extra: Partial<ActiveJob> = {}) => job(id, { kind: "deployment", ...extra });

  test("a deployment is placed on the workspace's deployment GPUs, not its training GPUs", () => {
    const s = snapshot({
      jobs: [running("train", "n1", 2, { gpus: 2 }), deployment("dep")],
      workspaces: [ws("ws", { trainingGpus: 2, deploymentGpus: 1 })],
    });
    const d = decide(s, NOW, settings);
    expect(d.actions).toEqual([start("dep", "n1", ["n1-g2"])]);
    expect(Object.fromEntries(d.usage.pools)).toEqual({ ws: 2 });
  });

  test("a second deployment waits for the deployment GPUs; a training job is not held by them", () => {
    const s = snapshot({
      jobs: [running("dep1", "n1", 1, { kind: "deployment" }), deployment("dep2"), job("train")],
      workspaces: [ws("ws", { trainingGpus: 1, deploymentGpus: 1 })],
    });
    const d = decide(s, NOW, settings);
    expect(Object.fromEntries(d.usage.pools)).toEqual({ "ws/deployments": 1 });
    expect(d.actions).toEqual([
      start("train", "n1", ["n1-g1"]),
      {
        type: "wait",
        jobId: "dep2",
        reason: "workspace ws: 1 of 1 deployment GPUs in use",
        attempts: 0,
        code: "workspace",
      },
    ]);
  });
});

describe("decide: GPU usage", () => {
  test("counted per node and per pool from live jobs only, fractions as fractions", () => {
    const s = snapshot({
      jobs: [
        running("a", "n1", 2),
        job("b", {
          status: "starting",
          gpus: 0.5,
          assignments: [{ nodeId: "n2", gpuUuids: ["n2-g0"], fraction: 0.5 }],
        }),
        running("c", "n2", 1, { kind: "deployment", workspace: "other" }),
        job("p", { workspace: "other" }),
      ],
      workspaces: [ws("ws"), ws("other", { startsAt: NOW + MIN })],
    });
    const { usage } = decide(s, NOW, settings);
    expect(Object.fromEntries(usage.nodes)).toEqual({ n1: 2, n2: 1.5 });
    expect(Object.fromEntries(usage.pools)).toEqual({ ws: 2.5, "other/deployments": 1 });
  });
});
