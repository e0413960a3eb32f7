// Accounts: bootstrap of root, admin-only create/list/patch, the caller's own profile.
import { and, count, eq, ne } from "drizzle-orm";
import { utils as sshUtils } from "ssh2";
import type { Principal } from "../auth/cache";
import type { TotpSetup } from "../auth/model";
import { requireSession } from "../auth/service";
import { newTotpSecret, totpUri } from "../auth/totp";
import type { Deps } from "../deps";
import { badRequest, conflict, forbidden, notFound, unauthorized } from "../domain/errors";
import { isRole, passwordProblem, ROLES, type Role, userIdProblem } from "../domain/rules";
import { generatePassword } from "../lib/secrets";
import type { CreateUserBody, PatchUserBody, User, UserIdPage, UserPage } from "./model";
import { toUserView } from "./view";

export const ROOT_USER = "root";

/** Creates `root` on the very first start. Returns the password to print when it was generated. */
export async function bootstrapRoot(deps: Deps): Promise<{ created: boolean; generatedPassword?: string }> {
  const { store } = deps;
  const [existing] = await store.db
    .select({ userId: store.t.users.userId })
    .from(store.t.users)
    .where(eq(store.t.users.userId, ROOT_USER))
    .limit(1);
  if (existing) return { created: false };
  const given = deps.config.rootPassword;
  if (given !== undefined) {
    const problem = passwordProblem(given);
    if (problem) throw badRequest("HANGAR_ROOT_PASSWORD", problem);
  }
  const password = given ?? generatePassword();
  const now = deps.clock.now().toISOString();
  const passwordHash = await Bun.password.hash(password);
  await store.tx((db) =>
    db
      .insert(store.t.users)
      .values({
        userId: ROOT_USER,
        role: "admin",
        passwordHash,
        mustChangePassword: true,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing(),
  );
  return given === undefined ? { created: true, generatedPassword: password } : { created: true };
}

export async function getUser(deps: Deps, userId: string): Promise<User> {
  const row = await findUser(deps, userId);
  if (!row) throw notFound(`user ${userId}`);
  return toUserView(row);
}

async function findUser(deps: Deps, userId: string) {
  const { store } = deps;
  const [row] = await store.db.select().from(store.t.users).where(eq(store.t.users.userId, userId)).limit(1);
  return row;
}

/**
 * The users page as a JSON Blob, served from the read cache until the store changes. A Blob
 * carries its content type, so `new Response(blob)` needs no Headers object (measurably
 * cheaper per request than bytes plus headers).
 */
export function listUsersJson(deps: Deps, page: { limit: number; offset: number }): Promise<Blob> {
  return deps.userPages.get(
    `${page.limit}:${page.offset}`,
    async () => new Blob([JSON.stringify(await listUsers(deps, page))], { type: "application/json; charset=utf-8" }),
  );
}

export async function listUsers(deps: Deps, page: { limit: number; offset: number }): Promise<UserPage> {
  const { store } = deps;
  const [items, [totalRow]] = await Promise.all([
    store.db.select().from(store.t.users).orderBy(store.t.users.userId).limit(page.limit).offset(page.offset),
    store.db.select({ n: count() }).from(store.t.users),
  ]);
  return { items: items.map(toUserView), total: totalRow?.n ?? 0 };
}

export async function createUser(deps: Deps, input: CreateUserBody): Promise<User> {
  const idProblem = userIdProblem(input.userId);
  if (idProblem) throw badRequest("userId", idProblem);
  const pwProblem = passwordProblem(input.password);
  if (pwProblem) throw badRequest("password", pwProblem);
  if (!isRole(input.role)) throw badRequest("role", `role must be one of ${ROLES.join(", ")}`);
  const role: Role = input.role;
  const { store } = deps;
  const now = deps.clock.now().toISOString();
  const passwordHash = await Bun.password.hash(input.password);
  const inserted = await store.tx((db) =>
    db
      .insert(store.t.users)
      .values({
        userId: input.userId,
        role,
        passwordHash,
        mustChangePassword: true,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing()
      .returning(),
  );
  const row = inserted[0];
  if (!row) throw conflict(`user ${input.userId} already exists`, "duplicate", "userId");
  return toUserView(row);
}

/** Admin edit. A role change, new password or deactivation ends the user's sessions at once. */
export async function patchUser(deps: Deps, actor: Principal, userId: string, input: PatchUserBody): Promise<User> {
  const role = input.role;
  if (role !== undefined && !isRole(role)) throw badRequest("role", `role must be one of ${ROLES.join(", ")}`);
  if (input.password !== undefined) {
    const problem = passwordProblem(input.password);
    if (problem) throw badRequest("password", problem);
  }
  if (userId === actor.userId && input.active === false)
    throw badRequest("active", "you cannot deactivate your own account");
  if (userId === actor.userId && input.role !== undefined && input.role !== "admin")
    throw badRequest("role", "you cannot take the admin role from your own account");

  const { store } = deps;
  const passwordHash = input.password !== undefined ? await Bun.password.hash(input.password) : undefined;
  const row = await store.tx(
    async (db) => {
      const [current] = await db.select().from(store.t.users).where(eq(store.t.users.userId, userId)).limit(1);
      if (!current) throw notFound(`user ${userId}`);
      const losesAdmin =
        current.role === "admin" &&
        current.active &&
        (input.active === false || (input.role !== undefined && input.role !== "admin"));
      if (losesAdmin) {
        const [others] = await db
          .select({ n: count() })
          .from(store.t.users)
          .where(
            and(eq(store.t.users.role, "admin"), eq(store.t.users.active, true), ne(store.t.users.userId, userId)),
          );
        if ((others?.n ?? 0) === 0) throw conflict("at least one active admin must remain", "last_admin");
      }
      const [updated] = await db
        .update(store.t.users)
        .set({
          ...(role !== undefined ? { role } : {}),
          ...(input.active !== undefined ? { active: input.active } : {}),
          ...(passwordHash !== undefined ? { passwordHash, mustChangePassword: true } : {}),
          updatedAt: deps.clock.now().toISOString(),
        })
        .where(eq(store.t.users.userId, userId))
        .returning();
      if (input.active === false || passwordHash !== undefined)
        await db.delete(store.t.sessions).where(eq(store.t.sessions.userId, userId));
      return updated;
      // On PostgreSQL two admins demoting each other at once would both see the other as the one
      // left; the lock serialises these edits (SQLite transactions are serial already).
    },
    { lock: "users" },
  );
  if (!row) throw notFound(`user ${userId}`);
  deps.principals.dropUser(userId);
  return toUserView(row);
}

export async function setSshKey(deps: Deps, principal: Principal, publicKey: string): Promise<User> {
  requireSession(principal, "setting the SSH key");
  const key = publicKey.trim();
  if (key.includes("\n")) throw badRequest("publicKey", "give exactly one public key line");
  const parsed = sshUtils.parseKey(key);
  if (parsed instanceof Error || Array.isArray(parsed) || parsed.isPrivateKey())
    throw badRequest("publicKey", "not an OpenSSH public key (expected e.g. 'ssh-ed25519 AAAA… comment')");
  return updateSelf(deps, principal, { sshPublicKey: key });
}

async function updateSelf(
  deps: Deps,
  principal: Principal,
  set: Partial<{ sshPublicKey: string | null; totpSecret: string | null; totpEnabled: boolean }>,
): Promise<User> {
  const { store } = deps;
  const [row] = await store.tx((db) =>
    db
      .update(store.t.users)
      .set({ ...set, updatedAt: deps.clock.now().toISOString() })
      .where(eq(store.t.users.userId, principal.userId))
      .returning(),
  );
  if (!row) throw notFound(`user ${principal.userId}`);
  return toUserView(row);
}

/** Step 1 of enabling TOTP: a new secret, not active until confirmed with a code. */
export async function startTotp(deps: Deps, principal: Principal): Promise<TotpSetup> {
  requireSession(principal, "setting up two-factor login");
  const row = await findUser(deps, principal.userId);
  if (!row) throw notFound(`user ${principal.userId}`);
  if (row.totpEnabled) throw conflict("two-factor login is already on; turn it off first", "totp_enabled");
  const secret = newTotpSecret();
  await updateSelf(deps, principal, { totpSecret: deps.secrets.seal(secret), totpEnabled: false });
  return { secret, otpauthUrl: totpUri(secret, principal.userId) };
}

export async function confirmTotp(deps: Deps, principal: Principal, code: string): Promise<User> {
  requireSession(principal, "turning two-factor login on");
  const row = await findUser(deps, principal.userId);
  if (!row?.totpSecret) throw conflict("start two-factor setup first (POST /api/me/totp)", "totp_not_started");
  if (!deps.totpCodes.accept(row.userId, deps.secrets.open(row.totpSecret), code, deps.clock.now()))
    throw badRequest("code", "wrong or already used one-time code");
  return updateSelf(deps, principal, { totpEnabled: true });
}

export async function disableTotp(deps: Deps, principal: Principal, code: string): Promise<User> {
  requireSession(principal, "turning two-factor login off");
  const row = await findUser(deps, principal.userId);
  if (!row?.totpEnabled || !row.totpSecret) throw conflict("two-factor login is not on", "totp_not_enabled");
  if (!deps.totpCodes.accept(row.userId, deps.secrets.open(row.totpSecret), code, deps.clock.now()))
    throw unauthorized("wrong or already used one-time code", "invalid_otp", "code");
  return updateSelf(deps, principal, { totpSecret: null, totpEnabled: false });
}

/**
 * The IDs of active users, for the Users picker of Edit Workspace: admins, users with the
 * manager role and managers of a workspace may read them; nothing else about a user is shown.
 */
export async function listUserIds(
  deps: Deps,
  principal: Principal,
  page: { limit: number; offset: number },
  prefix = "",
): Promise<UserIdPage> {
  const { store } = deps;
  if (principal.role !== "admin" && principal.role !== "manager") {
    const [managed] = await store.db
      .select({ n: count() })
      .from(store.t.workspaces)
      .where(eq(store.t.workspaces.manager, principal.userId));
    if (!Number(managed?.n ?? 0)) throw forbidden("only admins and workspace managers can list users");
  }
  const rows = await store.db
    .select({ userId: store.t.users.userId })
    .from(store.t.users)
    .where(eq(store.t.users.active, true))
    .orderBy(store.t.users.userId);
  const ids = rows.filter((r) => r.userId.startsWith(prefix));
  return { items: ids.slice(page.offset, page.offset + page.limit), total: ids.length };
}
