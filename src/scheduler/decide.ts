// Pure: everything one scheduling pass decides, from a snapshot of the store and the time. The
// loop (loop.ts) reads the snapshot and applies the actions; nothing here reads or writes. The
// rules, in the order their actions come:
//   1. Node loss: a live job on a node that has been in `error` for jobLostAfterSeconds is lost,
//      and requeued once when it may be (retryOnNodeLoss, not requeued before).
//   2. A pending job waits for its predecessor (afterJobId) to end, silently.
//   3. A pending job of a workspace outside its period waits with that reason.
//   4. A job entering the queue for the first time is marked queued (its queue time is now).
//   5. The queued jobs go to the pure placement pass (pass.ts): placements start, the others
//      wait with the pass's reason; only a failed fit (capacity) counts as an attempt
//      (skip-after-N); jobs pending longer than pendingTimeoutSeconds fail.
import type { Config } from "../config";
import { isFinal, type JobReasonCode, type JobState } from "../domain/jobState";
import { workspaceStatus } from "../domain/reservations";
import { schedulePass } from "./pass";
import { demandOn } from "./placement";
import type { ActiveJob, SchedulerNode, SchedulerWorkspace } from "./store";
import {
  type Assignment,
  deploymentPool,
  type Holding,
  type JobRequest,
  type NodeState,
  poolOf,
  type ResourceShare,
  type WorkspaceShare,
} from "./types";
import { countUsage, type UsageCounts } from "./usage";

export interface Snapshot {
  /** Pending, starting and running jobs. */
  jobs: readonly ActiveJob[];
  nodes: readonly SchedulerNode[];
  workspaces: readonly SchedulerWorkspace[];
  /** The states of the jobs that pending jobs wait for (afterJobId). */
  predecessors: ReadonlyMap<string, JobState>;
  /** Since when (epoch ms) each node has been seen in `error`, as the previous pass left it. */
  nodeErrorSince: ReadonlyMap<string, number>;
}

export type SchedulerSettings = Pick<
  Config,
  "queuePolicy" | "schedulerMaxAttempts" | "pendingTimeoutSeconds" | "jobLostAfterSeconds"
>;

export type Action =
  /** The job's node is lost: the job is `lost`, then pending again when `requeue`. */
  | { type: "lose"; jobId: string; node: string; requeue: boolean }
  /** A new waiting reason, with its code (and attempt count, when given), for a pending job. */
  | { type: "wait"; jobId: string; reason: string; code: JobReasonCode; attempts?: number }
  /** The job enters the queue at `at` (epoch ms): reason `queued`. */
  | { type: "queue"; jobId: string; at: number }
  /** Start the job on these devices; `nodes` names the nodes for the reason. */
  | { type: "start"; jobId: string; assignments: Assignment[]; nodes: string[] }
  /** The job waited longer than the pending timeout. */
  | { type: "fail"; jobId: string; reason: string };

export interface Decision {
  actions: Action[];
  /** nodeErrorSince for the next pass. */
  nodeErrorSince: Map<string, number>;
  /** What the snapshot's live jobs hold. */
  usage: UsageCounts;
}

export function decide(snapshot: Snapshot, now: number, settings: SchedulerSettings): Decision {
  const actions: Action[] = [];
  const live = snapshot.jobs.filter((j) => j.status !== "pending");
  const nodeName = new Map(snapshot.nodes.map((n) => [n.id, n.name]));

  // 1. Node loss.
  const nodeErrorSince = new Map<string, number>();
  for (const n of snapshot.nodes)
    if (n.status === "error") nodeErrorSince.set(n.id, snapshot.nodeErrorSince.get(n.id) ?? now);
  const lostAfterMs = settings.jobLostAfterSeconds * 1000;
  for (const j of live) {
    const lostNode = j.assignments
      .map((a) => a.nodeId)
      .find((id) => {
        const since = nodeErrorSince.get(id);
        return since !== undefined && now - since >= lostAfterMs;
      });
    if (lostNode === undefined) continue;
    actions.push({
      type: "lose",
      jobId: j.id,
      node: nodeName.get(lostNode) ?? lostNode,
      requeue: j.retryOnNodeLoss && j.requeues < 1,
    });
  }
  // The pass counts what the snapshot's live jobs hold, the ones lost just now included (they
  // free their share in the next pass, when their requeued attempt is pending again).
  const usage = countUsage(live);

  // 2–4. Which pending jobs are queued.
  const active = new Set(
    snapshot.workspaces.filter((w) => workspaceStatus(now, w.startsAt, w.endsAt) === "active").map((w) => w.name),
  );
  const ready: Queued[] = [];
  for (const j of snapshot.jobs) {
    if (j.status !== "pending") continue;
    if (j.afterJobId) {
      const before = snapshot.predecessors.get(j.afterJobId);
      if (!before || !isFinal(before)) continue;
    }
    if (!active.has(j.workspace)) {
      const reason = `workspace ${j.workspace} is not active (outside its period)`;
      if (j.statusReason !== reason) actions.push({ type: "wait", jobId: j.id, reason, code: "inactive" });
      continue;
    }
    if (j.queuedAt === null) {
      actions.push({ type: "queue", jobId: j.id, at: now });
      ready.push({ job: j, queuedAt: now, reason: "queued" });
    } else ready.push({ job: j, queuedAt: j.queuedAt, reason: j.statusReason });
  }
  if (ready.length === 0) return { actions, nodeErrorSince, usage };

  // 5. Placement.
  const result = schedulePass({
    pending: ready.map(toRequest),
    nodes: nodeStates(snapshot.nodes, live),
    workspaces: snapshot.workspaces.flatMap((w): WorkspaceShare[] => [
      { name: w.name, trainingGpus: w.trainingGpus, inUse: usage.pools.get(w.name) ?? 0 },
      {
        name: deploymentPool(w.name),
        trainingGpus: w.deploymentGpus,
        inUse: usage.pools.get(deploymentPool(w.name)) ?? 0,
        gpuKind: "deployment",
      },
    ]),
    resourceShares: resourceShares(snapshot.workspaces, live),
    fairness: {
      held: holdings(live),
      clusterCpus: snapshot.nodes.reduce((sum, n) => sum + n.cpus, 0),
      clusterMemoryMiB: snapshot.nodes.reduce((sum, n) => sum + n.memoryMiB, 0),
    },
    // A job spans nodes only when it asks for several (`nodes`); otherwise it waits for one node.
    allowSpan: false,
    policy: settings.queuePolicy,
    maxAttempts: settings.schedulerMaxAttempts,
    now,
    pendingTimeoutMs: settings.pendingTimeoutSeconds > 0 ? settings.pendingTimeoutSeconds * 1000 : undefined,
  });
  for (const p of result.placements) {
    const where = [...new Set(p.assignments.map((a) => a.nodeId))];
    actions.push({
      type: "start",
      jobId: p.jobId,
      assignments: p.assignments,
      nodes: where.map((id) => nodeName.get(id) ?? id),
    });
  }
  const byId = new Map(ready.map((q) => [q.job.id, q]));
  for (const w of result.waiting) {
    const q = byId.get(w.jobId);
    if (!q) continue;
    // Only a failed fit counts as a try (skip-after-N); waiting for the workspace or behind the head does not.
    const attempts = w.cause === "capacity" ? q.job.attempts + 1 : q.job.attempts;
    if (q.reason !== w.reason || attempts !== q.job.attempts)
      actions.push({ type: "wait", jobId: w.jobId, reason: w.reason, code: w.cause, attempts });
  }
  for (const id of result.timedOut)
    actions.push({ type: "fail", jobId: id, reason: `pending longer than ${settings.pendingTimeoutSeconds} s` });
  return { actions, nodeErrorSince, usage };
}

interface Queued {
  job: ActiveJob;
  /** Epoch ms; now for a job queued in this pass. */
  queuedAt: number;
  /** Its waiting reason once this pass's queue marking is applied. */
  reason: string | null;
}

function toRequest({ job, queuedAt }: Queued): JobRequest {
  return jobRequest(job, queuedAt);
}

/** A queued job as the pure pass sees it (also the admin queue's order, src/queue). */
export function jobRequest(job: ActiveJob, queuedAt: number): JobRequest {
  return {
    id: job.id,
    workspace: poolOf(job),
    user: job.createdBy,
    gpus: job.gpus,
    ...(job.nodeCount > 1 ? { nodes: job.nodeCount } : {}),
    ...(job.cpus > 0 ? { cpus: job.cpus } : {}),
    ...(job.memoryMiB > 0 ? { memoryMiB: job.memoryMiB } : {}),
    ...(job.infiniband ? { infiniband: true } : {}),
    resourceShare: job.workspace,
    submittedAt: queuedAt,
    attempts: job.attempts,
  };
}

/** The nodes with what live jobs hold subtracted: GPU shares, and the CPUs and memory they asked for. */
export function nodeStates(nodes: readonly SchedulerNode[], live: readonly ActiveJob[]): NodeState[] {
  const used = new Map<string, number>();
  const held = new Map<string, { cpus: number; memoryMiB: number }>();
  for (const j of live)
    for (const a of j.assignments) {
      for (const uuid of a.gpuUuids) used.set(uuid, (used.get(uuid) ?? 0) + (a.fraction ?? 1));
      if (j.cpus <= 0 && j.memoryMiB <= 0) continue;
      const need = demandOn(
        {
          id: j.id,
          workspace: j.workspace,
          user: j.createdBy,
          gpus: j.gpus,
          cpus: j.cpus,
          memoryMiB: j.memoryMiB,
          submittedAt: 0,
          attempts: 0,
        },
        a.fraction === undefined ? a.gpuUuids.length : j.gpus,
      );
      const h = held.get(a.nodeId) ?? { cpus: 0, memoryMiB: 0 };
      h.cpus += need.cpus;
      h.memoryMiB += need.memoryMiB;
      held.set(a.nodeId, h);
    }
  return nodes.map((n) => ({
    id: n.id,
    schedulable: n.desired === "attached" && n.status === "attached",
    gpus: n.gpuUuids.map((uuid) => ({ uuid, free: Math.max(0, 1 - (used.get(uuid) ?? 0)) })),
    freeCpus: Math.max(0, n.cpus - (held.get(n.id)?.cpus ?? 0)),
    freeMemoryMiB: Math.max(0, n.memoryMiB - (held.get(n.id)?.memoryMiB ?? 0)),
    infiniband: n.infiniband,
  }));
}

/** What each user's live jobs hold per pool, for DRF. */
export function holdings(live: readonly ActiveJob[]): Holding[] {
  const map = new Map<string, Holding>();
  for (const j of live) {
    const key = `${poolOf(j)}\u0000${j.createdBy}`;
    const h = map.get(key) ?? { workspace: poolOf(j), user: j.createdBy, gpus: 0, cpus: 0, memoryMiB: 0 };
    h.gpus += j.gpus;
    h.cpus = (h.cpus ?? 0) + j.cpus;
    h.memoryMiB = (h.memoryMiB ?? 0) + j.memoryMiB;
    map.set(key, h);
  }
  return [...map.values()];
}

/** Each workspace's CPU and memory share with what its live jobs (all kinds) hold. */
function resourceShares(workspaces: readonly SchedulerWorkspace[], live: readonly ActiveJob[]): ResourceShare[] {
  const inUse = new Map<string, { cpus: number; memoryMiB: number }>();
  for (const j of live) {
    const u = inUse.get(j.workspace) ?? { cpus: 0, memoryMiB: 0 };
    u.cpus += j.cpus;
    u.memoryMiB += j.memoryMiB;
    inUse.set(j.workspace, u);
  }
  return workspaces.map((w) => ({
    name: w.name,
    cpus: w.cpus,
    memoryMiB: w.memoryMiB,
    cpusInUse: inUse.get(w.name)?.cpus ?? 0,
    memoryMiBInUse: inUse.get(w.name)?.memoryMiB ?? 0,
  }));
}
