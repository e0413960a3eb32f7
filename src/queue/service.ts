// The admin's cluster-wide views. The queue's order is the scheduler's own pure policy
// (scheduler/policy orderQueue) over the same inputs a pass gives it: the queued jobs by the
// time they entered the queue, the workspaces' GPU pools and, for DRF, what live jobs hold.
import { count, desc, inArray } from "drizzle-orm";
import type { Deps } from "../deps";
import { badRequest } from "../domain/errors";
import { JOB_STATES, type JobState } from "../domain/jobState";
import type { JobPage } from "../jobs/model";
import { toView } from "../jobs/service";
import type { JobRow } from "../jobs/transitions";
import { holdings, jobRequest } from "../scheduler/decide";
import { orderQueue } from "../scheduler/policy";
import { DrizzleSchedulerStore } from "../scheduler/store";
import { deploymentPool } from "../scheduler/types";
import type { QueueEntry, QueuePage } from "./model";

export async function queueOrder(deps: Deps): Promise<QueuePage> {
  const { db, t } = deps.store;
  const sched = new DrizzleSchedulerStore(deps.store);
  const [pending, active, nodes, workspaces] = await Promise.all([
    db
      .select()
      .from(t.jobs)
      .where(inArray(t.jobs.status, ["pending"])),
    sched.activeJobs(),
    sched.nodes(),
    sched.workspaces(),
  ]);
  const policy = deps.config.queuePolicy;
  // The scheduler's own request and holdings builders, so this order is the pass's order.
  const requests = active.flatMap((j) =>
    j.status === "pending" && j.queuedAt !== null ? [jobRequest(j, j.queuedAt)] : [],
  );
  const held = holdings(active.filter((j) => j.status !== "pending"));
  const order = orderQueue(requests, policy, {
    workspaces: workspaces.flatMap((w) => [
      { name: w.name, trainingGpus: w.trainingGpus },
      { name: deploymentPool(w.name), trainingGpus: w.deploymentGpus },
    ]),
    held,
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
  const where = states.length ? inArray(t.jobs.status, states as JobState[]) : undefined;
  // Paged in the store: the dashboard asks every few seconds, over every job there is.
  const [rows, [counted]] = await Promise.all([
    db
      .select()
      .from(t.jobs)
      .where(where)
      .orderBy(desc(t.jobs.createdAt), desc(t.jobs.seq))
      .limit(page.limit)
      .offset(page.offset),
    db.select({ n: count() }).from(t.jobs).where(where),
  ]);
  return { items: rows.map((r) => toView(r, deps.sshPorts.of(r.id))), total: Number(counted?.n ?? 0) };
}
