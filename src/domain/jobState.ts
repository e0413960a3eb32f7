// Job states and the one table of legal moves (ARCHITECTURE habit 2). Nothing else decides
// whether a job may change state.

export const JOB_STATES = ["pending", "starting", "running", "succeeded", "failed", "cancelled", "lost"] as const;
export type JobState = (typeof JOB_STATES)[number];

/** `run`: a training job; `notebook`: a notebook training's Jupyter server; `deployment`: a serving container. */
export const JOB_KINDS = ["run", "notebook", "deployment"] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/**
 * Why a job is in its state, as a code next to the free-text reason (clients switch on the
 * code, people read the text). Pending: queued, predecessor (a sweep's earlier job has not
 * ended), inactive (the workspace is outside its period), capacity, workspace (its GPUs are in
 * use), blocked (behind the job holding the queue), invalid (cannot run as asked), requeued.
 * Then starting, running; the ends: exited (succeeded or failed by its exit code),
 * start-failed, timeout (pending too long), cancelled, node-lost, container-gone.
 */
export const JOB_REASON_CODES = [
  "queued",
  "predecessor",
  "inactive",
  "capacity",
  "workspace",
  "blocked",
  "invalid",
  "requeued",
  "starting",
  "running",
  "exited",
  "start-failed",
  "timeout",
  "cancelled",
  "node-lost",
  "container-gone",
] as const;
export type JobReasonCode = (typeof JOB_REASON_CODES)[number];

/** The code a move records unless its writer names one. */
export const DEFAULT_REASON_CODE: Record<JobState, JobReasonCode> = {
  pending: "queued",
  starting: "starting",
  running: "running",
  succeeded: "exited",
  failed: "exited",
  cancelled: "cancelled",
  lost: "node-lost",
};

export const FINAL_STATES: readonly JobState[] = ["succeeded", "failed", "cancelled", "lost"];
/** Not ended: queued or holding (or about to hold) its GPUs. */
export const OPEN_STATES: readonly JobState[] = ["pending", "starting", "running"];

const MOVES: Record<JobState, readonly JobState[]> = {
  pending: ["starting", "cancelled", "failed"],
  starting: ["running", "succeeded", "failed", "cancelled", "lost", "pending"],
  running: ["succeeded", "failed", "cancelled", "lost"],
  succeeded: [],
  failed: [],
  cancelled: [],
  // A lost job may be requeued once (a new pending attempt of the same job).
  lost: ["pending"],
};

export function isFinal(state: JobState): boolean {
  return FINAL_STATES.includes(state);
}

export class IllegalTransition extends Error {
  constructor(
    readonly from: JobState,
    readonly to: JobState,
  ) {
    super(`a job cannot go from ${from} to ${to}`);
  }
}

/** Checks a move; returns the new state or throws IllegalTransition. */
export function transition(from: JobState, to: JobState): JobState {
  if (!MOVES[from].includes(to)) throw new IllegalTransition(from, to);
  return to;
}

export function canMove(from: JobState, to: JobState): boolean {
  return MOVES[from].includes(to);
}
