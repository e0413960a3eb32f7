// A workspace's GPU usage over time (Workspace Home's chart), computed from the recorded job
// moves: a job holds its GPUs from the move into `starting` until the move out of
// `starting`/`running` (an end, or a requeue to `pending`). The series is the time-weighted
// average of GPUs held in each step, training and deployment apart. The pure parts
// (heldIntervals, usageSeries) are unit-tested with tables of intervals.
import { and, asc, eq, gte, inArray, isNull, or } from "drizzle-orm";
import type { Deps } from "../deps";
import { badRequest } from "../domain/errors";
import type { JobState } from "../domain/jobState";
import { jobKind } from "../jobs/kinds";
import type { GpuUsagePoint, GpuUsageQuery, GpuUsageSeries } from "./model";

export type GpuPool = "training" | "deployment";

export interface HeldInterval {
  jobId: string;
  pool: GpuPool;
  gpus: number;
  /** Epoch milliseconds. */
  start: number;
  /** Epoch milliseconds; null while the job still holds its GPUs. */
  end: number | null;
}

const HOLDING: readonly JobState[] = ["starting", "running"];

/**
 * The intervals in which jobs held GPUs, from their moves (each job's in recorded order).
 * Pure.
 */
export function heldIntervals(
  events: readonly { jobId: string; at: string; to: JobState }[],
  jobs: ReadonlyMap<string, { gpus: number; pool: GpuPool }>,
): HeldInterval[] {
  const open = new Map<string, HeldInterval>();
  const out: HeldInterval[] = [];
  for (const e of events) {
    const job = jobs.get(e.jobId);
    if (!job) continue;
    const at = Date.parse(e.at);
    const holding = HOLDING.includes(e.to);
    const current = open.get(e.jobId);
    if (holding && !current) open.set(e.jobId, { jobId: e.jobId, ...job, start: at, end: null });
    else if (!holding && current) {
      current.end = at;
      out.push(current);
      open.delete(e.jobId);
    }
  }
  out.push(...open.values());
  return out.sort((a, b) => a.start - b.start);
}

/**
 * Points from `from` (epoch ms) every `stepMs` up to `to`: each the average GPUs held over
 * [t, t + step) (a job using 2 GPUs for half a step counts 1), per pool. Open intervals are
 * held until `now`. Values rounded to 1/100 GPU. Pure.
 */
export function usageSeries(
  intervals: readonly HeldInterval[],
  from: number,
  to: number,
  stepMs: number,
  now: number,
): GpuUsagePoint[] {
  const points: GpuUsagePoint[] = [];
  for (let t = from; t < to; t += stepMs) {
    const end = Math.min(t + stepMs, to);
    const sums = { training: 0, deployment: 0 };
    for (const i of intervals) {
      const overlap = Math.min(end, i.end ?? now) - Math.max(t, i.start);
      if (overlap > 0) sums[i.pool] += i.gpus * overlap;
    }
    const width = end - t;
    const round = (v: number) => Math.round((v / width) * 100) / 100;
    points.push({ at: new Date(t).toISOString(), training: round(sums.training), deployment: round(sums.deployment) });
  }
  return points;
}

/** At most this many points per request. */
export const GPU_USAGE_MAX_POINTS = 2000;
const DAY_MS = 24 * 3600 * 1000;

function timeParam(field: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const v = Date.parse(raw);
  if (Number.isNaN(v)) throw badRequest(field, `${field} must be an ISO 8601 time`);
  return v;
}

/** The query read and checked: defaults are the last 24 hours in 15-minute steps. */
export function usageWindow(query: GpuUsageQuery, now: number): { from: number; to: number; stepMs: number } {
  const to = timeParam("to", query.to, now);
  const from = timeParam("from", query.from, to - DAY_MS);
  if (from >= to) throw badRequest("from", "from must be before to");
  const step = query.step === undefined || query.step === "" ? 900 : Number(query.step);
  if (!/^\d+$/.test(query.step ?? "900") || step < 1)
    throw badRequest("step", "step must be a whole number of seconds, at least 1");
  const stepMs = step * 1000;
  if (Math.ceil((to - from) / stepMs) > GPU_USAGE_MAX_POINTS)
    throw badRequest("step", `at most ${GPU_USAGE_MAX_POINTS} points: make step larger or the period shorter`);
  return { from, to, stepMs };
}

/** The series for workspace `ws` (its access is checked by the route). */
export async function workspaceGpuUsage(deps: Deps, ws: string, query: GpuUsageQuery): Promise<GpuUsageSeries> {
  const now = deps.clock.now().getTime();
  const { from, to, stepMs } = usageWindow(query, now);
  const { store } = deps;
  const j = store.t.jobs;
  // Jobs that may have held GPUs in the window: not ended, or ended after it began.
  const rows = await store.db
    .select({ id: j.id, gpus: j.gpus, kind: j.kind })
    .from(j)
    .where(and(eq(j.workspace, ws), or(isNull(j.finishedAt), gte(j.finishedAt, new Date(from).toISOString()))));
  const jobs = new Map(rows.map((r) => [r.id, { gpus: r.gpus, pool: jobKind(r.kind).gpus }]));
  const events: { jobId: string; at: string; to: JobState }[] = [];
  const ids = [...jobs.keys()];
  for (let i = 0; i < ids.length; i += 500) {
    const e = store.t.jobEvents;
    events.push(
      ...(await store.db
        .select({ jobId: e.jobId, at: e.at, to: e.toState })
        .from(e)
        .where(inArray(e.jobId, ids.slice(i, i + 500)))
        .orderBy(asc(e.id))),
    );
  }
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    step: stepMs / 1000,
    points: usageSeries(heldIntervals(events, jobs), from, to, stepMs, now),
  };
}
