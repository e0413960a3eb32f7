// The admin's cluster-wide views. The queue's order is the scheduler's own pure policy
// (scheduler/policy orderQueue) over the same inputs a pass gives it: the queued jobs by the
// time they entered the queue, the workspaces' GPU pools and, for DRF, what live jobs hold.
import { desc, inArray } from "drizzle-orm";
import type { Deps } from "../deps";
import { badRequest } from "../domain/errors";
import { JOB_STATES, type JobState } from "../domain/jobState";
import type { JobPage } from "../jobs/model";
import { toView } from "../jobs/service";
import type { JobRow } from "../jobs/transitions";
import { orderQueue } from "../scheduler/policy";
import { DrizzleSchedulerStore } from "../scheduler/store";
import { deploymentPool, type Holding, type JobRequest, poolOf } from "../scheduler/types";
import type { QueueEntry, QueuePage } from "./model";

export async function queueOrder(deps: Deps): Promise<QueuePage> {
  const { db, t } = deps.store;
  const sched = new DrizzleSchedulerStore(deps.store);
  const [pending, live, nodes, workspaces] = await Promise.all([
    db
      .select()
      .from(t.jobs)
      .where(inArray(t.jobs.status, ["pending"])),
    sched.liveJobs(),
    sched.nodes(),
    sched.workspaces(),
  ]);
  const policy = deps.config.queuePolicy;
  const queued = pending.filter((j) => j.queuedAt !== null);
  const requests: JobRequest[] = queued.map((j) => ({
    id: j.id,
    workspace: poolOf(j),
    user: j.createdBy,
    gpus: j.gpus,
    ...(j.nodeCount > 1 ? { nodes: j.nodeCount } : {}),
    // As the scheduler's pass sees them (decide.ts), so DRF orders the same.
    ...(j.cpus > 0 ? { cpus: j.cpus } : {}),
    ...(j.memoryMiB > 0 ? { memoryMiB: j.memoryMiB } : {}),
    submittedAt: Date.parse(j.queuedAt as string),
    attempts: j.attempts,
  }));
  const held = new Map<string, Holding>();
  for (const j of live) {
    const key = `${poolOf(j)}\u0000${j.createdBy}`;
    const h = held.get(key) ?? { workspace: poolOf(j), user: j.createdBy, gpus: 0, cpus: 0, memoryMiB: 0 };
    h.gpus += j.gpus;
    h.cpus = (h.cpus ?? 0) + j.cpus;
    h.memoryMiB = (h.memoryMiB ?? 0) + j.memoryMiB;
    held.set(key, h);
  }
  const order = orderQueue(requests, policy, {
    workspaces: workspaces.flatMap((w) => [
      { name: w.name, trainingGpus: w.trainingGpus },
      { name: deploymentPool(w.name), trainingGpus: w.deploymentGpus },
    ]),
    held: [...held.values()],
    clusterCpus: nodes.reduce((sum, n) => sum + n.cpus, 0),
    clusterMemoryMiB: nodes.reduce((sum, n) => sum + n.memoryMiB, 0),
  });
  const byId = new Map(pending.map((j) => [j.id, j]));
  const waiting = pending
    .filter((j) => j.queuedAt === null)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.seq - b.seq);
  const now = deps.clock.now().getTime();
  const items = [...order.map((r) => byId.get(r.id) as JobRow), ...waiting].map(
    (j, i): QueueEntry => ({
      position: i + 1,
      id: j.id,
      name: j.name,
      kind: j.kind,
      workspace: j.workspace,
      createdBy: j.createdBy,
      gpus: j.gpus,
      nodes: j.nodeCount,
      queued: j.queuedAt !== null,
      reason: j.statusReason,
      reasonCode: j.reasonCode,
      attempts: j.attempts,
      createdAt: j.createdAt,
      queuedAt: j.queuedAt,
      waitingSeconds: Math.max(0, Math.round((now - Date.parse(j.createdAt)) / 1000)),
    }),
  );
  return { policy, items, total: items.length };
}

/** Jobs of every workspace, newest first, optionally of some states only. */
export async function allJobs(
  deps: Deps,
  status: string | undefined,
  page: { limit: number; offset: number },
): Promise<JobPage> {
  const { db, t } = deps.store;
  const states = status ? status.split(",").map((s) => s.trim()) : [];
  const unknown = states.find((s) => !(JOB_STATES as readonly string[]).includes(s));
  if (unknown !== undefined)
    throw badRequest("status", `unknown job state ${unknown}; one of ${JOB_STATES.join(", ")}`);
  const rows = await db
    .select()
    .from(t.jobs)
    .where(states.length ? inArray(t.jobs.status, states as JobState[]) : undefined)
    .orderBy(desc(t.jobs.createdAt), desc(t.jobs.seq));
  return {
    items: rows.slice(page.offset, page.offset + page.limit).map((r) => toView(r, deps.sshPorts.of(r.id))),
    total: rows.length,
  };
}
