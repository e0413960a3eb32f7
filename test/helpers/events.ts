// The order in which job state changes were recorded. Event ids grow with every recorded move
// (across jobs), so they order moves even when a frozen test clock gives them the same time.
import { and, eq } from "drizzle-orm";
import type { JobState } from "../../src/domain/jobState";
import type { TestMaster } from "./testMaster";

/** The id of the event that moved the job into `state` (throws when it never got there). */
export async function eventSeq(m: TestMaster, jobId: string, state: JobState): Promise<number> {
  const { store } = m.deps;
  const rows = await store.db
    .select({ id: store.t.jobEvents.id })
    .from(store.t.jobEvents)
    .where(and(eq(store.t.jobEvents.jobId, jobId), eq(store.t.jobEvents.toState, state)));
  const first = rows.map((r) => r.id).sort((a, b) => a - b)[0];
  if (first === undefined) throw new Error(`job ${jobId} never moved to ${state}`);
  return first;
}
