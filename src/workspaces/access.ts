// Who may see and change a workspace. Other tenants' workspaces answer 404, never 403.
import { and, eq } from "drizzle-orm";
import type { Principal } from "../auth/cache";
import type { Deps } from "../deps";
import { conflict, forbidden, notFound } from "../domain/errors";
import { workspaceStatus } from "../domain/reservations";
import type { Tables } from "../store/store";

export type WorkspaceRow = Tables["workspaces"]["$inferSelect"];

export interface WorkspaceAccess {
  row: WorkspaceRow;
  isAdmin: boolean;
  isManager: boolean;
}

/** The workspace if the caller may see it (admin, its manager or a member), else 404. */
export async function workspaceFor(deps: Deps, principal: Principal, name: string): Promise<WorkspaceAccess> {
  const { store } = deps;
  const [row] = await store.db.select().from(store.t.workspaces).where(eq(store.t.workspaces.name, name)).limit(1);
  if (!row) throw notFound(`workspace ${name}`);
  const isAdmin = principal.role === "admin";
  const isManager = row.manager === principal.userId;
  if (!isAdmin && !isManager) {
    const [member] = await store.db
      .select({ userId: store.t.workspaceUsers.userId })
      .from(store.t.workspaceUsers)
      .where(and(eq(store.t.workspaceUsers.workspace, name), eq(store.t.workspaceUsers.userId, principal.userId)))
      .limit(1);
    if (!member) throw notFound(`workspace ${name}`);
  }
  return { row, isAdmin, isManager };
}

export function statusOf(deps: Deps, row: WorkspaceRow) {
  return workspaceStatus(deps.clock.now().getTime(), Date.parse(row.startsAt), Date.parse(row.endsAt));
}

/** Anything new (uploads, trainings, jobs) needs a workspace that has not expired. */
export function requireNotExpired(deps: Deps, row: WorkspaceRow, what: string): void {
  if (statusOf(deps, row) === "expired")
    throw conflict(
      `workspace ${row.name} expired at ${row.endsAt}: it stays readable, but ${what} is not possible`,
      "workspace_expired",
    );
}

export function requireManager(access: WorkspaceAccess, what: string): void {
  if (!access.isAdmin && !access.isManager) throw forbidden(`only the workspace's manager or an admin can ${what}`);
}
