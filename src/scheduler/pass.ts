// Pure: one scheduling pass. Jobs pending longer than the timeout are given up; the others are
// tried in the policy's order against a working copy of the nodes and of the workspaces' GPU
// use, so each job sees what the jobs placed before it took.
//
// Head-of-line (Backend.AI's "number of retries to skip pending session"): the first job that
// does not fit the nodes holds the queue, and nothing behind it is placed in this pass, until it
// has failed `maxAttempts` passes; from then on it is skipped and the jobs behind it go ahead.
// A job held back by its workspace's GPU limit, or an invalid one, never holds the queue: that
// is not the cluster's capacity, and waiting would not help the others.

import { FreeCapacity, requestProblem } from "./placement";
import { type Fairness, queueCursor } from "./policy";
import {
  isPlacement,
  type JobRequest,
  type NodeState,
  type Placement,
  type QueuePolicy,
  type ResourceShare,
  type WorkspaceShare,
} from "./types";

export interface PassInput {
  pending: readonly JobRequest[];
  nodes: readonly NodeState[];
  workspaces: readonly WorkspaceShare[];
  /** The workspaces' CPU and memory shares (absent: no limits). */
  resourceShares?: readonly ResourceShare[];
  policy: QueuePolicy;
  /** Failed passes after which a job stops holding the queue; 0: a job never holds it. */
  maxAttempts: number;
  /** Epoch ms. */
  now: number;
  /** Absent or 0: no timeout. */
  pendingTimeoutMs?: number;
  /** DRF only: what live jobs hold and the cluster's CPU and memory totals. */
  fairness?: Omit<Fairness, "workspaces">;
  /** Let a whole-GPU job without `nodes` spread over several nodes (default true). */
  allowSpan?: boolean;
}

/**
 * capacity: did not fit the nodes (the loop counts it in `attempts`); workspace: the workspace's
 * training GPUs (or its CPU or memory share) are in use; blocked: behind the job that holds the queue; invalid: cannot ever run as asked.
 */
export type WaitCause = "capacity" | "workspace" | "blocked" | "invalid";

export interface Waiting {
  jobId: string;
  reason: string;
  cause: WaitCause;
}

export interface PassResult {
  placements: Placement[];
  /** In the order the jobs were tried. */
  waiting: Waiting[];
  timedOut: string[];
  /** The job that held the queue in this pass, or null. */
  blockedBy: string | null;
}

export function schedulePass(input: PassInput): PassResult {
  const timeout = input.pendingTimeoutMs ?? 0;
  const timedOut: string[] = [];
  const live: JobRequest[] = [];
  for (const job of input.pending) {
    if (timeout > 0 && input.now - job.submittedAt > timeout) timedOut.push(job.id);
    else live.push(job);
  }

  const workspaces = new Map(input.workspaces.map((w) => [w.name, { ...w }]));
  const shares = new Map((input.resourceShares ?? []).map((r) => [r.name, { ...r }]));
  const capacity = new FreeCapacity(input.nodes);
  const cursor = queueCursor(live, input.policy, { ...input.fairness, workspaces: input.workspaces });
  const placements: Placement[] = [];
  const waiting: Waiting[] = [];
  let blocker: JobRequest | null = null;

  for (let job = cursor.next(); job; job = cursor.next()) {
    if (blocker) {
      waiting.push({ jobId: job.id, reason: heldBy(blocker, input.maxAttempts), cause: "blocked" });
      continue;
    }
    const problem = requestProblem(job);
    if (problem) {
      waiting.push({ jobId: job.id, reason: `invalid request: ${problem}`, cause: "invalid" });
      continue;
    }
    const ws = workspaces.get(job.workspace);
    const share = shares.get(job.resourceShare ?? job.workspace);
    const over = ws
      ? (workspaceProblem(ws, job.gpus) ?? (share ? resourceProblem(share, job) : null))
      : `workspace ${job.workspace} is unknown`;
    if (over) {
      waiting.push({ jobId: job.id, reason: over, cause: "workspace" });
      continue;
    }
    const result = capacity.place(job, { allowSpan: input.allowSpan });
    if (isPlacement(result)) {
      capacity.take(job, result);
      if (ws) ws.inUse += job.gpus;
      if (share) {
        share.cpusInUse += job.cpus ?? 0;
        share.memoryMiBInUse += job.memoryMiB ?? 0;
      }
      placements.push(result);
      cursor.placed(job);
      continue;
    }
    waiting.push({ jobId: job.id, reason: result.reason, cause: "capacity" });
    if (job.attempts < input.maxAttempts) blocker = job;
  }

  return { placements, waiting, timedOut, blockedBy: blocker?.id ?? null };
}

function workspaceProblem(ws: WorkspaceShare, gpus: number): string | null {
  if (gpus === 0 || ws.inUse + gpus <= ws.trainingGpus) return null;
  const kind = ws.gpuKind ?? "training";
  const name = kind === "deployment" ? ws.name.replace(/\/deployments$/, "") : ws.name;
  if (gpus > ws.trainingGpus) return `workspace ${name} has ${ws.trainingGpus} ${kind} GPUs; the job asks for ${gpus}`;
  const inUse = `workspace ${name}: ${ws.inUse} of ${ws.trainingGpus} ${kind} GPUs in use`;
  return ws.inUse < ws.trainingGpus ? `${inUse}; the job asks for ${gpus}` : inUse;
}

function heldBy(blocker: JobRequest, maxAttempts: number): string {
  const tries = blocker.attempts + 1;
  return `behind job ${blocker.id}, which holds the queue until it has failed ${maxAttempts} passes (${tries} so far)`;
}

/** Why the job would take its workspace over its CPU or memory share (0: no limit), or null. */
function resourceProblem(share: ResourceShare, job: JobRequest): string | null {
  const parts: [string, number, number, number][] = [
    ["CPUs", share.cpus, share.cpusInUse, job.cpus ?? 0],
    ["MiB memory", share.memoryMiB, share.memoryMiBInUse, job.memoryMiB ?? 0],
  ];
  for (const [what, limit, inUse, asks] of parts) {
    if (limit <= 0 || inUse + asks <= limit) continue;
    if (asks > limit) return `workspace ${share.name} has ${limit} ${what}; the job asks for ${asks}`;
    return `workspace ${share.name}: ${round(inUse)} of ${limit} ${what} in use; the job asks for ${asks}`;
  }
  return null;
}

function round(x: number): number {
  return Number(x.toFixed(2));
}
