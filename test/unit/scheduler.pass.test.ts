import { describe, expect, test } from "bun:test";
import { type PassInput, schedulePass } from "../../src/scheduler/pass";
import { dominantShare } from "../../src/scheduler/policy";
import type { Holding, JobRequest, NodeState } from "../../src/scheduler/types";

const MIN = 60_000;
const NOW = Date.UTC(2026, 0, 1);

const whole = (id: string, count: number, extra: Partial<NodeState> = {}): NodeState => ({
  id,
  schedulable: true,
  gpus: Array.from({ length: count }, (_, i) => ({ uuid: `${id}-g${i}`, free: 1 })),
  freeCpus: 64,
  freeMemoryMiB: 512 * 1024,
  ...extra,
});
const job = (id: string, gpus: number, minutesAgo: number, extra: Partial<JobRequest> = {}): JobRequest => ({
  id,
  workspace: "test-ws",
  user: "u",
  gpus,
  submittedAt: NOW - minutesAgo * MIN,
  attempts: 0,
  ...extra,
});
const input = (pending: JobRequest[], extra: Partial<PassInput> = {}): PassInput => ({
  pending,
  nodes: [whole("a", 8)],
  workspaces: [{ name: "test-ws", trainingGpus: 100, inUse: 0 }],
  policy: "fifo",
  maxAttempts: 3,
  now: NOW,
  ...extra,
});
const placed = (r: ReturnType<typeof schedulePass>) => r.placements.map((p) => p.jobId);

describe("scheduling pass", () => {
  test("later jobs see what earlier ones took", () => {
    const r = schedulePass(input([job("j1", 4, 3), job("j2", 4, 2), job("j3", 1, 1)], { maxAttempts: 0 }));
    expect(placed(r)).toEqual(["j1", "j2"]);
    const uuids = r.placements.flatMap((p) => p.assignments.flatMap((a) => a.gpuUuids));
    expect(new Set(uuids).size).toBe(8);
    expect(r.waiting).toEqual([
      {
        jobId: "j3",
        reason: "no schedulable node has 1 free GPU (most free on one node: 0)",
        cause: "capacity",
      },
    ]);
  });

  test("the input nodes and workspaces are left as they were", () => {
    const i = input([job("j1", 4, 2), job("j2", 0.5, 1)]);
    const before = structuredClone({ nodes: i.nodes, workspaces: i.workspaces });
    schedulePass(i);
    expect({ nodes: i.nodes, workspaces: i.workspaces }).toEqual(before);
  });

  test.each<[string, number, number, JobRequest[], string[], string[]]>([
    ["fits the workspace's share", 3, 1, [job("j1", 2, 1)], ["j1"], []],
    [
      "the share is used up",
      3,
      1,
      [job("j1", 2, 2), job("j2", 1, 1)],
      ["j1"],
      ["workspace test-ws: 3 of 3 training GPUs in use"],
    ],
    [
      "what is left is too little",
      3,
      2,
      [job("j1", 2, 1)],
      [],
      ["workspace test-ws: 2 of 3 training GPUs in use; the job asks for 2"],
    ],
    [
      "larger than the share itself",
      3,
      0,
      [job("j1", 4, 1)],
      [],
      ["workspace test-ws has 3 training GPUs; the job asks for 4"],
    ],
    [
      "fractions count as fractions",
      1,
      0,
      [job("f1", 0.25, 5), job("f2", 0.25, 4), job("f3", 0.5, 3), job("f4", 0.25, 2)],
      ["f1", "f2", "f3"],
      ["workspace test-ws: 1 of 1 training GPUs in use"],
    ],
  ])("workspace limit: %s", (_name, trainingGpus, inUse, pending, expectPlaced, reasons) => {
    const r = schedulePass(input(pending, { workspaces: [{ name: "test-ws", trainingGpus, inUse }] }));
    expect(placed(r)).toEqual(expectPlaced);
    expect(r.waiting.map((w) => w.reason)).toEqual(reasons);
    expect(r.waiting.every((w) => w.cause === "workspace")).toBe(true);
    expect(r.blockedBy).toBeNull();
  });

  test.each<[string, JobRequest[], string[], string[]]>([
    [
      "CPU-only jobs within the share are placed",
      [job("j1", 0, 2, { cpus: 2 }), job("j2", 0, 1, { cpus: 2 })],
      ["j1", "j2"],
      [],
    ],
    [
      "the CPU share holds the rest",
      [job("j1", 0, 3, { cpus: 3 }), job("j2", 0, 2, { cpus: 2 }), job("j3", 0, 1, { cpus: 1 })],
      ["j1", "j3"],
      ["workspace test-ws: 3 of 4 CPUs in use; the job asks for 2"],
    ],
    [
      "a job over the whole share",
      [job("j1", 0, 1, { cpus: 5 })],
      [],
      ["workspace test-ws has 4 CPUs; the job asks for 5"],
    ],
    [
      "the memory share counts too, GPU jobs included",
      [job("j1", 1, 2, { memoryMiB: 3000 }), job("j2", 0, 1, { memoryMiB: 2000 })],
      ["j1"],
      ["workspace test-ws: 3000 of 4096 MiB memory in use; the job asks for 2000"],
    ],
    [
      "what live jobs hold counts",
      [job("j1", 0, 1, { cpus: 1, memoryMiB: 100 })],
      [],
      ["workspace test-ws: 3.5 of 4 CPUs in use; the job asks for 1"],
    ],
    ["jobs that ask for nothing are not held", [job("j1", 0, 1), job("j2", 1, 1)], ["j1", "j2"], []],
  ])("workspace CPU and memory shares: %s", (name, pending, expectPlaced, reasons) => {
    const held = name === "what live jobs hold counts" ? 3.5 : 0;
    const r = schedulePass(
      input(pending, {
        nodes: [whole("a", 2), whole("cpu", 0)],
        resourceShares: [{ name: "test-ws", cpus: 4, memoryMiB: 4096, cpusInUse: held, memoryMiBInUse: 0 }],
      }),
    );
    expect(placed(r)).toEqual(expectPlaced);
    expect(r.waiting.map((w) => w.reason)).toEqual(reasons);
    for (const w of r.waiting) expect(w.cause).toBe("workspace");
  });

  test("a share of 0 is no limit; another workspace's share does not apply", () => {
    const r = schedulePass(
      input([job("j1", 0, 2, { cpus: 50 }), job("j2", 0, 1, { cpus: 10, resourceShare: "other" })], {
        resourceShares: [
          { name: "test-ws", cpus: 0, memoryMiB: 0, cpusInUse: 0, memoryMiBInUse: 0 },
          { name: "other", cpus: 8, memoryMiB: 0, cpusInUse: 0, memoryMiBInUse: 0 },
        ],
      }),
    );
    expect(placed(r)).toEqual(["j1"]);
    expect(r.waiting.map((w) => w.reason)).toEqual(["workspace other has 8 CPUs; the job asks for 10"]);
  });

  test("a CPU-only job is not held by the workspace's GPUs, even all in use", () => {
    const r = schedulePass(
      input([job("j1", 0, 1, { cpus: 1 })], { workspaces: [{ name: "test-ws", trainingGpus: 0, inUse: 2 }] }),
    );
    expect(placed(r)).toEqual(["j1"]);
  });

  test("an unknown workspace waits", () => {
    const r = schedulePass(input([job("j1", 1, 1, { workspace: "gone" })]));
    expect(r.waiting).toEqual([{ jobId: "j1", reason: "workspace gone is unknown", cause: "workspace" }]);
  });

  test("workspaces are counted apart", () => {
    const r = schedulePass(
      input(
        [job("a1", 2, 3, { workspace: "a" }), job("a2", 1, 2, { workspace: "a" }), job("b1", 2, 1, { workspace: "b" })],
        {
          workspaces: [
            { name: "a", trainingGpus: 2, inUse: 0 },
            { name: "b", trainingGpus: 2, inUse: 0 },
          ],
        },
      ),
    );
    expect(placed(r)).toEqual(["a1", "b1"]);
  });

  describe("head of line (skip after N tries)", () => {
    const queue = (attempts: number) => [job("big", 16, 3, { attempts }), job("s1", 1, 2), job("s2", 2, 1)];

    test.each<[number, number, string | null, string[]]>([
      [0, 3, "big", []],
      [2, 3, "big", []], // its third failure: still holds the queue
      [3, 3, null, ["s1", "s2"]],
      [7, 3, null, ["s1", "s2"]],
      [0, 0, null, ["s1", "s2"]], // 0: never holds it
    ])("attempts %i of max %i → held by %p", (attempts, maxAttempts, blockedBy, expectPlaced) => {
      const r = schedulePass(input(queue(attempts), { maxAttempts }));
      expect(r.blockedBy).toBe(blockedBy);
      expect(placed(r)).toEqual(expectPlaced);
      expect(r.waiting[0]).toEqual({
        jobId: "big",
        reason: "no schedulable node has 16 free GPUs (most free on one node: 8; 8 free in all)",
        cause: "capacity",
      });
    });

    test("the jobs behind say what holds them", () => {
      const r = schedulePass(input(queue(1)));
      expect(r.waiting.slice(1)).toEqual(
        ["s1", "s2"].map((jobId) => ({
          jobId,
          reason: "behind job big, which holds the queue until it has failed 3 passes (2 so far)",
          cause: "blocked",
        })),
      );
    });

    test("jobs placed before the head keep their places", () => {
      const r = schedulePass(input([job("s0", 4, 9), ...queue(0)]));
      expect(placed(r)).toEqual(["s0"]);
      expect(r.blockedBy).toBe("big");
    });

    test("the first of several skipped heads does not stop a later one from holding", () => {
      const r = schedulePass(input([job("old", 16, 9, { attempts: 5 }), ...queue(0)]));
      expect(r.blockedBy).toBe("big");
      expect(r.waiting.map((w) => w.cause)).toEqual(["capacity", "capacity", "blocked", "blocked"]);
    });

    test("lifo: the head is the newest job", () => {
      const r = schedulePass(input([job("s1", 1, 3), job("big", 16, 1)], { policy: "lifo" }));
      expect(r.blockedBy).toBe("big");
      expect(placed(r)).toEqual([]);
    });

    test("neither the workspace's limit nor an invalid request holds the queue", () => {
      const r = schedulePass(
        input([job("over", 4, 3), job("odd", 0.3, 2), job("s1", 1, 1)], {
          workspaces: [{ name: "test-ws", trainingGpus: 2, inUse: 0 }],
        }),
      );
      expect(placed(r)).toEqual(["s1"]);
      expect(r.waiting.map((w) => [w.jobId, w.cause])).toEqual([
        ["over", "workspace"],
        ["odd", "invalid"],
      ]);
      expect(r.blockedBy).toBeNull();
    });
  });

  test("jobs pending longer than the timeout are given up, not placed, and hold nothing", () => {
    const pending = [job("stale", 16, 61), job("edge", 1, 60), job("fresh", 1, 1)];
    const r = schedulePass(input(pending, { pendingTimeoutMs: 60 * MIN }));
    expect(r.timedOut).toEqual(["stale"]);
    expect(placed(r)).toEqual(["edge", "fresh"]);
    expect(r.blockedBy).toBeNull();
    expect(schedulePass(input(pending, { pendingTimeoutMs: 0, maxAttempts: 0 })).timedOut).toEqual([]);
  });

  test("spreading can be turned off", () => {
    const nodes = [whole("a", 2), whole("b", 2)];
    expect(placed(schedulePass(input([job("j", 4, 1)], { nodes })))).toEqual(["j"]);
    expect(placed(schedulePass(input([job("j", 4, 1)], { nodes, allowSpan: false })))).toEqual([]);
  });

  test("drf: a placement counts at once for its user", () => {
    const pending = [
      job("a1", 1, 9, { user: "a" }),
      job("a2", 1, 8, { user: "a" }),
      job("a3", 1, 7, { user: "a" }),
      job("b1", 1, 3, { user: "b" }),
      job("b2", 1, 2, { user: "b" }),
    ];
    const nodes = [whole("n", 4)];
    expect(placed(schedulePass(input(pending, { nodes, policy: "fifo", maxAttempts: 0 })))).toEqual([
      "a1",
      "a2",
      "a3",
      "b1",
    ]);
    expect(placed(schedulePass(input(pending, { nodes, policy: "drf", maxAttempts: 0 })))).toEqual([
      "a1",
      "b1",
      "a2",
      "b2",
    ]);
  });

  // DRF property. Every job asks for one GPU (and random CPUs and memory), the nodes have room
  // for all, and each workspace's training GPUs run out first, so every user still has jobs
  // waiting at the end. Then for users A and B of one workspace, where B got at least one job:
  //   share(A after the pass) ≥ share(B before its last job of the pass),
  // with share = DRF's dominant share (held + placed). When B's last job was picked, B had the
  // smallest share among the users with jobs left, A among them, and shares only grow.
  // So no user falls behind another by more than one of the other's jobs.
  test("drf: random instances are fair to within one job", () => {
    let seed = 5;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const clusterCpus = 256;
    const clusterMemoryMiB = 1024 * 1024;
    for (let round = 0; round < 100; round++) {
      const workspaces = Array.from({ length: 1 + rand(3) }, (_, w) => ({
        name: `ws${w}`,
        trainingGpus: 4 + rand(20),
        inUse: 0,
      }));
      const users = Array.from({ length: 2 + rand(6) }, (_, u) => ({
        workspace: `ws${rand(workspaces.length)}`,
        user: `u${u}`,
      }));
      const held: Holding[] = users.map((u) => ({ ...u, gpus: rand(3), cpus: rand(40), memoryMiB: rand(64) * 1024 }));
      for (const h of held) (workspaces.find((w) => w.name === h.workspace) as { inUse: number }).inUse += h.gpus;
      for (const w of workspaces) w.trainingGpus += w.inUse;
      const pending = users.flatMap((u, i) =>
        Array.from({ length: 25 }, (_, k) =>
          job(`${u.user}-${k}`, 1, 1000 - k * 10 - i, {
            ...u,
            cpus: rand(24),
            memoryMiB: rand(128) * 1024,
          }),
        ),
      );
      const r = schedulePass({
        pending,
        nodes: Array.from({ length: 40 }, (_, n) => whole(`n${n}`, 8, { freeCpus: 10_000, freeMemoryMiB: 1e9 })),
        workspaces,
        policy: "drf",
        maxAttempts: 0,
        now: NOW,
        fairness: { held, clusterCpus, clusterMemoryMiB },
      });
      const byId = new Map(pending.map((j) => [j.id, j]));
      const stats = users.map((u, i) => {
        const h = held[i] as Holding;
        const of = {
          gpus: (workspaces.find((w) => w.name === u.workspace) as { trainingGpus: number }).trainingGpus,
          cpus: clusterCpus,
          memoryMiB: clusterMemoryMiB,
        };
        const sum = { gpus: h.gpus, cpus: h.cpus ?? 0, memoryMiB: h.memoryMiB ?? 0 };
        let beforeLast: number | null = null;
        let got = 0;
        for (const p of r.placements) {
          const j = byId.get(p.jobId) as JobRequest;
          if (j.user !== u.user) continue;
          beforeLast = dominantShare(sum, of);
          sum.gpus += j.gpus;
          sum.cpus += j.cpus ?? 0;
          sum.memoryMiB += j.memoryMiB ?? 0;
          got++;
        }
        return { ...u, final: dominantShare(sum, of), beforeLast, got };
      });
      for (const w of workspaces) {
        const mine = stats.filter((s) => s.workspace === w.name);
        if (mine.length === 0) continue;
        // Every user of the workspace wants more than it gets, and the workspace's share is spent.
        expect(mine.every((s) => s.got < 25)).toBe(true);
        expect(r.placements.filter((p) => byId.get(p.jobId)?.workspace === w.name).length).toBe(
          w.trainingGpus - w.inUse,
        );
        for (const a of mine)
          for (const b of mine) if (b.beforeLast !== null) expect(a.final).toBeGreaterThanOrEqual(b.beforeLast - 1e-12);
      }
    }
  });
});
