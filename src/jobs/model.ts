// Request and response shapes of jobs: /api/workspaces/:ws/trainings/:tr/jobs and /api/jobs/:id.
import { type Static, t } from "elysia";
import { JOB_REASON_CODES, JOB_STATES } from "../domain/jobState";
import { Literals, NAME_MAX, Name, Page, Time } from "../http/schemas";

/** Longest command of a job or a deployment. */
export const COMMAND_MAX = 10_000;
/** Most parameter sets (jobs) one request creates. */
export const PARAMETER_SETS_MAX = 500;

export const CreateJobsBody = t.Object({
  name: Name("with several parameter sets the jobs are <name>-1, <name>-2, …"),
  image: t.Optional(t.String({ maxLength: 512, description: "default: the training's image" })),
  dataset: t.Optional(t.String({ maxLength: NAME_MAX, description: "mounted at /dataset" })),
  command: t.Optional(
    t.String({ maxLength: COMMAND_MAX, description: "required for advanced trainings; builtin ones run their model" }),
  ),
  gpuOptions: t.Optional(
    t.Array(t.String({ maxLength: 40, description: "gpu-acceleration, unified-memory or rdma-infiniband" }), {
      maxItems: 10,
    }),
  ),
  parameterSets: t.Optional(
    t.Array(t.Record(t.String(), t.Union([t.String(), t.Number(), t.Boolean()])), {
      maxItems: PARAMETER_SETS_MAX,
      description: "one job per set, run one after another",
    }),
  ),
  gpus: t.Optional(t.Number({ description: "default: the training's GPUs; 0: CPU only" })),
  cpus: t.Optional(t.Number({ description: "CPU cores, a Docker limit (default: the training's; 0: no limit)" })),
  memoryMiB: t.Optional(
    t.Integer({ description: "memory in MiB, a Docker limit (default: the training's; 0: no limit)" }),
  ),
  nodes: t.Optional(t.Integer({ description: "spread over this many nodes (default 1)" })),
  retryOnNodeLoss: t.Optional(t.Boolean()),
});
export type CreateJobsBody = Static<typeof CreateJobsBody>;

export const JobStatus = Literals(JOB_STATES);

export const Assignment = t.Object({
  nodeId: t.String(),
  gpuUuids: t.Array(t.String()),
  fraction: t.Optional(t.Number({ description: "a share of one GPU" })),
});

export const Job = t.Object({
  id: t.String(),
  name: t.String(),
  workspace: t.String(),
  status: JobStatus,
  statusReason: t.Nullable(t.String()),
  reasonCode: t.Nullable(Literals(JOB_REASON_CODES)),
  parameters: t.Record(t.String(), t.String()),
  image: t.String(),
  dataset: t.Nullable(t.String()),
  command: t.String(),
  gpuOptions: t.Array(t.String()),
  gpus: t.Number(),
  cpus: t.Number({ description: "CPU cores asked for; 0: no limit" }),
  memoryMiB: t.Integer({ description: "memory in MiB asked for; 0: no limit" }),
  nodes: t.Integer(),
  node: t.Nullable(t.String()),
  assignments: t.Array(Assignment),
  exitCode: t.Nullable(t.Integer()),
  sshPort: t.Nullable(t.Integer()),
  createdBy: t.String(),
  createdAt: Time,
  startedAt: t.Nullable(Time),
  finishedAt: t.Nullable(Time),
});
export type Job = Static<typeof Job>;

export const JobPage = Page(Job);
export type JobPage = Static<typeof JobPage>;

export const JobEvent = t.Object({
  at: Time,
  from: t.Nullable(JobStatus),
  to: JobStatus,
  reason: t.Nullable(t.String()),
});
export const JobEventPage = Page(JobEvent);
export type JobEventPage = Static<typeof JobEventPage>;

export const LogQuery = t.Object({
  follow: t.Optional(t.String({ description: "1 or true: stream (SSE) until the job ends" })),
});

/** A job's /output as a tar stream; the handler returns a Response. */
export const TarBody = t.String({ format: "binary", description: "application/x-tar" });
