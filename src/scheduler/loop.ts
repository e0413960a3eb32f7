// The scheduler loop (effects): reads the store, asks the pure pass what to start, applies it.
// A submit or a job end wakes it at once; a slow backstop pass catches anything missed. It also
// turns jobs on a lost node `lost` (requeued once) and reconciles jobs with Docker at start.
import { inArray } from "drizzle-orm";
import type { Deps } from "../deps";
import { isFinal, type JobState } from "../domain/jobState";
import type { Gpu } from "../domain/nodeFacts";
import { workspaceStatus } from "../domain/reservations";
import { engineMessage as dockerMessage } from "../executor/port";
import { JOB_LABEL } from "../executor/spec";
import { followJob, launchJob, stopJobContainers } from "../jobs/runner";
import { type JobRow, moveJob, setWaitingReason } from "../jobs/transitions";
import { nodeExecutor } from "../nodes/service";
import { schedulePass } from "./pass";
import { deploymentPool, type Holding, type JobRequest, type NodeState, poolOf, type WorkspaceShare } from "./types";

const LIVE: JobState[] = ["starting", "running"];

export class SchedulerLoop {
  private timer: ReturnType<typeof setInterval> | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private nodeErrorSince = new Map<string, number>();
  private lastSweep = 0;
  private nodeUse = new Map<string, number>();
  private workspaceUse = new Map<string, number>();

  constructor(
    private readonly deps: Deps,
    /** Runs after every pass (e.g. the SSH gateway opening ports of running jobs). */
    private readonly afterPass: () => Promise<void> = async () => {},
  ) {
    deps.gpusInUse = (nodeId) => this.nodeUse.get(nodeId) ?? 0;
    deps.workspaceGpusInUse = (ws) => this.workspaceUse.get(ws) ?? 0;
    deps.jobsChanged = () => this.wake();
  }

  start(): void {
    this.timer = setInterval(() => this.wake(), this.deps.config.schedulerBackstopSeconds * 1000);
    this.wake();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Runs a pass soon; passes never overlap (a wake during a pass runs one more after it). */
  wake(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.pass().catch((err) => this.deps.logger.error("scheduler pass failed", { err }));
        await this.sweepOrphans().catch((err) => this.deps.logger.warn("orphan sweep failed", { err }));
        await this.afterPass().catch((err) => this.deps.logger.error("after scheduler pass", { err }));
      } while (this.again);
      this.running = null;
    })();
  }

  /** Waits until no pass is running or due. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async pass(): Promise<void> {
    const { deps } = this;
    const { store } = deps;
    const now = deps.clock.now().getTime();
    const active = await store.db
      .select()
      .from(store.t.jobs)
      .where(inArray(store.t.jobs.status, ["pending", ...LIVE]));
    const live = active.filter((j) => LIVE.includes(j.status));
    const nodes = await store.db.select().from(store.t.nodes);
    await this.handleLostNodes(nodes, live, now);
    this.recount(live);

    const pending = active.filter((j) => j.status === "pending");
    const predecessorIds = pending.map((j) => j.afterJobId).filter((x): x is string => x !== null);
    const predecessors = predecessorIds.length
      ? await store.db
          .select({ id: store.t.jobs.id, status: store.t.jobs.status })
          .from(store.t.jobs)
          .where(inArray(store.t.jobs.id, predecessorIds))
      : [];
    const ended = new Set(predecessors.filter((p) => isFinal(p.status)).map((p) => p.id));
    const workspaces = await store.db.select().from(store.t.workspaces);
    const wsActive = new Set(
      workspaces
        .filter((w) => workspaceStatus(now, Date.parse(w.startsAt), Date.parse(w.endsAt)) === "active")
        .map((w) => w.name),
    );
    const ready: JobRow[] = [];
    for (const j of pending) {
      if (j.afterJobId && !ended.has(j.afterJobId)) continue;
      if (!wsActive.has(j.workspace)) {
        const reason = `workspace ${j.workspace} is not active (outside its period)`;
        if (j.statusReason !== reason) await setWaitingReason(deps, j.id, reason, undefined, "inactive");
        continue;
      }
      if (!j.queuedAt) {
        j.queuedAt = new Date(now).toISOString();
        await setWaitingReason(deps, j.id, "queued");
        await store.tx((db) =>
          db
            .update(store.t.jobs)
            .set({ queuedAt: j.queuedAt })
            .where(inArray(store.t.jobs.id, [j.id])),
        );
      }
      ready.push(j);
    }
    if (ready.length === 0) return;

    const result = schedulePass({
      pending: ready.map(toRequest),
      nodes: nodeStates(nodes, live),
      workspaces: workspaces.flatMap((w): WorkspaceShare[] => [
        { name: w.name, trainingGpus: w.trainingGpus, inUse: this.workspaceUse.get(w.name) ?? 0 },
        {
          name: deploymentPool(w.name),
          trainingGpus: w.deploymentGpus,
          inUse: this.workspaceUse.get(deploymentPool(w.name)) ?? 0,
          gpuKind: "deployment",
        },
      ]),
      fairness: {
        held: holdings(live),
        clusterCpus: nodes.reduce((sum, n) => sum + n.cpus, 0),
        clusterMemoryMiB: nodes.reduce((sum, n) => sum + n.memoryMiB, 0),
      },
      // A job spans nodes only when it asks for several (`nodes`); otherwise it waits for one node.
      allowSpan: false,
      policy: deps.config.queuePolicy,
      maxAttempts: deps.config.schedulerMaxAttempts,
      now,
      pendingTimeoutMs: deps.config.pendingTimeoutSeconds > 0 ? deps.config.pendingTimeoutSeconds * 1000 : undefined,
    });
    const byId = new Map(ready.map((j) => [j.id, j]));
    for (const p of result.placements) {
      const where = [...new Set(p.assignments.map((a) => a.nodeId))];
      const names = where.map((id) => nodes.find((n) => n.id === id)?.name ?? id);
      try {
        const row = await moveJob(
          deps,
          p.jobId,
          "starting",
          `starting on ${names.join(", ")}`,
          {
            node: where[0] ?? null,
            assignments: p.assignments,
          },
          { from: ["pending"] },
        );
        void launchJob(deps, row);
      } catch (err) {
        deps.logger.warn("could not start a placed job", { job: p.jobId, err: dockerMessage(err) });
      }
    }
    for (const w of result.waiting) {
      const j = byId.get(w.jobId);
      if (!j) continue;
      // Only a failed fit counts as a try (skip-after-N); waiting for the workspace or behind the head does not.
      const attempts = w.cause === "capacity" ? j.attempts + 1 : j.attempts;
      if (j.statusReason !== w.reason || attempts !== j.attempts)
        await setWaitingReason(deps, w.jobId, w.reason, attempts, w.cause);
    }
    for (const id of result.timedOut) {
      const failed = await moveJob(
        deps,
        id,
        "failed",
        `pending longer than ${deps.config.pendingTimeoutSeconds} s`,
        { finishedAt: new Date(now).toISOString() },
        { code: "timeout" },
      ).catch(() => null);
      if (failed) deps.logs.end(id); // live log followers get their end, as for every other end
    }
    const after = await store.db.select().from(store.t.jobs).where(inArray(store.t.jobs.status, LIVE));
    this.recount(after);
  }

  /** GPUs counted from live jobs only: a job that ended frees its GPUs at once. */
  private recount(live: JobRow[]): void {
    this.nodeUse.clear();
    this.workspaceUse.clear();
    for (const j of live) {
      this.workspaceUse.set(poolOf(j), (this.workspaceUse.get(poolOf(j)) ?? 0) + j.gpus);
      for (const a of j.assignments)
        this.nodeUse.set(a.nodeId, (this.nodeUse.get(a.nodeId) ?? 0) + (a.fraction ?? a.gpuUuids.length));
    }
  }

  /** Jobs on a node that has been in `error` for HANGAR_JOB_LOST_AFTER become lost; requeued once. */
  private async handleLostNodes(nodes: { id: string; status: string; name: string }[], live: JobRow[], now: number) {
    const { deps } = this;
    for (const n of nodes) {
      if (n.status !== "error") this.nodeErrorSince.delete(n.id);
      else if (!this.nodeErrorSince.has(n.id)) this.nodeErrorSince.set(n.id, now);
    }
    for (const j of live) {
      const onNodes = j.assignments.map((a) => a.nodeId);
      const lostNode = onNodes.find((id) => {
        const since = this.nodeErrorSince.get(id);
        return since !== undefined && now - since >= deps.config.jobLostAfterSeconds * 1000;
      });
      if (!lostNode) continue;
      const name = nodes.find((n) => n.id === lostNode)?.name ?? lostNode;
      const lost = await moveJob(deps, j.id, "lost", `node ${name} stopped answering`, {
        finishedAt: new Date(now).toISOString(),
      }).catch(() => null);
      if (!lost) continue;
      deps.logs.append(j.id, `[hangar] node ${name} stopped answering: job lost\n`);
      if (lost.retryOnNodeLoss && lost.requeues < 1) {
        await moveJob(
          deps,
          j.id,
          "pending",
          `requeued after node ${name} was lost`,
          { requeues: lost.requeues + 1, assignments: [], node: null, finishedAt: null, startedAt: null, attempts: 0 },
          { code: "requeued" },
        );
        deps.logs.append(j.id, `[hangar] requeued once on another node\n`);
        deps.logs.setLastTimestamp(j.id, "");
      } else deps.logs.end(j.id);
    }
  }

  /**
   * Removes Hangar containers that no live job owns on their node: e.g. a job's old container on
   * a node that came back after the job was requeued elsewhere (it would hold GPUs unseen).
   * At most every 30 s unless forced; containers of jobs still starting are left alone.
   */
  async sweepOrphans(force = false): Promise<string[]> {
    const { deps } = this;
    const now = deps.clock.now().getTime();
    if (!force && now - this.lastSweep < 30_000) return [];
    this.lastSweep = now;
    const { store } = deps;
    const live = await store.db
      .select()
      .from(store.t.jobs)
      .where(inArray(store.t.jobs.status, ["pending", ...LIVE]));
    const owned = new Set<string>();
    const starting = new Set<string>();
    for (const j of live) {
      if (j.status === "starting") starting.add(j.id);
      for (const a of j.assignments) if (a.containerId) owned.add(a.containerId);
    }
    const nodes = await store.db.select().from(store.t.nodes);
    const removed: string[] = [];
    for (const n of nodes.filter((x) => x.status === "attached")) {
      const exec = await nodeExecutor(deps, n.id).catch(() => null);
      const containers = (await exec?.list().catch(() => [])) ?? [];
      for (const c of containers) {
        const jobId = c.labels[JOB_LABEL];
        if (!jobId || owned.has(c.id) || starting.has(jobId)) continue;
        await exec?.stop(c.id, 5).catch(() => {});
        await exec?.remove(c.id).catch(() => {});
        deps.logger.info("removed an orphaned container", { node: n.name, job: jobId, container: c.id.slice(0, 12) });
        removed.push(c.id);
      }
    }
    return removed;
  }

  /**
   * At start: every starting/running job is matched with the containers Docker reports on its
   * node. Still running → keep following; exited → take the exit code and the rest of the log;
   * missing → lost (requeued by the next pass's rules).
   */
  async reconcile(): Promise<void> {
    const { deps } = this;
    const { store } = deps;
    const live = await store.db.select().from(store.t.jobs).where(inArray(store.t.jobs.status, LIVE));
    for (const job of live) {
      const assignments = job.assignments;
      try {
        if (job.status === "starting") {
          // The master died while starting it: remove what it left and queue it again.
          await stopJobContainers(deps, job);
          await moveJob(
            deps,
            job.id,
            "pending",
            "requeued: the master restarted while starting it",
            { assignments: [], node: null },
            { code: "requeued" },
          );
          continue;
        }
        let missing = false;
        for (const a of assignments) {
          const exec = await nodeExecutor(deps, a.nodeId);
          const found = a.containerId ? await exec.inspect(a.containerId).catch(() => null) : null;
          if (!found) missing = true;
        }
        if (missing) {
          await moveJob(
            deps,
            job.id,
            "lost",
            "its container is gone (found at master start)",
            { finishedAt: deps.clock.now().toISOString() },
            { code: "container-gone" },
          );
          deps.logs.append(job.id, "[hangar] the container is gone: job lost\n");
          deps.logs.end(job.id);
          continue;
        }
        void followJob(deps, job).catch((err) => deps.logger.error("follow job", { job: job.id, err }));
      } catch (err) {
        // Node unreachable now: the node-loss rule decides later.
        deps.logger.warn("reconcile job", { job: job.id, err: dockerMessage(err) });
      }
    }
    this.recount(await store.db.select().from(store.t.jobs).where(inArray(store.t.jobs.status, LIVE)));
  }
}

function toRequest(j: JobRow): JobRequest {
  return {
    id: j.id,
    workspace: poolOf(j),
    user: j.createdBy,
    gpus: j.gpus,
    ...(j.nodeCount > 1 ? { nodes: j.nodeCount } : {}),
    submittedAt: Date.parse(j.queuedAt ?? j.createdAt),
    attempts: j.attempts,
  };
}

function nodeStates(
  nodes: { id: string; desired: string; status: string; gpus: Gpu[]; cpus: number; memoryMiB: number }[],
  live: JobRow[],
): NodeState[] {
  const used = new Map<string, number>();
  for (const j of live)
    for (const a of j.assignments)
      for (const uuid of a.gpuUuids) used.set(uuid, (used.get(uuid) ?? 0) + (a.fraction ?? 1));
  return nodes.map((n) => ({
    id: n.id,
    schedulable: n.desired === "attached" && n.status === "attached",
    gpus: n.gpus.map((g) => ({ uuid: g.uuid, free: Math.max(0, 1 - (used.get(g.uuid) ?? 0)) })),
    freeCpus: n.cpus,
    freeMemoryMiB: n.memoryMiB,
  }));
}

function holdings(live: JobRow[]): Holding[] {
  const map = new Map<string, Holding>();
  for (const j of live) {
    const key = `${poolOf(j)}\u0000${j.createdBy}`;
    const h = map.get(key) ?? { workspace: poolOf(j), user: j.createdBy, gpus: 0 };
    h.gpus += j.gpus;
    map.set(key, h);
  }
  return [...map.values()];
}
