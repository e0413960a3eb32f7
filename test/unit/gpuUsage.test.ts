// The Workspace Home GPU usage series: intervals from job moves, and time-weighted averages
// per step, from tables of jobs.
import { describe, expect, test } from "bun:test";
import type { JobState } from "../../src/domain/jobState";
import { type HeldInterval, heldIntervals, usageSeries, usageWindow } from "../../src/workspaces/gpuUsage";

const T0 = Date.parse("2026-01-01T00:00:00.000Z");
const min = (n: number) => T0 + n * 60_000;
const iso = (n: number) => new Date(min(n)).toISOString();

describe("heldIntervals", () => {
  test("a job holds its GPUs from starting to its end; a requeue closes and reopens; pending holds none", () => {
    const ev = (jobId: string, at: number, to: JobState) => ({ jobId, at: iso(at), to });
    const events = [
      ev("a", 0, "pending"),
      ev("a", 1, "starting"),
      ev("a", 2, "running"),
      ev("b", 2, "pending"),
      ev("a", 10, "succeeded"),
      ev("b", 3, "starting"),
      ev("b", 5, "pending"), // requeued (its node was lost)
      ev("b", 7, "starting"),
      ev("b", 8, "running"),
      ev("c", 9, "pending"),
      ev("c", 9, "cancelled"),
      ev("d", 20, "starting"), // still running
      ev("x", 1, "starting"), // unknown job: ignored
    ];
    const jobs = new Map([
      ["a", { gpus: 2, pool: "training" as const }],
      ["b", { gpus: 1, pool: "deployment" as const }],
      ["c", { gpus: 4, pool: "training" as const }],
      ["d", { gpus: 0.5, pool: "training" as const }],
    ]);
    const got = heldIntervals(events, jobs).map((i) => [i.jobId, i.start, i.end]);
    expect(got).toEqual([
      ["a", min(1), min(10)],
      ["b", min(3), min(5)],
      ["b", min(7), null],
      ["d", min(20), null],
    ]);
  });
});

describe("usageSeries", () => {
  const iv = (pool: "training" | "deployment", gpus: number, start: number, end: number | null): HeldInterval => ({
    jobId: `${pool}-${start}`,
    pool,
    gpus,
    start: min(start),
    end: end === null ? null : min(end),
  });

  test.each([
    // [intervals, from, to, step (min), now, expected training per point, expected deployment]
    ["nothing ran", [], 0, 30, 10, 30, [0, 0, 0], [0, 0, 0]],
    ["one 2-GPU job over the whole window", [iv("training", 2, 0, 30)], 0, 30, 10, 30, [2, 2, 2], [0, 0, 0]],
    ["half a step counts half", [iv("training", 2, 5, 15)], 0, 30, 10, 30, [1, 1, 0], [0, 0, 0]],
    [
      "pools apart, overlapping jobs add up",
      [iv("training", 1, 0, 20), iv("training", 2, 10, 30), iv("deployment", 1, 0, 30)],
      0,
      30,
      10,
      30,
      [1, 3, 2],
      [1, 1, 1],
    ],
    ["an open interval is held until now", [iv("training", 4, 10, null)], 0, 30, 10, 25, [0, 4, 2], [0, 0, 0]],
    ["before the window: nothing", [iv("training", 8, -30, -1)], 0, 20, 10, 30, [0, 0], [0, 0]],
    ["a last short step averages over its own width", [iv("training", 3, 20, 25)], 0, 25, 10, 30, [0, 0, 3], [0, 0, 0]],
    ["a third of a step rounds to hundredths", [iv("deployment", 1, 0, 1)], 0, 3, 3, 30, [0], [0.33]],
  ] as const)("%s", (_name, intervals, from, to, step, now, training, deployment) => {
    const pts = usageSeries(intervals as readonly HeldInterval[], min(from), min(to), step * 60_000, min(now));
    expect(pts.map((p) => p.training)).toEqual([...training]);
    expect(pts.map((p) => p.deployment)).toEqual([...deployment]);
    expect(pts[0]?.at).toBe(iso(from));
  });
});

describe("usageWindow", () => {
  const now = min(24 * 60);
  test("defaults: the last 24 hours in 15-minute steps", () => {
    expect(usageWindow({}, now)).toEqual({ from: now - 24 * 3600_000, to: now, stepMs: 900_000 });
  });
  test.each([
    [{ from: "yesterday" }, "from"],
    [{ from: iso(10), to: iso(5) }, "from"],
    [{ step: "0" }, "step"],
    [{ step: "1.5" }, "step"],
    [{ step: "1" }, "step"], // 86,400 points
  ])("%j is a 400 on %s", (query, field) => {
    expect(() => usageWindow(query, now)).toThrow(expect.objectContaining({ field }));
  });
});
