// Request and response shapes of /api/workspaces/:ws/trainings (jobs and notebooks have their own).
import { type Static, t } from "elysia";
import { TRAINING_ACCESS, TRAINING_TYPES } from "../domain/enums";
import { Literals, Name, Page, Time } from "../http/schemas";
import { DESCRIPTION_MAX } from "../workspaces/model";

export const TRAINING_STATUSES = ["running", "pending", "idle"] as const;

export const CreateTrainingBody = t.Object({
  name: Name(),
  description: t.Optional(t.String({ maxLength: DESCRIPTION_MAX })),
  type: Literals(TRAINING_TYPES),
  gpus: t.Number({ description: "0 (CPU only), 0.25, 0.5 or a whole number" }),
  cpus: t.Optional(t.Number({ description: "CPU cores for its jobs and notebook (default 0: no limit)" })),
  memoryMiB: t.Optional(t.Integer({ description: "memory in MiB for its jobs and notebook (default 0: no limit)" })),
  access: Literals(TRAINING_ACCESS),
  owner: t.Optional(t.String({ maxLength: 40, description: "default: the caller" })),
  users: t.Optional(t.Array(t.String({ maxLength: 40 }), { maxItems: 1000 })),
  image: t.Optional(t.String({ maxLength: 512 })),
  builtinModel: t.Optional(t.String({ maxLength: 64 })),
  idleTimeoutSeconds: t.Optional(
    t.Integer({ description: "notebooks: stop after this many seconds without use (default 3600)" }),
  ),
});
export type CreateTrainingBody = Static<typeof CreateTrainingBody>;

const training = {
  id: t.String(),
  workspace: t.String(),
  name: t.String(),
  description: t.String(),
  type: Literals(TRAINING_TYPES),
  gpus: t.Number(),
  cpus: t.Number({ description: "0: no limit" }),
  memoryMiB: t.Integer({ description: "0: no limit" }),
  access: Literals(TRAINING_ACCESS),
  owner: t.String(),
  users: t.Array(t.String()),
  image: t.Nullable(t.String()),
  builtinModel: t.Nullable(t.String()),
  idleTimeoutSeconds: t.Nullable(t.Integer()),
  hasSshKey: t.Boolean(),
  createdAt: Time,
  updatedAt: Time,
};

/** A training as lists show it. */
export const Training = t.Object(training);
export type Training = Static<typeof Training>;

export const TrainingPage = Page(Training);
export type TrainingPage = Static<typeof TrainingPage>;

/** One training with what runs of it now. */
export const TrainingDetail = t.Object({
  ...training,
  status: Literals(TRAINING_STATUSES),
  jobCount: t.Integer(),
  sshPort: t.Nullable(t.Integer({ description: "the SSH gateway port of its running job" })),
  notebookUrl: t.Nullable(t.String()),
});
export type TrainingDetail = Static<typeof TrainingDetail>;

export const TrainingKey = t.Object({
  privateKey: t.String({ description: "shown once" }),
  publicKey: t.String(),
});
export type TrainingKey = Static<typeof TrainingKey>;

export const CodeFile = t.Object({ path: t.String(), size: t.Integer(), modifiedAt: Time, type: t.Literal("file") });
export const CodeFilePage = Page(CodeFile);
export type CodeFilePage = Static<typeof CodeFilePage>;
