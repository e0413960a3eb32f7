// Request and response shapes of /api/workspaces.
import { type Static, t } from "elysia";
import { JOB_KINDS, JOB_STATES } from "../domain/jobState";
import { Literals, Name, Page, Time } from "../http/schemas";

export const WORKSPACE_STATUSES = ["reserved", "active", "expired"] as const;
/** Longest workspace (and training, deployment) description. */
export const DESCRIPTION_MAX = 500;

const fields = {
  description: t.Optional(t.String({ maxLength: DESCRIPTION_MAX })),
  startsAt: t.String({ maxLength: 40, description: "ISO 8601" }),
  endsAt: t.String({ maxLength: 40, description: "ISO 8601" }),
  trainingGpus: t.Integer(),
  deploymentGpus: t.Integer(),
  cpus: t.Optional(
    t.Integer({ description: "CPU cores all its jobs (runs, notebooks, deployments) may hold at once; 0: no limit" }),
  ),
  memoryMiB: t.Optional(t.Integer({ description: "memory in MiB all its jobs may hold at once; 0: no limit" })),
  manager: t.String({ maxLength: 40 }),
  users: t.Optional(t.Array(t.String({ maxLength: 40 }), { maxItems: 10_000 })),
};

export const CreateWorkspaceBody = t.Object({ name: Name(), ...fields });
export type CreateWorkspaceBody = Static<typeof CreateWorkspaceBody>;

export const PatchWorkspaceBody = t.Partial(t.Object(fields));
export type PatchWorkspaceBody = Static<typeof PatchWorkspaceBody>;

const summary = {
  name: t.String(),
  description: t.String(),
  startsAt: Time,
  endsAt: Time,
  status: Literals(WORKSPACE_STATUSES),
  trainingGpus: t.Integer(),
  deploymentGpus: t.Integer(),
  cpus: t.Integer({ description: "CPU share of its jobs; 0: no limit" }),
  memoryMiB: t.Integer({ description: "memory share (MiB) of its jobs; 0: no limit" }),
  manager: t.String(),
  users: t.Array(t.String()),
  createdAt: Time,
  updatedAt: Time,
  /** GPUs its live jobs hold now, per pool (the Workspaces table's "GPUs in Use"). */
  gpusInUse: t.Object({ training: t.Number(), deployment: t.Number() }),
};

export const Workspace = t.Object(summary);
export type Workspace = Static<typeof Workspace>;

export const WorkspacePage = Page(Workspace);
export type WorkspacePage = Static<typeof WorkspacePage>;

export const RecentTask = t.Object({
  id: t.String(),
  name: t.String(),
  kind: Literals(JOB_KINDS),
  training: t.String(),
  status: Literals(JOB_STATES),
  createdBy: t.String(),
  createdAt: Time,
});

export const WorkspaceDetail = t.Object({
  ...summary,
  gpusInUse: t.Object({ training: t.Number(), deployment: t.Number() }),
  counts: t.Object({
    trainings: t.Integer(),
    deployments: t.Integer(),
    images: t.Integer(),
    datasets: t.Integer(),
  }),
  recentTasks: t.Array(RecentTask),
});
export type WorkspaceDetail = Static<typeof WorkspaceDetail>;

export const GpuUsageQuery = t.Object({
  from: t.Optional(t.String({ maxLength: 40, description: "ISO 8601 (default: 24 hours before `to`)" })),
  to: t.Optional(t.String({ maxLength: 40, description: "ISO 8601 (default: now)" })),
  step: t.Optional(t.String({ maxLength: 12, description: "seconds per point (default 900; at most 2000 points)" })),
});
export type GpuUsageQuery = Static<typeof GpuUsageQuery>;

export const GpuUsagePoint = t.Object({
  at: Time,
  training: t.Number({ description: "average training GPUs held over [at, at + step)" }),
  deployment: t.Number({ description: "average deployment GPUs held over [at, at + step)" }),
});
export type GpuUsagePoint = Static<typeof GpuUsagePoint>;

export const GpuUsageSeries = t.Object({
  from: Time,
  to: Time,
  step: t.Integer({ description: "seconds" }),
  points: t.Array(GpuUsagePoint),
});
export type GpuUsageSeries = Static<typeof GpuUsageSeries>;
