// The scheduler's inputs and decisions. The decisions are pure: the loop that reads the store and
// starts containers passes the state in (and the time) and applies what comes back.
import { jobKind } from "../jobs/kinds";

export type QueuePolicy = "fifo" | "lifo" | "drf";

export const QUEUE_POLICIES: readonly QueuePolicy[] = ["fifo", "lifo", "drf"];

/** The fractions of one device a fractional job may ask for. */
export const GPU_FRACTIONS: readonly number[] = [0.25, 0.5];

export interface JobRequest {
  id: string;
  workspace: string;
  user: string;
  /** A whole count ≥ 1, one of GPU_FRACTIONS for a share of one device, or 0: CPU-only (placed by cpus/memoryMiB). */
  gpus: number;
  /** Spread the GPUs over exactly this many nodes, gpus / nodes on each (gpus % nodes === 0). */
  nodes?: number;
  /** For the whole job; a job spread over nodes needs them on each node in proportion to its GPUs there. */
  cpus?: number;
  /** Like cpus. */
  memoryMiB?: number;
  /** RDMA: only nodes with an InfiniBand interface (NodeState.infiniband) take it. */
  infiniband?: boolean;
  /** The ResourceShare (a workspace's CPU/memory share) it counts against; default: `workspace`. */
  resourceShare?: string;
  /** Epoch ms. */
  submittedAt: number;
  /** Passes in which it was tried and did not fit so far. */
  attempts: number;
}

export interface GpuState {
  uuid: string;
  /** 1: wholly free; 0.75, 0.5, 0.25: the rest is held by fractional jobs; 0: in use. */
  free: number;
}

export interface NodeState {
  id: string;
  /** False: the admin keeps new jobs off it (running ones stay). */
  schedulable: boolean;
  gpus: GpuState[];
  freeCpus: number;
  freeMemoryMiB: number;
  /** The node has an InfiniBand interface (absent: no). */
  infiniband?: boolean;
}

export interface WorkspaceShare {
  /** The pool's key, as in JobRequest.workspace (a workspace's deployments: `<ws>/deployments`). */
  name: string;
  /** GPUs the pool's jobs may hold at once. */
  trainingGpus: number;
  /** GPUs its live jobs hold (fractions count as fractions). */
  inUse: number;
  /** What reasons call these GPUs (default training). */
  gpuKind?: "training" | "deployment";
}

/**
 * A workspace's CPU and memory share: what all its live jobs (runs, notebooks, deployments)
 * may hold at once. 0: no limit.
 */
export interface ResourceShare {
  /** The workspace's name (JobRequest.resourceShare). */
  name: string;
  cpus: number;
  memoryMiB: number;
  /** What its live jobs hold. */
  cpusInUse: number;
  memoryMiBInUse: number;
}

/** A workspace's deployments draw on its deployment GPUs: their own pool in the scheduler. */
export const deploymentPool = (workspace: string) => `${workspace}/deployments`;

/** The pool a job counts against. */
export const poolOf = (job: { workspace: string; kind: string }) =>
  jobKind(job.kind).gpus === "deployment" ? deploymentPool(job.workspace) : job.workspace;

export interface Assignment {
  nodeId: string;
  gpuUuids: string[];
  /** Fractional jobs only: the share of the one device. */
  fraction?: number;
}

export interface Placement {
  jobId: string;
  assignments: Assignment[];
}

export interface Unplaced {
  reason: string;
}

/** What a user's live jobs in a workspace hold, for DRF. */
export interface Holding {
  workspace: string;
  user: string;
  gpus: number;
  cpus?: number;
  memoryMiB?: number;
}

export function isPlacement(result: Placement | Unplaced): result is Placement {
  return "assignments" in result;
}
