// The scheduler loop (effects): reads a snapshot through the scheduler's store (store.ts), asks
// the pure decision (decide.ts) what to do, applies it (apply.ts). A job change (jobSignals)
// wakes it at once; a slow backstop pass on the ticker catches anything missed. It keeps the
// GPU usage view current, removes orphaned containers and reconciles jobs with Docker at start.
import type { Deps } from "../deps";
import { engineMessage } from "../executor/port";
import { JOB_LABEL } from "../executor/spec";
import { followJob, stopJobContainers } from "../jobs/runner";
import { moveJob } from "../jobs/transitions";
import { realTicker, type Ticker, type Timer } from "../lib/ticker";
import { nodeExecutor } from "../nodes/service";
import { applyActions } from "./apply";
import { decide, type Snapshot } from "./decide";
import { DrizzleSchedulerStore, type SchedulerStore } from "./store";
import { countUsage } from "./usage";

/** The ticker's name for the backstop pass. */
export const SCHEDULER_TIMER = "scheduler";

export interface SchedulerOptions {
  /** Default: the deps' store. */
  store?: SchedulerStore;
  /** Drives the backstop pass (default: setInterval). */
  ticker?: Ticker;
  /** Runs after every pass (e.g. the SSH gateway opening ports of running jobs). */
  afterPass?: () => Promise<void>;
}

export class SchedulerLoop {
  private readonly store: SchedulerStore;
  private readonly ticker: Ticker;
  private readonly afterPass: () => Promise<void>;
  private timer: Timer | null = null;
  private unsubscribe: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  /** Since when each node has been in `error` (decide keeps it up to date). */
  private nodeErrorSince: ReadonlyMap<string, number> = new Map();
  private lastSweep = 0;

  constructor(
    private readonly deps: Deps,
    options: SchedulerOptions = {},
  ) {
    this.store = options.store ?? new DrizzleSchedulerStore(deps.store);
    this.ticker = options.ticker ?? realTicker;
    this.afterPass = options.afterPass ?? (async () => {});
  }

  start(): void {
    this.unsubscribe = this.deps.jobSignals.subscribe(() => this.wake());
    this.timer = this.ticker.every(SCHEDULER_TIMER, this.deps.config.schedulerBackstopSeconds * 1000, () => {
      this.wake();
      return this.idle();
    });
    this.wake();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.timer?.stop();
    this.timer = null;
    await this.idle();
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
        await this.releaseMps().catch((err) => this.deps.logger.warn("stopping MPS daemons failed", { err }));
        await this.afterPass().catch((err) => this.deps.logger.error("after scheduler pass", { err }));
      } while (this.again);
      this.running = null;
    })();
  }

  /** Waits until no pass is running or due. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** One pass: snapshot → decide → apply. */
  async pass(): Promise<void> {
    const now = this.deps.clock.now().getTime();
    const decision = decide(await this.snapshot(), now, this.deps.config);
    this.nodeErrorSince = decision.nodeErrorSince;
    this.deps.gpuUsage.set(decision.usage);
    await applyActions(this.deps, decision.actions, now);
    if (decision.actions.some((a) => a.type === "start" || a.type === "fail" || a.type === "lose"))
      await this.recount();
  }

  private async snapshot(): Promise<Snapshot> {
    const jobs = await this.store.activeJobs();
    const nodes = await this.store.nodes();
    const waitFor = jobs.flatMap((j) => (j.status === "pending" && j.afterJobId ? [j.afterJobId] : []));
    const predecessors = await this.store.jobStates(waitFor);
    const workspaces = await this.store.workspaces();
    return { jobs, nodes, workspaces, predecessors, nodeErrorSince: this.nodeErrorSince };
  }

  /** Stops the MPS daemons of GPUs that no live fractional job uses any more (nodes/mpsDaemons). */
  private async releaseMps(): Promise<void> {
    const mps = this.deps.nodes.mps;
    if (mps.running().length === 0) return;
    const mark = mps.mark();
    const live = new Set((await this.store.liveJobs()).map((j) => j.id));
    for (const key of await mps.release(live, mark))
      this.deps.logger.info("stopped an MPS control daemon", { node: key.nodeId, gpu: key.uuid });
  }

  /** GPUs counted from live jobs only: a job that ended frees its GPUs at once. */
  private async recount(): Promise<void> {
    this.deps.gpuUsage.set(countUsage(await this.store.liveJobs()));
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
    const owned = new Set<string>();
    const starting = new Set<string>();
    for (const j of await this.store.activeJobs()) {
      if (j.status === "starting") starting.add(j.id);
      for (const a of j.assignments) if (a.containerId) owned.add(a.containerId);
    }
    const nodes = await this.store.nodes();
    const removed: string[] = [];
    for (const n of nodes.filter((x) => x.status === "attached")) {
      const exec = await nodeExecutor(deps, n.id).catch(() => null);
      const containers = (await exec?.list().catch(() => [])) ?? [];
      for (const c of containers) {
        // A root-delete helper (datasets/rootDelete) left by a master that stopped mid-delete.
        if (c.labels["hangar.purpose"] === "delete" && c.state !== "running") {
          await exec?.remove(c.id).catch(() => {});
          removed.push(c.id);
          continue;
        }
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
    for (const job of await this.store.liveJobRows()) {
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
        for (const a of job.assignments) {
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
        deps.logger.warn("reconcile job", { job: job.id, err: engineMessage(err) });
      }
    }
    await this.recount();
  }
}
