// Response shapes of the admin's cluster-wide views: GET /api/queue (the pending jobs in the
// order the scheduler will consider them) and GET /api/jobs (jobs across workspaces).
import { type Static, t } from "elysia";
import { JOB_KINDS, JOB_REASON_CODES, JOB_STATES } from "../domain/jobState";
import { Literals, Time } from "../http/schemas";

export const QueueEntry = t.Object({
  position: t.Integer({ description: "1 is considered first; jobs not yet queued come last" }),
  id: t.String(),
  name: t.String(),
  kind: Literals(JOB_KINDS),
  workspace: t.String(),
  createdBy: t.String(),
  gpus: t.Number(),
  nodes: t.Integer(),
  queued: t.Boolean({ description: "false: waits for its predecessor or its workspace's period" }),
  reason: t.Nullable(t.String()),
  reasonCode: t.Nullable(Literals(JOB_REASON_CODES)),
  attempts: t.Integer(),
  createdAt: Time,
  queuedAt: t.Nullable(Time),
  waitingSeconds: t.Number({ description: "since it was submitted" }),
});
export type QueueEntry = Static<typeof QueueEntry>;

export const QueuePage = t.Object({
  policy: Literals(["fifo", "lifo", "drf"] as const),
  items: t.Array(QueueEntry),
  total: t.Integer(),
});
export type QueuePage = Static<typeof QueuePage>;

export const AllJobsQuery = t.Object({
  status: t.Optional(
    t.String({ description: `comma-separated states (${JOB_STATES.join(", ")}); default all`, maxLength: 200 }),
  ),
  limit: t.Optional(t.String({ description: "page size, 1–500 (default 50)" })),
  offset: t.Optional(t.String()),
});
