// What the scheduler reads, and nothing more: the narrow store interface `scheduler/` owns, with
// the rows turned into plain values (times in epoch ms), and its drizzle implementation. Writes go through jobs/transitions (moveJob, setWaitingReason).
import { inArray } from "drizzle-orm";
import type { JobState } from "../domain/jobState";
import type { JobRow } from "../jobs/transitions";
import type { Store } from "../store/store";
import type { Assignment } from "./types";

/** Where a live job runs (the container, once started). */
export interface HeldAssignment extends Assignment {
  containerId?: string;
}

/** A pending, starting or running job. */
export interface ActiveJob {
  id: string;
  status: "pending" | "starting" | "running";
  /** run, notebook or deployment (deployments count against their workspace's deployment pool). */
  kind: string;
  workspace: string;
  createdBy: string;
  gpus: number;
  /** CPU cores and memory asked for (0: not asked). */
  cpus: number;
  memoryMiB: number;
  /** Asks for RDMA (gpuOption rdma-infiniband): only nodes with InfiniBand take it. */
  infiniband: boolean;
  nodeCount: number;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms it entered the queue; null while it waits for its predecessor. */
  queuedAt: number | null;
  /** Passes in which it did not fit (skip-after-N). */
  attempts: number;
  statusReason: string | null;
  /** The job of the same sweep that must end first. */
  afterJobId: string | null;
  retryOnNodeLoss: boolean;
  requeues: number;
  assignments: HeldAssignment[];
}

export interface SchedulerNode {
  id: string;
  name: string;
  /** What the admin wants (attached/detached). */
  desired: string;
  /** What the health probe saw (attached, error, …). */
  status: string;
  gpuUuids: string[];
  cpus: number;
  memoryMiB: number;
  /** Its facts list an interface of kind InfiniBand. */
  infiniband: boolean;
}

export interface SchedulerWorkspace {
  name: string;
  /** Epoch ms. */
  startsAt: number;
  endsAt: number;
  trainingGpus: number;
  deploymentGpus: number;
  /** The CPU and memory share of all its jobs; 0: no limit. */
  cpus: number;
  memoryMiB: number;
}

export interface SchedulerStore {
  /** Pending, starting and running jobs. */
  activeJobs(): Promise<ActiveJob[]>;
  /** Starting and running jobs. */
  liveJobs(): Promise<ActiveJob[]>;
  /** Starting and running jobs as stored (what the runner takes, for reconciling at start). */
  liveJobRows(): Promise<JobRow[]>;
  nodes(): Promise<SchedulerNode[]>;
  workspaces(): Promise<SchedulerWorkspace[]>;
  /** The states of these jobs (those not found are left out). */
  jobStates(ids: readonly string[]): Promise<Map<string, JobState>>;
}

const LIVE: JobState[] = ["starting", "running"];
const ACTIVE: JobState[] = ["pending", ...LIVE];

export class DrizzleSchedulerStore implements SchedulerStore {
  constructor(private readonly store: Store) {}

  async activeJobs(): Promise<ActiveJob[]> {
    return (await this.jobRows(ACTIVE)).map(toActiveJob);
  }

  async liveJobs(): Promise<ActiveJob[]> {
    return (await this.jobRows(LIVE)).map(toActiveJob);
  }

  liveJobRows(): Promise<JobRow[]> {
    return this.jobRows(LIVE);
  }

  async nodes(): Promise<SchedulerNode[]> {
    const { db, t } = this.store;
    const rows = await db
      .select({
        id: t.nodes.id,
        name: t.nodes.name,
        desired: t.nodes.desired,
        status: t.nodes.status,
        gpus: t.nodes.gpus,
        cpus: t.nodes.cpus,
        memoryMiB: t.nodes.memoryMiB,
        networkInterfaces: t.nodes.networkInterfaces,
      })
      .from(t.nodes);
    return rows.map(({ gpus, networkInterfaces, ...n }) => ({
      ...n,
      gpuUuids: gpus.map((g) => g.uuid),
      infiniband: networkInterfaces.some((i) => i.kind === "InfiniBand"),
    }));
  }

  async workspaces(): Promise<SchedulerWorkspace[]> {
    const { db, t } = this.store;
    const rows = await db
      .select({
        name: t.workspaces.name,
        startsAt: t.workspaces.startsAt,
        endsAt: t.workspaces.endsAt,
        trainingGpus: t.workspaces.trainingGpus,
        deploymentGpus: t.workspaces.deploymentGpus,
        cpus: t.workspaces.cpus,
        memoryMiB: t.workspaces.memoryMiB,
      })
      .from(t.workspaces);
    return rows.map((w) => ({ ...w, startsAt: Date.parse(w.startsAt), endsAt: Date.parse(w.endsAt) }));
  }

  async jobStates(ids: readonly string[]): Promise<Map<string, JobState>> {
    if (ids.length === 0) return new Map();
    const { db, t } = this.store;
    const rows = await db
      .select({ id: t.jobs.id, status: t.jobs.status })
      .from(t.jobs)
      .where(inArray(t.jobs.id, [...ids]));
    return new Map(rows.map((r) => [r.id, r.status]));
  }

  private jobRows(states: JobState[]): Promise<JobRow[]> {
    const { db, t } = this.store;
    return db.select().from(t.jobs).where(inArray(t.jobs.status, states));
  }
}

function toActiveJob(j: JobRow): ActiveJob {
  return {
    id: j.id,
    status: j.status as ActiveJob["status"], // the query asked for these states only
    kind: j.kind,
    workspace: j.workspace,
    createdBy: j.createdBy,
    gpus: j.gpus,
    cpus: j.cpus,
    memoryMiB: j.memoryMiB,
    infiniband: j.gpuOptions.includes("rdma-infiniband"),
    nodeCount: j.nodeCount,
    createdAt: Date.parse(j.createdAt),
    queuedAt: j.queuedAt ? Date.parse(j.queuedAt) : null,
    attempts: j.attempts,
    statusReason: j.statusReason,
    afterJobId: j.afterJobId,
    retryOnNodeLoss: j.retryOnNodeLoss,
    requeues: j.requeues,
    assignments: j.assignments,
  };
}
