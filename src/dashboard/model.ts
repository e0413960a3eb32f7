// Response shape of GET /api/dashboard (admin): the platform at a glance.
import { type Static, t } from "elysia";
import { Time } from "../http/schemas";

export const Dashboard = t.Object({
  nodes: t.Object({
    total: t.Integer(),
    attached: t.Integer(),
    error: t.Integer(),
    /** The nodes in error with their reason. */
    errors: t.Array(t.Object({ name: t.String(), message: t.Nullable(t.String()) })),
  }),
  gpus: t.Object({
    total: t.Integer({ description: "GPUs of every node" }),
    inUse: t.Number({ description: "GPUs held by live jobs (fractions count as fractions)" }),
    training: t.Number({ description: "held by training jobs and notebooks" }),
    deployment: t.Number({ description: "held by deployments" }),
  }),
  workspaces: t.Object({ total: t.Integer(), active: t.Integer() }),
  jobs: t.Object({
    running: t.Integer({ description: "starting or running" }),
    pending: t.Integer(),
  }),
  storage: t.Object({
    dataDirBytes: t.Number({ description: "bytes under the data directory (measured at most once a minute)" }),
    diskTotalBytes: t.Nullable(t.Number()),
    diskFreeBytes: t.Nullable(t.Number()),
    measuredAt: Time,
  }),
  backups: t.Object({
    count: t.Integer(),
    bytes: t.Number(),
    last: t.Nullable(t.Object({ name: t.String(), takenAt: Time, bytes: t.Number() })),
  }),
});
export type Dashboard = Static<typeof Dashboard>;
