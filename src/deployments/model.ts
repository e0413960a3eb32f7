// Request and response shapes of /api/workspaces/:ws/deployments.
import { type Static, t } from "elysia";
import { Literals, NAME_MAX, Name, Page, Time } from "../http/schemas";
import { COMMAND_MAX } from "../jobs/model";
import { AppSession } from "../notebooks/model";
import { DESCRIPTION_MAX } from "../workspaces/model";

/** A deployment's status: its current job's, or `stopped` (never started, or cancelled). */
export const DEPLOYMENT_STATUSES = [
  "stopped",
  "pending",
  "starting",
  "running",
  "succeeded",
  "failed",
  "lost",
] as const;

export const CreateDeploymentBody = t.Object({
  name: Name(),
  description: t.Optional(t.String({ maxLength: DESCRIPTION_MAX })),
  training: t.String({ maxLength: NAME_MAX, description: "the training whose output is served" }),
  job: t.Optional(
    t.String({ maxLength: 64, description: "the job whose /output is served (default: newest succeeded)" }),
  ),
  image: t.Optional(t.String({ maxLength: 512, description: "default: the training's image" })),
  command: t.String({ maxLength: COMMAND_MAX, description: "starts the server; env PORT and HANGAR_MODEL_DIR" }),
  port: t.Optional(t.Integer({ description: "the port the server listens on (default 8000)" })),
  gpus: t.Optional(t.Number({ description: "deployment GPUs (0 for CPU only, 0.25, 0.5 or whole; default 1)" })),
  cpus: t.Optional(t.Number({ description: "CPU cores, a Docker limit (default 0: no limit)" })),
  memoryMiB: t.Optional(t.Integer({ description: "memory in MiB, a Docker limit (default 0: no limit)" })),
});
export type CreateDeploymentBody = Static<typeof CreateDeploymentBody>;

export const Deployment = t.Object({
  id: t.String(),
  name: t.String(),
  workspace: t.String(),
  description: t.String(),
  training: t.String(),
  sourceJob: t.Nullable(t.String({ description: "the job whose /output is served" })),
  image: t.String(),
  command: t.String(),
  port: t.Integer(),
  gpus: t.Number(),
  cpus: t.Number({ description: "0: no limit" }),
  memoryMiB: t.Integer({ description: "0: no limit" }),
  status: Literals(DEPLOYMENT_STATUSES),
  statusReason: t.Nullable(t.String()),
  jobId: t.Nullable(t.String()),
  node: t.Nullable(t.String()),
  path: t.String({ description: "its path on its own origin: /deployments/<ws>/<name>/" }),
  url: t.Nullable(t.String({ description: "where it is served (a port of its own) while started; null when stopped" })),
  startedAt: t.Nullable(Time),
  createdBy: t.String(),
  createdAt: Time,
});
export type Deployment = Static<typeof Deployment>;

export const DeploymentPage = Page(Deployment);
export type DeploymentPage = Static<typeof DeploymentPage>;

export const DeploymentSession = AppSession;
export type DeploymentSession = Static<typeof DeploymentSession>;
