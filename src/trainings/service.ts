// Trainings (docs/product.md#trainings-and-jobs): advanced, builtin or notebook; public to the workspace or private to
// the owner and named users; each with a persistent code folder mounted at /code.
import { mkdir } from "node:fs/promises";
import { and, eq, inArray } from "drizzle-orm";
import type { Principal } from "../auth/cache";
import { BUILTIN_MODELS, findBuiltinModel } from "../builtin/catalogue";
import type { Deps } from "../deps";
import { isOneOf, TRAINING_ACCESS, TRAINING_TYPES } from "../domain/enums";
import { badRequest, conflict, forbidden, notFound } from "../domain/errors";
import { OPEN_STATES } from "../domain/jobState";
import { nameProblem } from "../domain/rules";
import { dataLayout } from "../lib/layout";
import { GPU_FRACTIONS } from "../scheduler/types";
import { newEd25519Pair } from "../ssh/keys";
import type { Tables } from "../store/store";
import { requireNotExpired, type WorkspaceAccess, workspaceFor } from "../workspaces/access";
import type { CreateTrainingBody, Training, TrainingDetail, TrainingKey, TrainingPage } from "./model";

export type TrainingRow = Tables["trainings"]["$inferSelect"];

export interface TrainingRef {
  ws: WorkspaceAccess;
  row: TrainingRow;
  users: string[];
}

/** A training the caller may see: public ones to every member, private ones to owner, named users, manager, admin. */
export async function trainingFor(deps: Deps, principal: Principal, ws: string, tr: string): Promise<TrainingRef> {
  const access = await workspaceFor(deps, principal, ws);
  const { store } = deps;
  const [row] = await store.db
    .select()
    .from(store.t.trainings)
    .where(and(eq(store.t.trainings.workspace, ws), eq(store.t.trainings.name, tr)))
    .limit(1);
  if (!row) throw notFound(`training ${tr}`);
  const users = (
    await store.db.select().from(store.t.trainingUsers).where(eq(store.t.trainingUsers.trainingId, row.id))
  ).map((u) => u.userId);
  const allowed =
    row.access === "public" ||
    access.isAdmin ||
    access.isManager ||
    row.owner === principal.userId ||
    users.includes(principal.userId);
  if (!allowed) throw notFound(`training ${tr}`);
  return { ws: access, row, users };
}

export function checkGpus(field: string, gpus: number, trainingGpus: number, kind = "training"): number {
  if (!Number.isFinite(gpus) || gpus < 0) throw badRequest(field, `${field} must be 0 (CPU only) or more`);
  if (gpus > 0 && gpus < 1 && !GPU_FRACTIONS.includes(gpus))
    throw badRequest(field, `${field} below 1 must be 0.25 or 0.5 (a share of one GPU)`);
  if (gpus >= 1 && !Number.isInteger(gpus)) throw badRequest(field, `${field} above 1 must be a whole number`);
  if (gpus > trainingGpus)
    throw badRequest(field, `${field} ${gpus} is more than the workspace's ${trainingGpus} ${kind} GPUs`);
  return gpus;
}

/** Most CPU cores and memory one job may ask for. */
export const CPUS_MAX = 4096;
export const MEMORY_MIB_MAX = 64 * 1024 * 1024;

export interface Resources {
  cpus: number;
  memoryMiB: number;
}

/** CPU cores and memory as asked (absent: 0, no limit), within bounds; Docker takes no less than 6 MiB. */
export function checkResources(input: Partial<Resources>): Resources {
  const cpus = input.cpus ?? 0;
  const memoryMiB = input.memoryMiB ?? 0;
  if (!Number.isFinite(cpus) || cpus < 0 || cpus > CPUS_MAX)
    throw badRequest("cpus", `cpus must be 0 (no limit) to ${CPUS_MAX} CPU cores`);
  if (cpus > 0 && cpus < 0.01) throw badRequest("cpus", "cpus must be at least 0.01 CPU cores");
  if (!Number.isInteger(memoryMiB) || memoryMiB < 0 || memoryMiB > MEMORY_MIB_MAX)
    throw badRequest("memoryMiB", `memoryMiB must be a whole number of MiB, 0 (no limit) to ${MEMORY_MIB_MAX}`);
  if (memoryMiB > 0 && memoryMiB < 6) throw badRequest("memoryMiB", "memoryMiB must be at least 6 MiB");
  return { cpus, memoryMiB };
}

/**
 * What a job (run, notebook, deployment) asks for, against its workspace's CPU and memory share:
 * in a workspace with a share (not 0) the job must say how much it uses, and not more than the share.
 */
export function checkJobResources(ws: { name: string; cpus: number; memoryMiB: number }, asked: Resources): Resources {
  const limits: [keyof Resources, number, string][] = [
    ["cpus", ws.cpus, "CPU cores"],
    ["memoryMiB", ws.memoryMiB, "MiB of memory"],
  ];
  for (const [field, limit, what] of limits) {
    if (limit <= 0) continue;
    if (asked[field] <= 0)
      throw badRequest(
        field,
        `workspace ${ws.name} shares ${limit} ${what} among its jobs: say how many the job uses (${field})`,
      );
    if (asked[field] > limit)
      throw badRequest(field, `${field} ${asked[field]} is more than workspace ${ws.name}'s ${limit} ${what}`);
  }
  return asked;
}

async function members(deps: Deps, ws: WorkspaceAccess): Promise<Set<string>> {
  const rows = await deps.store.db
    .select()
    .from(deps.store.t.workspaceUsers)
    .where(eq(deps.store.t.workspaceUsers.workspace, ws.row.name));
  return new Set([ws.row.manager, ...rows.map((r) => r.userId)]);
}

export async function createTraining(
  deps: Deps,
  principal: Principal,
  ws: string,
  input: CreateTrainingBody,
): Promise<TrainingDetail> {
  const access = await workspaceFor(deps, principal, ws);
  requireNotExpired(deps, access.row, "creating a training");
  const problem = nameProblem(input.name, "training name");
  if (problem) throw badRequest("name", problem);
  const type = input.type;
  if (!isOneOf(TRAINING_TYPES, type)) throw badRequest("type", "type must be advanced, builtin or notebook");
  if ((input.description ?? "").length > 500)
    throw badRequest("description", "description must be at most 500 characters");
  const gpus = checkGpus("gpus", input.gpus, access.row.trainingGpus);
  const resources = checkResources(input);
  const visibility = input.access;
  if (!isOneOf(TRAINING_ACCESS, visibility)) throw badRequest("access", "access must be public or private");
  const inWs = await members(deps, access);
  const owner = input.owner ?? principal.userId;
  if (!inWs.has(owner)) throw badRequest("owner", `${owner} is not a member of workspace ${ws}`);
  const users = [...new Set(input.users ?? [])];
  const strangers = users.filter((u) => !inWs.has(u));
  if (strangers.length) throw badRequest("users", `not members of workspace ${ws}: ${strangers.join(", ")}`);
  if (input.type === "builtin") {
    if (!input.builtinModel) throw badRequest("builtinModel", "a builtin training names its model");
    if (!findBuiltinModel(input.builtinModel))
      throw badRequest(
        "builtinModel",
        `no built-in model ${input.builtinModel} (the catalogue has ${BUILTIN_MODELS.map((m) => m.id).join(", ")})`,
      );
  } else if (input.builtinModel) throw badRequest("builtinModel", "only a builtin training names a built-in model");
  const idle = input.idleTimeoutSeconds;
  if (idle !== undefined && (!Number.isInteger(idle) || idle < 1 || idle > 30 * 86400))
    throw badRequest("idleTimeoutSeconds", "idleTimeoutSeconds must be 1 to 2592000 seconds");
  const { store } = deps;
  const id = crypto.randomUUID();
  const now = deps.clock.now().toISOString();
  await store.tx(async (db) => {
    const [dup] = await db
      .select({ id: store.t.trainings.id })
      .from(store.t.trainings)
      .where(and(eq(store.t.trainings.workspace, ws), eq(store.t.trainings.name, input.name)));
    if (dup) throw conflict(`training ${input.name} already exists in ${ws}`, "duplicate", "name");
    await db.insert(store.t.trainings).values({
      id,
      workspace: ws,
      name: input.name,
      description: input.description ?? "",
      type,
      gpus,
      ...resources,
      access: visibility,
      owner,
      image: input.image ?? null,
      builtinModel: input.builtinModel ?? null,
      idleTimeoutSeconds: input.idleTimeoutSeconds ?? (input.type === "notebook" ? 3600 : null),
      createdAt: now,
      updatedAt: now,
    });
    if (users.length)
      await db.insert(store.t.trainingUsers).values(users.map((userId) => ({ trainingId: id, userId })));
  });
  await mkdir(dataLayout(deps.config.dataDir).code(ws, input.name), { recursive: true });
  return getTraining(deps, principal, ws, input.name);
}

function view(ref: TrainingRef): Training {
  const r = ref.row;
  return {
    id: r.id,
    workspace: r.workspace,
    name: r.name,
    description: r.description,
    type: r.type,
    gpus: r.gpus,
    cpus: r.cpus,
    memoryMiB: r.memoryMiB,
    access: r.access,
    owner: r.owner,
    users: ref.users.sort(),
    image: r.image,
    builtinModel: r.builtinModel,
    idleTimeoutSeconds: r.idleTimeoutSeconds,
    hasSshKey: r.sshPublicKey !== null,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export async function getTraining(deps: Deps, principal: Principal, ws: string, tr: string): Promise<TrainingDetail> {
  const ref = await trainingFor(deps, principal, ws, tr);
  const jobs = await deps.store.db
    .select({ id: deps.store.t.jobs.id, status: deps.store.t.jobs.status })
    .from(deps.store.t.jobs)
    .where(eq(deps.store.t.jobs.trainingId, ref.row.id));
  const live = jobs.filter((j) => OPEN_STATES.includes(j.status)).length;
  const running = jobs.some((j) => j.status === "running");
  const sshPort = jobs.map((j) => deps.sshPorts.of(j.id)).find((p) => p !== null) ?? null;
  // On the notebook's own origin (http/appOrigins).
  const notebookUrl =
    ref.row.type === "notebook" && running
      ? deps.apps.url({ kind: "notebook", ws: ref.row.workspace, name: ref.row.name })
      : null;
  return {
    ...view(ref),
    status: running ? "running" : live ? "pending" : "idle",
    jobCount: jobs.length,
    sshPort,
    notebookUrl,
  };
}

export async function listTrainings(
  deps: Deps,
  principal: Principal,
  ws: string,
  page: { limit: number; offset: number },
): Promise<TrainingPage> {
  const access = await workspaceFor(deps, principal, ws);
  const { store } = deps;
  const rows = await store.db
    .select()
    .from(store.t.trainings)
    .where(eq(store.t.trainings.workspace, ws))
    .orderBy(store.t.trainings.name);
  const ids = rows.map((r) => r.id);
  const links = ids.length
    ? await store.db.select().from(store.t.trainingUsers).where(inArray(store.t.trainingUsers.trainingId, ids))
    : [];
  const visible = rows
    .map((row) => ({ ws: access, row, users: links.filter((l) => l.trainingId === row.id).map((l) => l.userId) }))
    .filter(
      (ref) =>
        ref.row.access === "public" ||
        access.isAdmin ||
        access.isManager ||
        ref.row.owner === principal.userId ||
        ref.users.includes(principal.userId),
    );
  return { items: visible.slice(page.offset, page.offset + page.limit).map((r) => view(r)), total: visible.length };
}

/**
 * A key pair for SSH into the training's containers (Backend.AI's id_container): the public half
 * is kept, the private half is returned once. Asking again replaces the pair (the old key stops).
 */
export async function generateTrainingKey(
  deps: Deps,
  principal: Principal,
  ws: string,
  tr: string,
): Promise<TrainingKey> {
  const ref = await trainingFor(deps, principal, ws, tr);
  if (ref.row.owner !== principal.userId && !ref.ws.isAdmin && !ref.ws.isManager)
    throw forbidden("only the training's owner, the workspace manager or an admin makes its SSH key");
  const pair = newEd25519Pair(`hangar-${ws}-${tr}`);
  await deps.store.tx((db) =>
    db
      .update(deps.store.t.trainings)
      .set({ sshPublicKey: pair.public.trim(), updatedAt: deps.clock.now().toISOString() })
      .where(eq(deps.store.t.trainings.id, ref.row.id)),
  );
  return { privateKey: pair.private, publicKey: pair.public.trim() };
}
