// Jobs (docs/product.md#trainings-and-jobs): one job per parameter set, run one after another; cancel; logs.
import { and, asc, count, desc, eq, inArray, or } from "drizzle-orm";
import type { Principal } from "../auth/cache";
import { builtinParameters, findBuiltinModel } from "../builtin/catalogue";
import type { Deps } from "../deps";
import { badRequest, conflict, notFound, rateLimited } from "../domain/errors";
import { isFinal } from "../domain/jobState";
import { nameProblem } from "../domain/rules";
import { dataLayout } from "../lib/layout";
import { Mutex } from "../lib/mutex";
import { tarDirectory } from "../lib/tar";
import { checkGpus, checkJobResources, checkResources, trainingFor } from "../trainings/service";
import { requireNotExpired } from "../workspaces/access";
import { JOB_KINDS } from "./kinds";
import {
  COMMAND_MAX,
  type CreateJobsBody,
  type Job,
  type JobEventPage,
  type JobPage,
  PARAMETER_SETS_MAX,
} from "./model";
import { stopJobContainers } from "./runner";
import { GPU_OPTIONS, type GpuOption } from "./spec";
import { insertPendingJobs, type JobInsert, type JobRow, moveJob, newJobId } from "./transitions";

const PARAM_KEY = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/**
 * The image a job in `workspace` runs, as its immutable Docker ID (a tag can be moved, the ID
 * cannot). `ref` names a Hangar image by its ID, its name (as the Images list shows it) or its
 * reference; only images released to the workspace or globally are usable. A reference Hangar
 * does not manage is taken only when the master's engine has it (nothing is pulled for it).
 */
export async function resolveImage(deps: Deps, ref: string | undefined | null, workspace: string): Promise<string> {
  const { store } = deps;
  const { images, imageWorkspaces } = store.t;
  const runs = (row: typeof images.$inferSelect) => {
    if (row.status !== "ready") throw badRequest("image", `image ${row.name} is ${row.status}, not ready`);
    return row.dockerId ?? row.reference;
  };
  if (!ref) {
    const [def] = await store.db.select().from(images).where(eq(images.builtin, true)).limit(1);
    if (!def) throw badRequest("image", "name an image (no default image is registered)");
    return def.dockerId ?? def.reference;
  }
  const released = store.db
    .select({ id: imageWorkspaces.imageId })
    .from(imageWorkspaces)
    .where(eq(imageWorkspaces.workspace, workspace));
  const named = or(eq(images.id, ref), eq(images.name, ref), eq(images.reference, ref));
  const visible = await store.db
    .select()
    .from(images)
    .where(and(named, or(eq(images.release, "global"), inArray(images.id, released))))
    .orderBy(desc(images.createdAt));
  // An exact ID first, then a ready image (workspace releases before global ones), newest first.
  const ranked = [...visible].sort(
    (a, b) =>
      Number(b.id === ref) - Number(a.id === ref) ||
      Number(b.status === "ready") - Number(a.status === "ready") ||
      Number(b.release === "workspace") - Number(a.release === "workspace"),
  );
  if (ranked[0]) return runs(ranked[0]);
  const [hidden] = await store.db.select({ id: images.id }).from(images).where(named).limit(1);
  if (hidden) throw badRequest("image", `image ${ref} is not released to workspace ${workspace}`);
  // Not a Hangar image: only one the admin put on the master's engine, never a registry pull.
  const local =
    !ref.startsWith("hangar-image/") &&
    (await deps.nodes
      .masterImages()
      .inspect(ref)
      .catch(() => null));
  if (!local) throw badRequest("image", `no image ${ref}: name one of the Images list (its name, ID or reference)`);
  return ref;
}

const submitLock = new Mutex();

export async function createJobs(
  deps: Deps,
  principal: Principal,
  ws: string,
  tr: string,
  input: CreateJobsBody,
): Promise<JobPage> {
  const training = await trainingFor(deps, principal, ws, tr);
  requireNotExpired(deps, training.ws.row, "starting a job");
  if (training.row.type === "notebook") throw badRequest("type", "a notebook training runs no jobs");
  const problem = nameProblem(input.name, "job name");
  if (problem) throw badRequest("name", problem);
  const model = training.row.type === "builtin" ? findBuiltinModel(training.row.builtinModel ?? "") : undefined;
  if (training.row.type === "builtin" && !model)
    throw badRequest("builtinModel", "the training's built-in model is gone");
  const command = model ? model.command : (input.command ?? "");
  if (!command.trim()) throw badRequest("command", "the command is empty");
  if (command.length > COMMAND_MAX)
    throw badRequest("command", `the command is longer than ${COMMAND_MAX.toLocaleString("en")} characters`);
  const gpuOptions = [...new Set(input.gpuOptions ?? [])];
  for (const o of gpuOptions)
    if (!(GPU_OPTIONS as readonly string[]).includes(o))
      throw badRequest("gpuOptions", `unknown GPU option ${o} (known: ${GPU_OPTIONS.join(", ")})`);
  if (gpuOptions.includes("unified-memory") && training.row.type !== "builtin")
    throw badRequest("gpuOptions", "unified-memory is only for built-in model trainings");
  const gpus = checkGpus("gpus", input.gpus ?? training.row.gpus, training.ws.row.trainingGpus);
  const resources = checkJobResources(
    training.ws.row,
    checkResources({
      cpus: input.cpus ?? training.row.cpus,
      memoryMiB: input.memoryMiB ?? training.row.memoryMiB,
    }),
  );
  const nodes = input.nodes ?? 1;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 64) throw badRequest("nodes", "nodes must be 1 to 64");
  if (nodes > 1 && (gpus < 1 || gpus % nodes !== 0))
    throw badRequest("nodes", `a ${nodes}-node job needs a GPU count divisible by ${nodes}`);
  if (gpuOptions.includes("rdma-infiniband")) await checkInfiniband(deps, nodes);
  const sets = input.parameterSets?.length ? input.parameterSets : [{}];
  if (sets.length > PARAMETER_SETS_MAX)
    throw badRequest("parameterSets", `at most ${PARAMETER_SETS_MAX} parameter sets per request`);
  const parameters = sets.map((set, i) => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(set)) {
      if (!PARAM_KEY.test(k))
        throw badRequest(`parameterSets[${i}]`, `parameter name ${k} must be letters, digits, _ or -`);
      if (v === null || typeof v === "object")
        throw badRequest(`parameterSets[${i}].${k}`, "parameter values are strings or numbers");
      out[k] = String(v);
    }
    if (!model) return out;
    // A built-in model takes its own parameters only, with its defaults for the rest.
    const checked = builtinParameters(model, out);
    if (!checked.ok) throw badRequest(`parameterSets[${i}].${checked.key}`, checked.message);
    return checked.params;
  });
  if (input.dataset) {
    const [ds] = await deps.store.db
      .select()
      .from(deps.store.t.datasets)
      .where(and(eq(deps.store.t.datasets.workspace, ws), eq(deps.store.t.datasets.name, input.dataset)));
    if (!ds) throw badRequest("dataset", `no dataset ${input.dataset} in ${ws}`);
  }
  const image = await resolveImage(deps, input.image ?? training.row.image ?? model?.image, ws);
  const now = deps.clock.now().toISOString();
  const ids = parameters.map(() => newJobId());
  const rows: JobInsert[] = parameters.map((p, i) => ({
    id: ids[i] as string,
    trainingId: training.row.id,
    workspace: ws,
    name: parameters.length > 1 ? `${input.name}-${i + 1}` : input.name,
    seq: i,
    afterJobId: i > 0 ? (ids[i - 1] as string) : null,
    image,
    dataset: input.dataset ?? null,
    command,
    parameters: p,
    gpuOptions: gpuOptions as GpuOption[],
    gpus,
    ...resources,
    nodeCount: nodes,
    status: "pending",
    statusReason: i > 0 ? `waiting for ${input.name}-${i} to end` : "queued",
    reasonCode: i > 0 ? "predecessor" : "queued",
    retryOnNodeLoss: input.retryOnNodeLoss ?? JOB_KINDS.run.retryOnNodeLoss,
    createdBy: principal.userId,
    createdAt: now,
    queuedAt: i > 0 ? null : now,
    updatedAt: now,
  }));
  // Counting and inserting under one lock: concurrent submits cannot pass the cap together.
  await submitLock.run(async () => {
    const { jobs } = deps.store.t;
    const [pending] = await deps.store.db
      .select({ n: count() })
      .from(jobs)
      .where(and(eq(jobs.createdBy, principal.userId), eq(jobs.status, "pending")));
    const have = Number(pending?.n ?? 0);
    const max = deps.config.maxPendingJobsPerUser;
    if (have + rows.length > max)
      throw rateLimited(
        `${principal.userId} already has ${have} pending jobs; at most ${max} may wait at once (HANGAR_MAX_PENDING_JOBS)`,
        30,
        "too_many_pending",
      );
    await deps.store.tx((db) => insertPendingJobs(db, deps.store.t, rows));
  });
  deps.jobSignals.changed();
  const items = await Promise.all(ids.map((id) => jobView(deps, id)));
  return { items, total: items.length };
}

/**
 * RDMA runs only on nodes with an InfiniBand interface (the scheduler places it there): refused
 * when the cluster's connected nodes have fewer of them than the job spans.
 */
async function checkInfiniband(deps: Deps, nodes: number): Promise<void> {
  const rows = await deps.store.db
    .select({ name: deps.store.t.nodes.name, networkInterfaces: deps.store.t.nodes.networkInterfaces })
    .from(deps.store.t.nodes)
    .where(eq(deps.store.t.nodes.desired, "attached"));
  const withIb = rows.filter((r) => r.networkInterfaces.some((i) => i.kind === "InfiniBand")).length;
  if (withIb >= nodes) return;
  const have = withIb === 0 ? "none of the cluster's nodes has one" : `only ${withIb} of the cluster's nodes have one`;
  throw badRequest(
    "gpuOptions",
    `rdma-infiniband needs ${nodes === 1 ? "a node" : `${nodes} nodes`} with an InfiniBand interface; ${have}`,
  );
}

export async function jobView(deps: Deps, id: string): Promise<Job> {
  const [row] = await deps.store.db.select().from(deps.store.t.jobs).where(eq(deps.store.t.jobs.id, id)).limit(1);
  if (!row) throw notFound(`job ${id}`);
  return toView(row);
}

/** Notebooks queued by earlier versions carried Jupyter's token in their command: never shown. */
export const visibleCommand = (command: string) =>
  command.replace(/--NotebookApp\.token=\S*/g, "--NotebookApp.token=(hidden)");

export function toView(row: JobRow, sshPort: number | null = null): Job {
  return {
    id: row.id,
    name: row.name,
    workspace: row.workspace,
    status: row.status,
    statusReason: row.statusReason,
    reasonCode: row.reasonCode,
    parameters: row.parameters,
    image: row.image,
    dataset: row.dataset,
    command: visibleCommand(row.command),
    gpuOptions: row.gpuOptions,
    gpus: row.gpus,
    cpus: row.cpus,
    memoryMiB: row.memoryMiB,
    nodes: row.nodeCount,
    node: row.node,
    assignments: row.assignments.map(({ nodeId, gpuUuids, fraction }) => ({
      nodeId,
      gpuUuids,
      ...(fraction ? { fraction } : {}),
    })),
    exitCode: row.exitCode,
    sshPort,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}

/** The job if the caller may see its training, else 404. */
async function visibleJob(deps: Deps, principal: Principal, id: string): Promise<JobRow> {
  const [row] = await deps.store.db.select().from(deps.store.t.jobs).where(eq(deps.store.t.jobs.id, id)).limit(1);
  if (!row) throw notFound(`job ${id}`);
  const [training] = await deps.store.db
    .select()
    .from(deps.store.t.trainings)
    .where(eq(deps.store.t.trainings.id, row.trainingId));
  if (!training) throw notFound(`job ${id}`);
  await trainingFor(deps, principal, row.workspace, training.name).catch(() => {
    throw notFound(`job ${id}`);
  });
  return row;
}

export async function getJob(deps: Deps, principal: Principal, id: string): Promise<Job> {
  return toView(await visibleJob(deps, principal, id), deps.sshPorts.of(id));
}

export async function listJobs(
  deps: Deps,
  principal: Principal,
  ws: string,
  tr: string,
  page: { limit: number; offset: number },
): Promise<JobPage> {
  const training = await trainingFor(deps, principal, ws, tr);
  const rows = await deps.store.db
    .select()
    .from(deps.store.t.jobs)
    .where(eq(deps.store.t.jobs.trainingId, training.row.id))
    .orderBy(asc(deps.store.t.jobs.createdAt), asc(deps.store.t.jobs.seq));
  return {
    items: rows.slice(page.offset, page.offset + page.limit).map((r) => toView(r, deps.sshPorts.of(r.id))),
    total: rows.length,
  };
}

export async function jobEvents(deps: Deps, principal: Principal, id: string): Promise<JobEventPage> {
  await visibleJob(deps, principal, id);
  const items = await deps.store.db
    .select()
    .from(deps.store.t.jobEvents)
    .where(eq(deps.store.t.jobEvents.jobId, id))
    .orderBy(asc(deps.store.t.jobEvents.id));
  return {
    items: items.map(({ at, fromState, toState, reason }) => ({ at, from: fromState, to: toState, reason })),
    total: items.length,
  };
}

/** Cancel: the job ends `cancelled` at once (its GPUs are free); its containers are stopped. */
export async function cancelJob(deps: Deps, principal: Principal, id: string): Promise<Job> {
  const row = await visibleJob(deps, principal, id);
  if (isFinal(row.status)) throw conflict(`job ${row.name} already ended (${row.status})`, "job_ended");
  const cancelled = await moveJob(deps, id, "cancelled", `cancelled by ${principal.userId}`, {
    finishedAt: deps.clock.now().toISOString(),
  });
  await stopJobContainers(deps, cancelled);
  deps.logs.append(id, `[hangar] cancelled by ${principal.userId}\n`);
  deps.logs.end(id);
  return toView(cancelled);
}

export async function jobLog(deps: Deps, principal: Principal, id: string): Promise<ReadableStream<Uint8Array>> {
  await visibleJob(deps, principal, id);
  return deps.logs.stream(id);
}

/**
 * SSE: the log so far (read in chunks as the client takes them), then new lines as they arrive,
 * until the job ends. 429 past the follower caps.
 */
const GC_HINT_BYTES = 16 * 1024 * 1024;
const LINE_PREFIX = Buffer.from("event: line\ndata: ");

/** The last live batch as SSE `line` events: a job's followers get the same batch in turn, framed once. */
let lastBatch: { text: string; frame: Uint8Array } | null = null;
const batchEncoder = new TextEncoder();
function framedBatch(text: string): Uint8Array {
  if (lastBatch?.text === text) return lastBatch.frame;
  const body = text.endsWith("\n") ? text.slice(0, -1) : text;
  const frame = batchEncoder.encode(`event: line\ndata: ${body.replaceAll("\n", "\n\nevent: line\ndata: ")}\n\n`);
  lastBatch = { text, frame };
  return frame;
}

/** Complete lines (`bytes` ends with a newline) as SSE `line` events, in one buffer. */
function frameLines(bytes: Buffer): Buffer {
  let count = 0;
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) count++;
  const out = Buffer.allocUnsafe(bytes.length + count * (LINE_PREFIX.length + 1));
  let at = 0;
  let from = 0;
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, from)) {
    at += LINE_PREFIX.copy(out, at);
    at += bytes.copy(out, at, from, i);
    out[at++] = 10;
    out[at++] = 10;
    from = i + 1;
  }
  return out;
}

/**
 * Milliseconds between SSE keepalive comments: under Bun.serve's 10 s idle timeout (and the idle
 * timeouts of proxies in front), so a job that prints nothing for a while keeps its followers.
 */
export const SSE_KEEPALIVE_MS = 4000;

export async function followJobLog(deps: Deps, principal: Principal, id: string): Promise<Response> {
  const row = await visibleJob(deps, principal, id);
  const enc = new TextEncoder();
  type LogEvent = { text: string } | { end: true };
  // Lines that arrive while the stored log is still being sent wait here, in order.
  const queued: LogEvent[] = [];
  let live: ((ev: LogEvent) => void) | null = null;
  // Subscribing and taking the stored log happen in one synchronous step: no line falls between.
  const { backlog, unsubscribe } = deps.logs.follow(id, (ev) => (live ? live(ev) : queued.push(ev)));
  const reader = backlog.getReader();
  let partial: Buffer = Buffer.alloc(0);
  let sinceGc = 0;
  let closed = false;
  let cancelled = false;
  let keepalive: ReturnType<typeof setInterval> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const event = (name: string, text: string) =>
        `event: ${name}\n${text
          .split("\n")
          .map((l) => `data: ${l}`)
          .join("\n")}\n\n`;
      const send = (name: string, text: string) => {
        if (!cancelled) controller.enqueue(enc.encode(event(name, text)));
      };
      // One write per batch of lines, not per line.
      const lines = (text: string) => {
        if (text && !cancelled) controller.enqueue(framedBatch(text));
      };
      const finish = async () => {
        if (closed) return;
        closed = true;
        const [now] = await deps.store.db.select().from(deps.store.t.jobs).where(eq(deps.store.t.jobs.id, id));
        send("end", JSON.stringify({ status: now?.status, exitCode: now?.exitCode ?? null }));
        clearInterval(keepalive);
        unsubscribe();
        if (!cancelled) controller.close();
      };
      const handle = (ev: LogEvent) => {
        if ("end" in ev) void finish();
        else lines(ev.text);
      };
      if (live) return;
      // Yield to other requests between chunks: a fast reader must not starve the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      const next = await reader.read();
      if (!next.done) {
        // Framed as bytes (lines end at 0x0A, which no UTF-8 sequence holds): no strings per line.
        const bytes = partial.length ? Buffer.concat([partial, next.value]) : Buffer.from(next.value);
        const cut = bytes.lastIndexOf(10) + 1;
        partial = bytes.subarray(cut);
        if (cut > 0 && !cancelled) controller.enqueue(frameLines(bytes.subarray(0, cut)));
        // Sent chunks are garbage at once, but the GC does not see them as pressure: without a
        // hint, three fast followers of a 96 MB log grew the master by 300 MB before it ran.
        sinceGc += bytes.length;
        if (sinceGc >= GC_HINT_BYTES) {
          sinceGc = 0;
          Bun.gc(false);
        }
        return;
      }
      if (partial.length) lines(partial.toString("utf8"));
      live = handle;
      // A comment line: SSE clients ignore it; it only keeps the connection from going idle.
      keepalive = setInterval(() => {
        if (closed || cancelled) return clearInterval(keepalive);
        try {
          controller.enqueue(enc.encode(": keepalive\n\n"));
        } catch {
          clearInterval(keepalive);
        }
      }, SSE_KEEPALIVE_MS);
      for (const ev of queued.splice(0)) handle(ev);
      if (isFinal(row.status)) void finish();
    },
    cancel() {
      cancelled = true;
      clearInterval(keepalive);
      unsubscribe();
      void reader.cancel();
    },
  });
  return new Response(stream, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" },
  });
}

/**
 * The job's /output folder as a tar (`<job name>/…`), streamed as it is read: the archive is
 * never whole in memory. A job still running gives what it wrote so far.
 */
export async function jobOutputTar(deps: Deps, principal: Principal, id: string): Promise<Response> {
  const row = await visibleJob(deps, principal, id);
  const [training] = await deps.store.db
    .select({ name: deps.store.t.trainings.name })
    .from(deps.store.t.trainings)
    .where(eq(deps.store.t.trainings.id, row.trainingId));
  const dir = dataLayout(deps.config.dataDir).jobOutput(row.workspace, training?.name ?? "", row.id);
  return new Response(tarDirectory(dir, row.name), {
    headers: {
      "content-type": "application/x-tar",
      "content-disposition": `attachment; filename="${row.name}-output.tar"`,
    },
  });
}
