import { describe, expect, test } from "bun:test";
import { byAgeOrder, dominantShare, type Fairness, orderQueue, queueCursor } from "../../src/scheduler/policy";
import type { JobRequest, QueuePolicy } from "../../src/scheduler/types";

const job = (id: string, user: string, submittedAt: number, extra: Partial<JobRequest> = {}): JobRequest => ({
  id,
  workspace: "ws",
  user,
  gpus: 1,
  submittedAt,
  attempts: 0,
  ...extra,
});
const ws = (trainingGpus: number, name = "ws") => ({ name, trainingGpus });

describe("queue policies", () => {
  const three = [job("b", "u", 20), job("a", "u", 10), job("c", "u", 30)];
  test.each<[string, QueuePolicy, JobRequest[], Fairness | undefined, string[]]>([
    ["fifo: oldest first", "fifo", three, undefined, ["a", "b", "c"]],
    ["lifo: newest first", "lifo", three, undefined, ["c", "b", "a"]],
    ["fifo: same instant by id", "fifo", [job("y", "u", 5), job("x", "u", 5)], undefined, ["x", "y"]],
    ["lifo: the exact reverse of fifo", "lifo", [job("x", "u", 5), job("y", "u", 5)], undefined, ["y", "x"]],
    [
      "drf: users take turns, each oldest first",
      "drf",
      [job("a1", "a", 1), job("a2", "a", 2), job("a3", "a", 3), job("b1", "b", 10)],
      { workspaces: [ws(8)] },
      ["a1", "b1", "a2", "a3"],
    ],
    [
      "drf: what a user holds already counts",
      "drf",
      [job("a1", "a", 1), job("a2", "a", 2), job("b1", "b", 10), job("b2", "b", 11), job("b3", "b", 12)],
      { workspaces: [ws(8)], held: [{ workspace: "ws", user: "a", gpus: 2 }] },
      // b reaches a's 2 GPUs after two jobs; at equal shares the older job goes first.
      ["b1", "b2", "a1", "b3", "a2"],
    ],
    [
      "drf: the dominant resource decides (a's CPUs outweigh b's GPUs)",
      "drf",
      [job("a1", "a", 1), job("b1", "b", 2)],
      {
        workspaces: [ws(8)],
        clusterCpus: 100,
        held: [
          { workspace: "ws", user: "a", gpus: 0, cpus: 50 },
          { workspace: "ws", user: "b", gpus: 2 },
        ],
      },
      ["b1", "a1"],
    ],
    [
      "drf: a big job counts for more than a small one",
      "drf",
      [job("a1", "a", 1, { gpus: 4 }), job("a2", "a", 2), job("b1", "b", 3), job("b2", "b", 4), job("b3", "b", 5)],
      { workspaces: [ws(8)] },
      ["a1", "b1", "b2", "b3", "a2"],
    ],
    [
      "drf: shares are taken within each user's workspace",
      "drf",
      [job("x1", "x", 1, { workspace: "small" }), job("y1", "y", 2, { workspace: "big" })],
      {
        workspaces: [ws(2, "small"), ws(100, "big")],
        held: [
          { workspace: "small", user: "x", gpus: 1 },
          { workspace: "big", user: "y", gpus: 10 },
        ],
      },
      ["y1", "x1"],
    ],
    [
      "drf: the same name in two workspaces is two users",
      "drf",
      [
        job("p1", "u", 1, { workspace: "p" }),
        job("p2", "u", 2, { workspace: "p" }),
        job("q1", "u", 3, { workspace: "q" }),
      ],
      { workspaces: [ws(4, "p"), ws(4, "q")] },
      ["p1", "q1", "p2"],
    ],
    [
      "drf: fractions count as fractions",
      "drf",
      [
        job("a1", "a", 1, { gpus: 0.5 }),
        job("a2", "a", 2, { gpus: 0.5 }),
        job("a3", "a", 3, { gpus: 0.5 }),
        job("b1", "b", 10),
      ],
      { workspaces: [ws(4)], held: [{ workspace: "ws", user: "b", gpus: 1 }] },
      ["a1", "a2", "a3", "b1"],
    ],
  ])("%s", (_name, policy, pending, fairness, expected) => {
    expect(orderQueue(pending, policy, fairness).map((j) => j.id)).toEqual(expected);
  });

  test("drf: a job that was not placed does not count against its user", () => {
    const pending = [job("a1", "a", 1), job("b1", "b", 2), job("a2", "a", 3)];
    const fairness = { workspaces: [ws(4)], held: [{ workspace: "ws", user: "b", gpus: 1 }] };
    const failed = queueCursor(pending, "drf", fairness);
    expect(failed.next()?.id).toBe("a1");
    expect(failed.next()?.id).toBe("a2"); // a still holds nothing
    const placed = queueCursor(pending, "drf", fairness);
    const a1 = placed.next() as JobRequest;
    placed.placed(a1);
    expect(placed.next()?.id).toBe("b1"); // a and b hold 1 GPU each: the older job
  });

  test("drf: placed must name the job handed out last", () => {
    const jobs = [job("a1", "a", 1), job("b1", "b", 2)];
    const cursor = queueCursor(jobs, "drf", { workspaces: [ws(4)] });
    cursor.next();
    expect(() => cursor.placed(jobs[1] as JobRequest)).toThrow("not the one handed out last");
  });

  test("the input is left as it was", () => {
    const pending = [job("b", "u", 2), job("a", "u", 1)];
    orderQueue(pending, "fifo");
    orderQueue(pending, "lifo");
    expect(pending.map((j) => j.id)).toEqual(["b", "a"]);
  });

  test("dominant share leaves out resources without a denominator", () => {
    expect(dominantShare({ gpus: 1, cpus: 30, memoryMiB: 10 }, { gpus: 4, cpus: 100, memoryMiB: 0 })).toBe(0.3);
    expect(dominantShare({ gpus: 3, cpus: 30, memoryMiB: 10 }, { gpus: 4, cpus: 100, memoryMiB: 0 })).toBe(0.75);
    expect(dominantShare({ gpus: 3, cpus: 0, memoryMiB: 0 }, { gpus: 0, cpus: 0, memoryMiB: 0 })).toBe(0);
  });

  describe("large queues", () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const byAge = (a: JobRequest, b: JobRequest) =>
      a.submittedAt - b.submittedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    const queue = (n: number, time: () => number, users = 7) =>
      Array.from({ length: n }, (_, i) => job(`j${rand(1_000_000)}-${i}`, `u${rand(users)}`, time()));

    test.each<[string, () => number]>([
      ["many ties", () => 1_000 + rand(20)],
      ["negative times", () => -rand(50_000)],
      ["fractional times", () => rand(100) / 7],
      ["a span too wide for number keys", () => (rand(2) ? -1e15 : 1e15) + rand(10)],
    ])("age order is the comparator's: %s", (_name, time) => {
      const jobs = queue(500, time);
      expect(byAgeOrder(jobs).map((j) => j.id)).toEqual([...jobs].sort(byAge).map((j) => j.id));
    });

    test("drf matches a plain progressive filling, placed or not at random", () => {
      const jobs = queue(400, () => rand(300), 9).map((j, i) => ({ ...j, gpus: 1 + (i % 3), cpus: rand(8) }));
      const fairness: Fairness = {
        workspaces: [ws(40)],
        clusterCpus: 64,
        held: [{ workspace: "ws", user: "u1", gpus: 3, cpus: 2 }],
      };
      const placeIt = jobs.map(() => rand(3) > 0);
      const index = new Map(jobs.map((j, i) => [j.id, i]));
      // Reference: every step scans every user for the smallest share, then the oldest head job.
      const held = new Map<string, { gpus: number; cpus: number }>([["u1", { gpus: 3, cpus: 2 }]]);
      const left = new Map<string, JobRequest[]>();
      for (const j of [...jobs].sort(byAge)) left.set(j.user, [...(left.get(j.user) ?? []), j]);
      const share = (u: string) => {
        const h = held.get(u) ?? { gpus: 0, cpus: 0 };
        return Math.max(h.gpus / 40, h.cpus / 64);
      };
      const expected: string[] = [];
      for (;;) {
        let best: JobRequest | undefined;
        for (const [u, js] of left) {
          const head = js[0];
          if (!head) continue;
          if (!best || share(u) < share(best.user) || (share(u) === share(best.user) && byAge(head, best) < 0))
            best = head;
        }
        if (!best) break;
        left.get(best.user)?.shift();
        expected.push(best.id);
        if (placeIt[index.get(best.id) as number]) {
          const h = held.get(best.user) ?? { gpus: 0, cpus: 0 };
          held.set(best.user, { gpus: h.gpus + best.gpus, cpus: h.cpus + (best.cpus ?? 0) });
        }
      }
      const cursor = queueCursor(jobs, "drf", fairness);
      const got: string[] = [];
      for (let j = cursor.next(); j; j = cursor.next()) {
        got.push(j.id);
        if (placeIt[index.get(j.id) as number]) cursor.placed(j);
      }
      expect(got).toEqual(expected);
    });
  });
});
