// Notebook trainings (docs/product.md#trainings-and-jobs): a long-running Jupyter server from the training's image on its
// GPU share, the code folder at /code, reached through the master at /notebooks/<ws>/<tr>/.
// It runs as a job of kind `notebook`, so the scheduler places it and counts its GPUs.
import { and, eq, inArray } from "drizzle-orm";
import type { Principal } from "../auth/cache";
import type { Deps } from "../deps";
import { badRequest, conflict } from "../domain/errors";
import { OPEN_STATES } from "../domain/jobState";
import { type AppRef, appSession } from "../http/proxyCookie";
import { JOB_KINDS } from "../jobs/kinds";
import { serviceOrigin } from "../jobs/runner";
import { cancelJob, resolveImage } from "../jobs/service";
import { insertPendingJobs, type JobRow, queuedJob } from "../jobs/transitions";
import { checkJobResources, getTraining, type TrainingRef, trainingFor } from "../trainings/service";
import { requireNotExpired } from "../workspaces/access";
import type { NotebookSession, NotebookState } from "./model";

export const notebookBase = (ws: string, tr: string) => `/notebooks/${ws}/${tr}/`;

export async function liveNotebookJob(deps: Deps, trainingId: string): Promise<JobRow | undefined> {
  const { store } = deps;
  const [job] = await store.db
    .select()
    .from(store.t.jobs)
    .where(
      and(
        eq(store.t.jobs.trainingId, trainingId),
        eq(store.t.jobs.kind, "notebook"),
        inArray(store.t.jobs.status, OPEN_STATES),
      ),
    )
    .limit(1);
  return job;
}

function notebookCommand(ws: string, tr: string): string {
  // Debian's Jupyter Notebook 6 (NotebookApp flags). allow_origin: the master is the origin users see.
  // The token is not here (a job's command is shown to everyone who sees the job): the runner
  // hands it to the container as JUPYTER_TOKEN, which Jupyter reads at start.
  return [
    `jupyter notebook --ip=0.0.0.0 --port=${JOB_KINDS.notebook.servicePort} --no-browser --allow-root`,
    `--NotebookApp.base_url=${notebookBase(ws, tr)}`,
    "--NotebookApp.allow_origin='*'",
    "--notebook-dir=/code",
  ].join(" ");
}

async function notebookTraining(deps: Deps, principal: Principal, ws: string, tr: string): Promise<TrainingRef> {
  const ref = await trainingFor(deps, principal, ws, tr);
  if (ref.row.type !== "notebook") throw badRequest("type", `training ${tr} is not a notebook training`);
  return ref;
}

export async function startNotebook(deps: Deps, principal: Principal, ws: string, tr: string): Promise<NotebookState> {
  const ref = await notebookTraining(deps, principal, ws, tr);
  requireNotExpired(deps, ref.ws.row, "starting a notebook");
  if (!ref.row.image) throw badRequest("image", "a notebook training needs an image with Jupyter");
  if (await liveNotebookJob(deps, ref.row.id)) throw conflict(`notebook ${tr} is already started`, "notebook_running");
  const resources = checkJobResources(ref.ws.row, { cpus: ref.row.cpus, memoryMiB: ref.row.memoryMiB });
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("hex");
  const job = queuedJob(deps.clock.now().toISOString(), {
    trainingId: ref.row.id,
    workspace: ws,
    name: "notebook",
    image: await resolveImage(deps, ref.row.image, ws),
    command: notebookCommand(ws, tr),
    gpus: ref.row.gpus,
    ...resources,
    kind: "notebook",
    notebookToken: deps.secrets.seal(token),
    createdBy: principal.userId,
  });
  await deps.store.tx((db) => insertPendingJobs(db, deps.store.t, [job], () => "notebook started"));
  deps.jobSignals.changed();
  return getTraining(deps, principal, ws, tr);
}

export async function stopNotebook(deps: Deps, principal: Principal, ws: string, tr: string): Promise<NotebookState> {
  const ref = await notebookTraining(deps, principal, ws, tr);
  const job = await liveNotebookJob(deps, ref.row.id);
  if (!job) throw conflict(`notebook ${tr} is not running`, "notebook_stopped");
  await cancelJob(deps, principal, job.id);
  return getTraining(deps, principal, ws, tr);
}

/** Where the proxy sends a running notebook's requests, or null. */
export async function notebookTarget(deps: Deps, trainingId: string) {
  const job = await liveNotebookJob(deps, trainingId);
  const origin = await serviceOrigin(deps, job);
  return job && origin ? { jobId: job.id, origin, token: deps.secrets.open(job.notebookToken ?? "") } : null;
}

/** Notebooks unused for their training's idleTimeoutSeconds are stopped; their GPUs are freed. */
export async function stopIdleNotebooks(
  deps: Deps,
  lastUse: (jobId: string) => number | undefined,
  /** Epoch ms before which no use is known (the master's start). */
  knownSince = 0,
): Promise<string[]> {
  const { store } = deps;
  const running = await store.db
    .select({ job: store.t.jobs, idle: store.t.trainings.idleTimeoutSeconds })
    .from(store.t.jobs)
    .innerJoin(store.t.trainings, eq(store.t.trainings.id, store.t.jobs.trainingId))
    .where(and(eq(store.t.jobs.kind, "notebook"), eq(store.t.jobs.status, "running")));
  const now = deps.clock.now().getTime();
  const stopped: string[] = [];
  for (const { job, idle } of running) {
    if (!idle) continue;
    const since = lastUse(job.id) ?? Math.max(Date.parse(job.startedAt ?? job.updatedAt), knownSince);
    if (now - since < idle * 1000) continue;
    const system: Principal = { userId: "root", role: "admin", via: "session", expiresAt: Number.POSITIVE_INFINITY };
    await cancelJob(deps, system, job.id).catch(() => {});
    deps.logs.append(job.id, `[hangar] stopped after ${idle} s without use\n`);
    stopped.push(job.id);
  }
  return stopped;
}

/** Notebooks whose job is pending, starting or running (they keep their own origin's listener). */
export async function liveNotebookApps(deps: Deps): Promise<AppRef[]> {
  const { store } = deps;
  const rows = await store.db
    .select({ ws: store.t.trainings.workspace, name: store.t.trainings.name })
    .from(store.t.jobs)
    .innerJoin(store.t.trainings, eq(store.t.trainings.id, store.t.jobs.trainingId))
    .where(and(eq(store.t.jobs.kind, "notebook"), inArray(store.t.jobs.status, OPEN_STATES)));
  return rows.map((r) => ({ kind: "notebook", ws: r.ws, name: r.name }));
}

/**
 * Open Editor: a one-use ticket for the notebook's own origin (http/proxyCookie). The web UI
 * POSTs it to `loginUrl` in a new tab, which then gets the notebook's HttpOnly cookie.
 */
export async function notebookSession(
  deps: Deps,
  principal: Principal,
  ws: string,
  tr: string,
  authorization: string | null,
): Promise<NotebookSession> {
  await notebookTraining(deps, principal, ws, tr);
  return appSession(deps, { kind: "notebook", ws, name: tr }, principal, authorization);
}
