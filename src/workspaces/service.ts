// Workspaces (docs/product.md#workspaces): GPU reservations over a period, a manager and members.
import { count, desc, eq, inArray, or } from "drizzle-orm";
import type { Principal } from "../auth/cache";
import type { Deps } from "../deps";
import { badRequest, conflict, forbidden } from "../domain/errors";
import { type Reservation, reservationClash } from "../domain/reservations";
import { nameProblem } from "../domain/rules";
import { countWorkspaceImages } from "../images/service";
import { deploymentPool } from "../scheduler/types";
import type { Db } from "../store/store";
import { requireManager, statusOf, type WorkspaceRow, workspaceFor } from "./access";
import type { CreateWorkspaceBody, PatchWorkspaceBody, Workspace, WorkspaceDetail, WorkspacePage } from "./model";

function isoTime(field: string, value: string): string {
  const t = Date.parse(value);
  if (!Number.isFinite(t)) throw badRequest(field, `${field} must be an ISO 8601 time, e.g. 2026-03-01T00:00:00Z`);
  return new Date(t).toISOString();
}

function gpuCount(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 100_000)
    throw badRequest(field, `${field} must be a whole number of GPUs, 0 or more`);
  return value;
}

/** A workspace's CPU or memory share: 0 (no limit) or more. */
function share(field: string, value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 1_000_000_000)
    throw badRequest(field, `${field} must be a whole number of ${what}, 0 (no limit) or more`);
  return value;
}

async function checkUsers(db: Db, deps: Deps, field: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const found = await db
    .select({ userId: deps.store.t.users.userId, active: deps.store.t.users.active })
    .from(deps.store.t.users)
    .where(inArray(deps.store.t.users.userId, ids));
  const known = new Set(found.filter((u) => u.active).map((u) => u.userId));
  const missing = ids.filter((id) => !known.has(id));
  if (missing.length) throw badRequest(field, `no active user ${missing.join(", ")}`);
}

/** GPUs the admin has put in the cluster: nodes connected (desired attached), whatever their momentary health. */
async function clusterGpus(db: Db, deps: Deps): Promise<number> {
  const nodes = await db
    .select({ gpus: deps.store.t.nodes.gpus })
    .from(deps.store.t.nodes)
    .where(eq(deps.store.t.nodes.desired, "attached"));
  return nodes.reduce((sum, n) => sum + n.gpus.length, 0);
}

async function checkReservation(db: Db, deps: Deps, candidate: Reservation): Promise<void> {
  const others = (await db.select().from(deps.store.t.workspaces)).map(
    (w): Reservation => ({
      name: w.name,
      start: Date.parse(w.startsAt),
      end: Date.parse(w.endsAt),
      gpus: w.trainingGpus + w.deploymentGpus,
    }),
  );
  const capacity = await clusterGpus(db, deps);
  // Only the future can be overbooked: the part of the period already past is not checked.
  const from = Math.max(candidate.start, deps.clock.now().getTime());
  if (from >= candidate.end) return;
  const clash = reservationClash({ ...candidate, start: from }, others, capacity);
  if (!clash) return;
  const when = new Date(clash.at).toISOString();
  const who = clash.clashing.length
    ? `on ${when} ${clash.clashing.join(", ")} already reserve ${clash.reservedByOthers}`
    : "no other workspace reserves any";
  throw conflict(
    `workspace ${candidate.name} asks for ${clash.requested} GPUs, but ${who} of the cluster's ${clash.capacity} GPUs`,
    "gpu_overbooked",
    "trainingGpus",
  );
}

export async function createWorkspace(deps: Deps, input: CreateWorkspaceBody): Promise<Workspace> {
  const problem = nameProblem(input.name, "workspace name");
  if (problem) throw badRequest("name", problem);
  const description = input.description ?? "";
  if (description.length > 500) throw badRequest("description", "description must be at most 500 characters");
  const startsAt = isoTime("startsAt", input.startsAt);
  const endsAt = isoTime("endsAt", input.endsAt);
  if (Date.parse(endsAt) <= Date.parse(startsAt)) throw badRequest("endsAt", "endsAt must be after startsAt");
  const trainingGpus = gpuCount("trainingGpus", input.trainingGpus);
  const deploymentGpus = gpuCount("deploymentGpus", input.deploymentGpus);
  const cpus = share("cpus", input.cpus ?? 0, "CPU cores");
  const memoryMiB = share("memoryMiB", input.memoryMiB ?? 0, "MiB");
  const members = [...new Set(input.users ?? [])];
  const { store } = deps;
  const now = deps.clock.now().toISOString();
  await store.tx(
    async (db) => {
      const [dup] = await db.select().from(store.t.workspaces).where(eq(store.t.workspaces.name, input.name));
      if (dup) throw conflict(`workspace ${input.name} already exists`, "duplicate", "name");
      await checkUsers(db, deps, "manager", [input.manager]);
      await checkUsers(db, deps, "users", members);
      await checkReservation(db, deps, {
        name: input.name,
        start: Date.parse(startsAt),
        end: Date.parse(endsAt),
        gpus: trainingGpus + deploymentGpus,
      });
      await db.insert(store.t.workspaces).values({
        name: input.name,
        description,
        startsAt,
        endsAt,
        trainingGpus,
        deploymentGpus,
        cpus,
        memoryMiB,
        manager: input.manager,
        createdAt: now,
        updatedAt: now,
      });
      if (members.length)
        await db.insert(store.t.workspaceUsers).values(members.map((userId) => ({ workspace: input.name, userId })));
    },
    { lock: "workspace-reservations" },
  );
  return summary(deps, (await rowsByName(deps, [input.name]))[0] as WorkspaceRow);
}

async function rowsByName(deps: Deps, names: string[]): Promise<WorkspaceRow[]> {
  if (names.length === 0) return [];
  return deps.store.db.select().from(deps.store.t.workspaces).where(inArray(deps.store.t.workspaces.name, names));
}

async function membersOf(deps: Deps, names: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(names.map((n) => [n, []]));
  if (names.length === 0) return out;
  const rows = await deps.store.db
    .select()
    .from(deps.store.t.workspaceUsers)
    .where(inArray(deps.store.t.workspaceUsers.workspace, names));
  for (const r of rows) out.get(r.workspace)?.push(r.userId);
  for (const list of out.values()) list.sort();
  return out;
}

async function summary(deps: Deps, row: WorkspaceRow, users?: string[]): Promise<Workspace> {
  const members = users ?? (await membersOf(deps, [row.name])).get(row.name) ?? [];
  return {
    name: row.name,
    description: row.description,
    startsAt: row.startsAt,
    endsAt: row.endsAt,
    status: statusOf(deps, row),
    trainingGpus: row.trainingGpus,
    deploymentGpus: row.deploymentGpus,
    cpus: row.cpus,
    memoryMiB: row.memoryMiB,
    manager: row.manager,
    users: members,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    gpusInUse: {
      training: deps.gpuUsage.ofPool(row.name),
      deployment: deps.gpuUsage.ofPool(deploymentPool(row.name)),
    },
  };
}

export async function listWorkspaces(
  deps: Deps,
  principal: Principal,
  page: { limit: number; offset: number },
): Promise<WorkspacePage> {
  const { store } = deps;
  const t = store.t.workspaces;
  let names: string[];
  if (principal.role === "admin") {
    names = (await store.db.select({ name: t.name }).from(t).orderBy(t.name)).map((r) => r.name);
  } else {
    const memberOf = store.db
      .select({ workspace: store.t.workspaceUsers.workspace })
      .from(store.t.workspaceUsers)
      .where(eq(store.t.workspaceUsers.userId, principal.userId));
    names = (
      await store.db
        .select({ name: t.name })
        .from(t)
        .where(or(eq(t.manager, principal.userId), inArray(t.name, memberOf)))
        .orderBy(t.name)
    ).map((r) => r.name);
  }
  const pageNames = names.slice(page.offset, page.offset + page.limit);
  const [rows, members] = await Promise.all([rowsByName(deps, pageNames), membersOf(deps, pageNames)]);
  rows.sort((a, b) => a.name.localeCompare(b.name));
  return { items: await Promise.all(rows.map((r) => summary(deps, r, members.get(r.name)))), total: names.length };
}

export async function getWorkspace(deps: Deps, principal: Principal, name: string): Promise<WorkspaceDetail> {
  const { row } = await workspaceFor(deps, principal, name);
  const { store } = deps;
  const countIn = async (table: typeof store.t.datasets | typeof store.t.trainings | typeof store.t.deployments) => {
    const [row] = await store.db.select({ n: count() }).from(table).where(eq(table.workspace, name));
    return Number(row?.n ?? 0);
  };
  // The newest jobs of any kind (training runs, notebooks, deployments), as in Flightbase's
  // "recent tasks".
  const recent = await store.db
    .select({ job: store.t.jobs, training: store.t.trainings.name })
    .from(store.t.jobs)
    .innerJoin(store.t.trainings, eq(store.t.trainings.id, store.t.jobs.trainingId))
    .where(eq(store.t.jobs.workspace, name))
    .orderBy(desc(store.t.jobs.createdAt))
    .limit(10);
  return {
    ...(await summary(deps, row)),
    gpusInUse: {
      training: deps.gpuUsage.ofPool(name),
      deployment: deps.gpuUsage.ofPool(deploymentPool(name)),
    },
    counts: {
      trainings: await countIn(store.t.trainings),
      deployments: await countIn(store.t.deployments),
      images: await countWorkspaceImages(deps, name),
      datasets: await countIn(store.t.datasets),
    },
    recentTasks: recent.map(({ job, training }) => ({
      id: job.id,
      name: job.name,
      kind: job.kind,
      training,
      status: job.status,
      createdBy: job.createdBy,
      createdAt: job.createdAt,
    })),
  };
}

/**
 * Admins change everything. A workspace's manager changes its description and members only:
 * its GPUs, period and manager are the admin's to hand out (they decide the cluster's
 * reservations), so a manager asking for them gets 403.
 */
export async function patchWorkspace(
  deps: Deps,
  principal: Principal,
  name: string,
  input: PatchWorkspaceBody,
): Promise<WorkspaceDetail> {
  const access = await workspaceFor(deps, principal, name);
  requireManager(access, "edit it");
  if (!access.isAdmin) {
    const adminOnly = (
      ["startsAt", "endsAt", "trainingGpus", "deploymentGpus", "cpus", "memoryMiB", "manager"] as const
    ).find((f) => input[f] !== undefined);
    if (adminOnly) throw forbidden(`only an admin can change ${adminOnly}: ask an admin for more GPUs or time`);
  }
  const row = access.row;
  if (input.description !== undefined && input.description.length > 500)
    throw badRequest("description", "description must be at most 500 characters");
  const startsAt = input.startsAt !== undefined ? isoTime("startsAt", input.startsAt) : row.startsAt;
  const endsAt = input.endsAt !== undefined ? isoTime("endsAt", input.endsAt) : row.endsAt;
  if (Date.parse(endsAt) <= Date.parse(startsAt)) throw badRequest("endsAt", "endsAt must be after startsAt");
  const trainingGpus =
    input.trainingGpus !== undefined ? gpuCount("trainingGpus", input.trainingGpus) : row.trainingGpus;
  const deploymentGpus =
    input.deploymentGpus !== undefined ? gpuCount("deploymentGpus", input.deploymentGpus) : row.deploymentGpus;
  const cpus = input.cpus !== undefined ? share("cpus", input.cpus, "CPU cores") : row.cpus;
  const memoryMiB = input.memoryMiB !== undefined ? share("memoryMiB", input.memoryMiB, "MiB") : row.memoryMiB;
  const members = input.users !== undefined ? [...new Set(input.users)] : undefined;
  const { store } = deps;
  await store.tx(
    async (db) => {
      if (input.manager !== undefined) await checkUsers(db, deps, "manager", [input.manager]);
      if (members) await checkUsers(db, deps, "users", members);
      const reservationChanged =
        startsAt !== row.startsAt ||
        endsAt !== row.endsAt ||
        trainingGpus + deploymentGpus > row.trainingGpus + row.deploymentGpus;
      if (reservationChanged)
        await checkReservation(db, deps, {
          name,
          start: Date.parse(startsAt),
          end: Date.parse(endsAt),
          gpus: trainingGpus + deploymentGpus,
        });
      await db
        .update(store.t.workspaces)
        .set({
          description: input.description ?? row.description,
          startsAt,
          endsAt,
          trainingGpus,
          deploymentGpus,
          cpus,
          memoryMiB,
          manager: input.manager ?? row.manager,
          updatedAt: deps.clock.now().toISOString(),
        })
        .where(eq(store.t.workspaces.name, name));
      if (members) {
        await db.delete(store.t.workspaceUsers).where(eq(store.t.workspaceUsers.workspace, name));
        if (members.length)
          await db.insert(store.t.workspaceUsers).values(members.map((userId) => ({ workspace: name, userId })));
      }
    },
    { lock: "workspace-reservations" },
  );
  return getWorkspace(deps, principal, name);
}
