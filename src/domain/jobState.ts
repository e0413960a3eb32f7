// Job states and the one table of legal moves (ARCHITECTURE habit 2). Nothing else decides
// whether a job may change state.

export const JOB_STATES = ["pending", "starting", "running", "succeeded", "failed", "cancelled", "lost"] as const;
export type JobState = (typeof JOB_STATES)[number];

export const FINAL_STATES: readonly JobState[] = ["succeeded", "failed", "cancelled", "lost"];
/** Not ended: queued or holding (or about to hold) its GPUs. */
export const OPEN_STATES: readonly string[] = ["pending", "starting", "running"];

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
