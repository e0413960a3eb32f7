// Deployments (docs/product.md#deployments): a long-lived serving container built from a training's output, on the
// workspace's deployment GPUs, reached through the master at /deployments/<ws>/<name>/.
// Each start is a job of kind `deployment`: the scheduler places it in the workspace's
// deployment-GPU pool, the runner mounts the served job's /output at /model (read-only) and
// publishes `port`; node loss requeues it once like any job. Stop cancels that job.
import { and, desc, eq, inArray } from "drizzle-orm";
import type { Principal } from "../auth/cache";
import type { Deps } from "../deps";
import { badRequest, conflict, notFound } from "../domain/errors";
import { OPEN_STATES } from "../domain/jobState";
import { nameProblem } from "../domain/rules";
import { type AppRef, appSession } from "../http/proxyCookie";
import { COMMAND_MAX } from "../jobs/model";
import { serviceOrigin } from "../jobs/runner";
import { cancelJob, resolveImage } from "../jobs/service";
import { MOUNT_POINTS, shellQuote } from "../jobs/spec";
import { insertPendingJobs, type JobRow, queuedJob } from "../jobs/transitions";
import type { Tables } from "../store/store";
import { checkGpus, checkJobResources, checkResources, trainingFor } from "../trainings/service";
import { requireNotExpired, workspaceFor } from "../workspaces/access";
import type { CreateDeploymentBody, Deployment, DeploymentSession } from "./model";

export type DeploymentRow = Tables["deployments"]["$inferSelect"];
export const deploymentBase = (ws: string, name: string) => `/deployments/${ws}/${name}/`;

export async function createDeployment(
  deps: Deps,
  principal: Principal,
  ws: string,
  input: CreateDeploymentBody,
): Promise<Deployment> {
  const training = await trainingFor(deps, principal, ws, input.training).catch(() => {
    throw badRequest("training", `no training ${input.training} you can see in workspace ${ws}`);
  });
  requireNotExpired(deps, training.ws.row, "starting a deployment");
  const problem = nameProblem(input.name, "deployment name");
  if (problem) throw badRequest("name", problem);
  if ((input.description ?? "").length > 500)
    throw badRequest("description", "description must be at most 500 characters");
  const command = input.command ?? "";
  if (!command.trim()) throw badRequest("command", "the command is empty (it starts the server)");
  if (command.length > COMMAND_MAX)
    throw badRequest("command", `the command is longer than ${COMMAND_MAX.toLocaleString("en")} characters`);
  const port = input.port ?? 8000;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw badRequest("port", "port must be 1–65535");
  const gpus = checkGpus("gpus", input.gpus ?? 1, training.ws.row.deploymentGpus, "deployment");
  const resources = checkJobResources(training.ws.row, checkResources(input));
  const sourceJobId = await sourceJob(deps, training.row.id, input.job);
  const image = await resolveImage(deps, input.image ?? training.row.image, ws);
  const { store } = deps;
  const [clash] = await store.db
    .select({ id: store.t.deployments.id })
    .from(store.t.deployments)
    .where(and(eq(store.t.deployments.workspace, ws), eq(store.t.deployments.name, input.name)));
  if (clash) throw conflict(`deployment ${input.name} already exists in workspace ${ws}`, "duplicate_name", "name");
  const now = deps.clock.now().toISOString();
  const id = crypto.randomUUID();
  await store.tx(async (db) => {
    await db.insert(store.t.deployments).values({
      id,
      workspace: ws,
      name: input.name,
      description: input.description ?? "",
      trainingId: training.row.id,
      sourceJobId,
      image,
      command,
      port,
      gpus,
      ...resources,
      createdBy: principal.userId,
      createdAt: now,
      updatedAt: now,
    });
  });
  await queueDeploymentJob(deps, principal, await deploymentRow(deps, ws, input.name));
  return getDeployment(deps, principal, ws, input.name);
}

async function sourceJob(deps: Deps, trainingId: string, jobId: string | undefined): Promise<string | null> {
  const { store } = deps;
  if (jobId) {
    const [job] = await store.db
      .select()
      .from(store.t.jobs)
      .where(and(eq(store.t.jobs.id, jobId), eq(store.t.jobs.trainingId, trainingId)));
    if (job?.kind !== "run") throw badRequest("job", `no job ${jobId} of this training`);
    return job.id;
  }
  const [newest] = await store.db
    .select()
    .from(store.t.jobs)
    .where(
      and(eq(store.t.jobs.trainingId, trainingId), eq(store.t.jobs.kind, "run"), eq(store.t.jobs.status, "succeeded")),
    )
    .orderBy(desc(store.t.jobs.finishedAt))
    .limit(1);
  return newest?.id ?? null;
}

/** A new job of kind `deployment` for the deployment, queued for the scheduler. */
async function queueDeploymentJob(deps: Deps, principal: Principal, dep: DeploymentRow): Promise<void> {
  const { store } = deps;
  const now = deps.clock.now().toISOString();
  const env = `HANGAR_MODEL_DIR=${MOUNT_POINTS.model} PORT=${dep.port}`;
  const job = queuedJob(now, {
    trainingId: dep.trainingId,
    workspace: dep.workspace,
    name: dep.name,
    image: dep.image,
    // The server reads where the model is and which port to listen on from the environment.
    command: `env ${env} sh -c ${shellQuote(dep.command)}`,
    gpus: dep.gpus,
    cpus: dep.cpus,
    memoryMiB: dep.memoryMiB,
    kind: "deployment",
    servicePort: dep.port,
    createdBy: principal.userId,
  });
  await store.tx(async (db) => {
    await insertPendingJobs(db, store.t, [job], () => `deployment ${dep.name} started`);
    await db
      .update(store.t.deployments)
      .set({ jobId: job.id, updatedAt: now })
      .where(eq(store.t.deployments.id, dep.id));
  });
  deps.jobSignals.changed();
}

async function deploymentRow(deps: Deps, ws: string, name: string): Promise<DeploymentRow> {
  const { store } = deps;
  const [row] = await store.db
    .select()
    .from(store.t.deployments)
    .where(and(eq(store.t.deployments.workspace, ws), eq(store.t.deployments.name, name)));
  if (!row) throw notFound(`deployment ${name}`);
  return row;
}

/** A deployment the caller may see: members of its workspace who may see its training. */
export async function deploymentFor(deps: Deps, principal: Principal, ws: string, name: string) {
  await workspaceFor(deps, principal, ws);
  const row = await deploymentRow(deps, ws, name);
  const [training] = await deps.store.db
    .select()
    .from(deps.store.t.trainings)
    .where(eq(deps.store.t.trainings.id, row.trainingId));
  if (!training) throw notFound(`deployment ${name}`);
  await trainingFor(deps, principal, ws, training.name).catch(() => {
    throw notFound(`deployment ${name}`);
  });
  return { row, training: training.name };
}

async function currentJob(deps: Deps, row: DeploymentRow): Promise<JobRow | undefined> {
  if (!row.jobId) return undefined;
  const [job] = await deps.store.db.select().from(deps.store.t.jobs).where(eq(deps.store.t.jobs.id, row.jobId));
  return job;
}

function view(deps: Deps, row: DeploymentRow, training: string, job: JobRow | undefined): Deployment {
  const running = job?.status === "running";
  const open = job !== undefined && OPEN_STATES.includes(job.status);
  return {
    id: row.id,
    name: row.name,
    workspace: row.workspace,
    description: row.description,
    training,
    sourceJob: row.sourceJobId,
    image: row.image,
    command: row.command,
    port: row.port,
    gpus: row.gpus,
    cpus: row.cpus,
    memoryMiB: row.memoryMiB,
    // stopped: cancelled by a user; the job's own status otherwise.
    status: !job || job.status === "cancelled" ? "stopped" : job.status,
    statusReason: job?.statusReason ?? null,
    jobId: row.jobId,
    node: job?.node ?? null,
    path: deploymentBase(row.workspace, row.name),
    // Its own origin (http/appOrigins) while its job is open; none when stopped.
    url: open ? deps.apps.url({ kind: "deployment", ws: row.workspace, name: row.name }) : null,
    startedAt: running ? (job?.startedAt ?? null) : null,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
  };
}

export async function getDeployment(deps: Deps, principal: Principal, ws: string, name: string): Promise<Deployment> {
  const { row, training } = await deploymentFor(deps, principal, ws, name);
  return view(deps, row, training, await currentJob(deps, row));
}

export async function listDeployments(deps: Deps, principal: Principal, ws: string): Promise<Deployment[]> {
  await workspaceFor(deps, principal, ws);
  const { store } = deps;
  const rows = await store.db
    .select({ dep: store.t.deployments, training: store.t.trainings.name })
    .from(store.t.deployments)
    .innerJoin(store.t.trainings, eq(store.t.trainings.id, store.t.deployments.trainingId))
    .where(eq(store.t.deployments.workspace, ws))
    .orderBy(store.t.deployments.name);
  const out = [];
  for (const { dep, training } of rows) {
    const visible = await trainingFor(deps, principal, ws, training).then(
      () => true,
      () => false,
    );
    if (visible) out.push(view(deps, dep, training, await currentJob(deps, dep)));
  }
  return out;
}

export async function startDeployment(deps: Deps, principal: Principal, ws: string, name: string): Promise<Deployment> {
  const { row } = await deploymentFor(deps, principal, ws, name);
  requireNotExpired(deps, (await workspaceFor(deps, principal, ws)).row, "starting a deployment");
  const job = await currentJob(deps, row);
  if (job && OPEN_STATES.includes(job.status))
    throw conflict(`deployment ${name} is already started`, "deployment_running");
  await queueDeploymentJob(deps, principal, row);
  return getDeployment(deps, principal, ws, name);
}

export async function stopDeployment(deps: Deps, principal: Principal, ws: string, name: string): Promise<Deployment> {
  const { row } = await deploymentFor(deps, principal, ws, name);
  const job = await currentJob(deps, row);
  if (!job || !OPEN_STATES.includes(job.status))
    throw conflict(`deployment ${name} is not running`, "deployment_stopped");
  await cancelJob(deps, principal, job.id);
  return getDeployment(deps, principal, ws, name);
}

/** Stops it if it runs, then deletes the deployment (its jobs and logs stay with the training). */
export async function deleteDeployment(deps: Deps, principal: Principal, ws: string, name: string) {
  const { row } = await deploymentFor(deps, principal, ws, name);
  const job = await currentJob(deps, row);
  if (job && OPEN_STATES.includes(job.status)) await cancelJob(deps, principal, job.id);
  await deps.store.tx((db) => db.delete(deps.store.t.deployments).where(eq(deps.store.t.deployments.id, row.id)));
}

/** Where the proxy sends a running deployment's requests, or null. */
export async function deploymentTarget(deps: Deps, row: DeploymentRow) {
  const job = await currentJob(deps, row);
  const origin = await serviceOrigin(deps, job);
  return job && origin ? { jobId: job.id, origin } : null;
}

/**
 * A deployment's Open in the browser: a one-use ticket for the deployment's own origin
 * (http/proxyCookie); the tab carries no token and the served pages cannot read one.
 */
export async function deploymentSession(
  deps: Deps,
  principal: Principal,
  ws: string,
  name: string,
  authorization: string | null,
): Promise<DeploymentSession> {
  await deploymentFor(deps, principal, ws, name);
  return appSession(deps, { kind: "deployment", ws, name }, principal, authorization);
}

/** Deployments whose job is pending, starting or running (they keep their own origin's listener). */
export async function liveDeploymentApps(deps: Deps): Promise<AppRef[]> {
  const { store } = deps;
  const rows = await store.db
    .select({ ws: store.t.deployments.workspace, name: store.t.deployments.name })
    .from(store.t.deployments)
    .innerJoin(store.t.jobs, eq(store.t.jobs.id, store.t.deployments.jobId))
    .where(inArray(store.t.jobs.status, OPEN_STATES));
  return rows.map((r) => ({ kind: "deployment", ws: r.ws, name: r.name }));
}
