// The one writer of a job's status: checks the move against domain/jobState, stores the new
// state with its reason and records the transition (time, from, to, reason).
import { eq } from "drizzle-orm";
import type { Deps } from "../deps";
import { DEFAULT_REASON_CODE, type JobReasonCode, type JobState, transition } from "../domain/jobState";
import type { Db, Tables } from "../store/store";
import { jobKind } from "./kinds";

export type JobRow = Tables["jobs"]["$inferSelect"];
export type JobInsert = Tables["jobs"]["$inferInsert"];
type JobEventInsert = Tables["jobEvents"]["$inferInsert"];

export const newJobId = () => crypto.randomUUID().slice(0, 13).replace("-", "");

/**
 * The row of a one-off job (no sweep, no parameters: notebooks, deployments), queued `now`; its
 * service port and node-loss retry are its kind's unless `fields` name them.
 */
export function queuedJob(
  now: string,
  fields: Pick<JobInsert, "trainingId" | "workspace" | "name" | "image" | "command" | "gpus" | "kind" | "createdBy"> &
    Partial<JobInsert>,
): JobInsert {
  const kind = jobKind(fields.kind ?? "run");
  return {
    servicePort: kind.servicePort,
    retryOnNodeLoss: kind.retryOnNodeLoss,
    id: newJobId(),
    seq: 0,
    parameters: {},
    gpuOptions: [],
    status: "pending",
    statusReason: "queued",
    reasonCode: "queued",
    createdAt: now,
    queuedAt: now,
    updatedAt: now,
    ...fields,
  };
}

/**
 * Inserts new jobs, pending, each with its first recorded transition (none → pending, with
 * `reason`, by default its status reason), inside the caller's transaction.
 */
export async function insertPendingJobs(
  db: Db,
  t: Tables,
  rows: JobInsert[],
  reason: (row: JobInsert) => string | null = (row) => row.statusReason ?? null,
): Promise<void> {
  await db.insert(t.jobs).values(rows);
  await db.insert(t.jobEvents).values(
    rows.map(
      (row): JobEventInsert => ({
        jobId: row.id,
        at: row.createdAt,
        fromState: null,
        toState: "pending",
        reason: reason(row),
      }),
    ),
  );
}
type JobFields = Partial<Omit<JobRow, "id" | "status" | "statusReason" | "reasonCode" | "updatedAt">>;

/**
 * Moves a job to `to` with its reason (text for people; `options.code` for clients, by default
 * the usual one of the target state, DEFAULT_REASON_CODE). `options.from`: the states the caller
 * expects the job in (else StaleJobState).
 */
export async function moveJob(
  deps: Deps,
  jobId: string,
  to: JobState,
  reason: string | null,
  set: JobFields = {},
  options: { from?: JobState[]; code?: JobReasonCode } = {},
): Promise<JobRow> {
  const { store } = deps;
  const now = deps.clock.now().toISOString();
  const row = await store.tx(async (db) => {
    const [current] = await db.select().from(store.t.jobs).where(eq(store.t.jobs.id, jobId)).limit(1);
    if (!current) throw new Error(`job ${jobId} not found`);
    const from = current.status;
    if (options.from && !options.from.includes(from)) throw new StaleJobState(jobId, from);
    transition(from, to);
    const [updated] = await db
      .update(store.t.jobs)
      .set({
        ...set,
        status: to,
        statusReason: reason,
        reasonCode: options.code ?? DEFAULT_REASON_CODE[to],
        updatedAt: now,
      })
      .where(eq(store.t.jobs.id, jobId))
      .returning();
    await db.insert(store.t.jobEvents).values({ jobId, at: now, fromState: from, toState: to, reason });
    return updated as JobRow;
  });
  deps.jobSignals.changed();
  return row;
}

/** The job is no longer in the state the caller expected (another actor moved it first). */
export class StaleJobState extends Error {
  constructor(
    readonly jobId: string,
    readonly actual: JobState,
  ) {
    super(`job ${jobId} is ${actual} now`);
  }
}

/**
 * Updates the reason a pending job waits, without a state change (not a transition): `code` is
 * the reason's code (by default `queued`), `attempts` its count of failed fits, `queuedAt` when it
 * entered the queue.
 */
export async function setWaitingReason(
  deps: Deps,
  jobId: string,
  reason: string,
  fields: { code?: JobReasonCode; attempts?: number; queuedAt?: string } = {},
): Promise<void> {
  const { store } = deps;
  await store.tx((db) =>
    db
      .update(store.t.jobs)
      .set({
        statusReason: reason,
        reasonCode: fields.code ?? "queued",
        ...(fields.attempts !== undefined ? { attempts: fields.attempts } : {}),
        ...(fields.queuedAt !== undefined ? { queuedAt: fields.queuedAt } : {}),
        updatedAt: deps.clock.now().toISOString(),
      })
      .where(eq(store.t.jobs.id, jobId)),
  );
}
