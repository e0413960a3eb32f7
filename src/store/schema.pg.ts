// PostgreSQL twin of schema.sqlite.ts: same table, column and export names (see its header).
import {
  bigint,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import {
  DATASET_ACCESS,
  IMAGE_RELEASES,
  IMAGE_SOURCE_TYPES,
  IMAGE_STAGES,
  IMAGE_STATUSES,
  TRAINING_ACCESS,
  TRAINING_TYPES,
} from "../domain/enums";
import type { GpuOption, PlacedAssignment } from "../domain/jobSpec";
import { JOB_KINDS, JOB_REASON_CODES, JOB_STATES } from "../domain/jobState";
import type { Gpu, InterfaceChoice, NetInterface } from "../domain/nodeFacts";
import { NODE_DESIRED, NODE_STATUSES } from "../domain/nodeHealth";
import { ROLES } from "../domain/rules";
import { STORAGE_MODES } from "../domain/storage";

export const users = pgTable("users", {
  userId: text("user_id").primaryKey(),
  role: text("role", { enum: ROLES }).notNull(),
  passwordHash: text("password_hash").notNull(),
  active: boolean("active").notNull().default(true),
  mustChangePassword: boolean("must_change_password").notNull().default(false),
  totpSecret: text("totp_secret"),
  totpEnabled: boolean("totp_enabled").notNull().default(false),
  sshPublicKey: text("ssh_public_key"),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});

export const sessions = pgTable(
  "sessions",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.userId),
    createdAt: text("created_at").notNull(),
    expiresAt: text("expires_at").notNull(),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

export const apiKeys = pgTable(
  "api_keys",
  {
    accessKey: text("access_key").primaryKey(),
    secretHash: text("secret_hash").notNull().unique(),
    userId: text("user_id")
      .notNull()
      .references(() => users.userId),
    createdAt: text("created_at").notNull(),
    lastUsedAt: text("last_used_at"),
  },
  (t) => [index("api_keys_user_idx").on(t.userId)],
);

export const nodes = pgTable("nodes", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  ip: text("ip").notNull(),
  sshPort: integer("ssh_port").notNull(),
  sshUser: text("ssh_user").notNull(),
  dockerSocket: text("docker_socket").notNull().default("/var/run/docker.sock"),
  hostKeyFingerprint: text("host_key_fingerprint"),
  desired: text("desired", { enum: NODE_DESIRED }).notNull(),
  status: text("status", { enum: NODE_STATUSES }).notNull(),
  statusMessage: text("status_message"),
  interfaces: jsonb("interfaces").$type<InterfaceChoice>().notNull(),
  networkInterfaces: jsonb("network_interfaces").$type<NetInterface[]>().notNull(),
  gpus: jsonb("gpus").$type<Gpu[]>().notNull(),
  cpus: integer("cpus").notNull(),
  memoryMiB: integer("memory_mib").notNull(),
  dockerVersion: text("docker_version"),
  nvidiaRuntime: boolean("nvidia_runtime").notNull().default(false),
  hostname: text("hostname"),
  /** shared | staged | none: how jobs on it see the data dir, chosen at connect (nodes/storage.ts). */
  storage: text("storage", { enum: STORAGE_MODES }).notNull().default("none"),
  lastSeenAt: text("last_seen_at"),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});

export const workspaces = pgTable("workspaces", {
  name: text("name").primaryKey(),
  description: text("description").notNull().default(""),
  startsAt: text("starts_at").notNull(),
  endsAt: text("ends_at").notNull(),
  trainingGpus: integer("training_gpus").notNull(),
  deploymentGpus: integer("deployment_gpus").notNull(),
  /** CPU cores the workspace's live jobs may hold at once (all kinds together); 0: no limit. */
  cpus: integer("cpus").notNull().default(0),
  /** Memory (MiB) its live jobs may hold at once; 0: no limit. */
  memoryMiB: integer("memory_mib").notNull().default(0),
  manager: text("manager")
    .notNull()
    .references(() => users.userId),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});

export const workspaceUsers = pgTable(
  "workspace_users",
  {
    workspace: text("workspace")
      .notNull()
      .references(() => workspaces.name, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.userId),
  },
  (t) => [primaryKey({ columns: [t.workspace, t.userId] }), index("workspace_users_user_idx").on(t.userId)],
);

export const datasets = pgTable(
  "datasets",
  {
    id: text("id").primaryKey(),
    workspace: text("workspace")
      .notNull()
      .references(() => workspaces.name, { onDelete: "cascade" }),
    name: text("name").notNull(),
    access: text("access", { enum: DATASET_ACCESS }).notNull(),
    createdBy: text("created_by")
      .notNull()
      .references(() => users.userId),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("datasets_ws_name_idx").on(t.workspace, t.name)],
);

export const datasetFiles = pgTable(
  "dataset_files",
  {
    datasetId: text("dataset_id")
      .notNull()
      .references(() => datasets.id, { onDelete: "cascade" }),
    path: text("path").notNull(),
    modifiedBy: text("modified_by").notNull(),
    modifiedAt: text("modified_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.datasetId, t.path] })],
);

export const images = pgTable(
  "images",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    sourceType: text("source_type", { enum: IMAGE_SOURCE_TYPES }).notNull(),
    source: text("source").notNull(),
    reference: text("reference").notNull(),
    release: text("release", { enum: IMAGE_RELEASES }).notNull(),
    status: text("status", { enum: IMAGE_STATUSES }).notNull(),
    /** Where a pending image is (queued, waiting for its upload, preparing); null once ready or failed. */
    stage: text("stage", { enum: IMAGE_STAGES }),
    statusReason: text("status_reason"),
    sizeBytes: bigint("size_bytes", { mode: "number" }),
    dockerId: text("docker_id"),
    uploader: text("uploader").notNull(),
    builtin: boolean("builtin").notNull().default(false),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("images_name_idx").on(t.name)],
);

export const imageWorkspaces = pgTable(
  "image_workspaces",
  {
    imageId: text("image_id")
      .notNull()
      .references(() => images.id, { onDelete: "cascade" }),
    workspace: text("workspace")
      .notNull()
      .references(() => workspaces.name, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.imageId, t.workspace] }), index("image_workspaces_ws_idx").on(t.workspace)],
);

export const trainings = pgTable(
  "trainings",
  {
    id: text("id").primaryKey(),
    workspace: text("workspace")
      .notNull()
      .references(() => workspaces.name, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    type: text("type", { enum: TRAINING_TYPES }).notNull(),
    gpus: doublePrecision("gpus").notNull(),
    /** CPU cores (may be fractional); 0: not asked (no limit). */
    cpus: doublePrecision("cpus").notNull().default(0),
    /** Memory in MiB; 0: not asked (no limit). */
    memoryMiB: integer("memory_mib").notNull().default(0),
    access: text("access", { enum: TRAINING_ACCESS }).notNull(),
    owner: text("owner")
      .notNull()
      .references(() => users.userId),
    image: text("image"),
    builtinModel: text("builtin_model"),
    /** Public half of the key pair generated for this training (its private half was shown once). */
    sshPublicKey: text("ssh_public_key"),
    /** Notebook trainings: stop the notebook after this many seconds without use. */
    idleTimeoutSeconds: integer("idle_timeout_seconds"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("trainings_ws_name_idx").on(t.workspace, t.name)],
);

export const trainingUsers = pgTable(
  "training_users",
  {
    trainingId: text("training_id")
      .notNull()
      .references(() => trainings.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.userId),
  },
  (t) => [primaryKey({ columns: [t.trainingId, t.userId] })],
);

export const jobs = pgTable(
  "jobs",
  {
    id: text("id").primaryKey(),
    trainingId: text("training_id")
      .notNull()
      .references(() => trainings.id, { onDelete: "cascade" }),
    workspace: text("workspace").notNull(),
    name: text("name").notNull(),
    seq: integer("seq").notNull(),
    afterJobId: text("after_job_id"),
    image: text("image").notNull(),
    dataset: text("dataset"),
    command: text("command").notNull(),
    parameters: jsonb("parameters").$type<Record<string, string>>().notNull(),
    gpuOptions: jsonb("gpu_options").$type<GpuOption[]>().notNull(),
    gpus: doublePrecision("gpus").notNull(),
    /** CPU cores (may be fractional); 0: not asked (no limit). */
    cpus: doublePrecision("cpus").notNull().default(0),
    /** Memory in MiB; 0: not asked (no limit). */
    memoryMiB: integer("memory_mib").notNull().default(0),
    nodeCount: integer("node_count").notNull().default(1),
    status: text("status", { enum: JOB_STATES }).notNull(),
    statusReason: text("status_reason"),
    /** Why the job is in its state, as a code (the reason above is for people); null on rows from before it. */
    reasonCode: text("reason_code", { enum: JOB_REASON_CODES }),
    node: text("node"),
    assignments: jsonb("assignments").$type<PlacedAssignment[]>().notNull().default([]),
    exitCode: integer("exit_code"),
    attempts: integer("attempts").notNull().default(0),
    requeues: integer("requeues").notNull().default(0),
    /** `run` (a training job), `notebook` (a notebook training's Jupyter server) or `deployment`. */
    kind: text("kind", { enum: JOB_KINDS }).notNull().default("run"),
    /** The Jupyter token the master adds when it proxies to the notebook. */
    notebookToken: text("notebook_token"),
    /** The container port the master proxies to (notebooks 8888, deployments their `port`). */
    servicePort: integer("service_port"),
    retryOnNodeLoss: boolean("retry_on_node_loss").notNull().default(true),
    createdBy: text("created_by").notNull(),
    createdAt: text("created_at").notNull(),
    queuedAt: text("queued_at"),
    startedAt: text("started_at"),
    finishedAt: text("finished_at"),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("jobs_status_idx").on(t.status), index("jobs_training_idx").on(t.trainingId)],
);

export const jobEvents = pgTable(
  "job_events",
  {
    id: serial("id").primaryKey(),
    jobId: text("job_id")
      .notNull()
      .references(() => jobs.id, { onDelete: "cascade" }),
    at: text("at").notNull(),
    fromState: text("from_state", { enum: JOB_STATES }),
    toState: text("to_state", { enum: JOB_STATES }).notNull(),
    reason: text("reason"),
  },
  (t) => [index("job_events_job_idx").on(t.jobId)],
);

/**
 * Deployments (docs/product.md#deployments): a long-lived serving container from a training's output on the
 * workspace's deployment GPUs. Each start is a job of kind `deployment` (`jobId`: the latest).
 */
export const deployments = pgTable(
  "deployments",
  {
    id: text("id").primaryKey(),
    workspace: text("workspace")
      .notNull()
      .references(() => workspaces.name, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    trainingId: text("training_id")
      .notNull()
      .references(() => trainings.id, { onDelete: "cascade" }),
    /** The job whose /output is served (mounted read-only at /model). */
    sourceJobId: text("source_job_id"),
    image: text("image").notNull(),
    command: text("command").notNull(),
    port: integer("port").notNull(),
    gpus: doublePrecision("gpus").notNull(),
    /** CPU cores (may be fractional); 0: not asked (no limit). */
    cpus: doublePrecision("cpus").notNull().default(0),
    /** Memory in MiB; 0: not asked (no limit). */
    memoryMiB: integer("memory_mib").notNull().default(0),
    jobId: text("job_id"),
    createdBy: text("created_by").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("deployments_ws_name_idx").on(t.workspace, t.name)],
);
