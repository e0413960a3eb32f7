// Login, logout, bearer-token resolution, password change and API keys.
import { and, count, eq, gt, lte, notInArray } from "drizzle-orm";
import type { Deps } from "../deps";
import { badRequest, conflict, forbidden, notFound, rateLimited, unauthorized } from "../domain/errors";
import { passwordProblem, type Role } from "../domain/rules";
import { randomToken, sha256 } from "../lib/secrets";
import { toUserView } from "../users/view";
import type { Principal } from "./cache";
import type { ApiKey, ApiKeyCreated, LoginBody, LoginResult, PasswordChangeBody } from "./model";

const SESSION_PREFIX = "hs_";
const SECRET_PREFIX = "hk_";

/** Checks a password against its hash through the bounded argon2 queue (429 when it is full). */
async function passwordMatches(deps: Deps, password: string, hash: string): Promise<boolean> {
  const ok = await deps.passwordChecks.run(() => Bun.password.verify(password, hash));
  if (ok === null) throw rateLimited("too many logins at once; try again in a moment", 1);
  return ok;
}

/** `address` is the peer address the server saw (the throttle's key with the account). */
export async function login(deps: Deps, input: LoginBody, address: string): Promise<LoginResult> {
  const { store, clock, loginThrottle } = deps;
  const now = clock.now();
  const account = input.userId.toLowerCase();
  const wait = loginThrottle.blockedFor(address, account, now.getTime());
  if (wait > 0)
    throw rateLimited(
      `too many failed logins for ${input.userId}; try again in ${Math.ceil(wait / 1000)} s`,
      Math.ceil(wait / 1000),
    );

  const [row] = await store.db.select().from(store.t.users).where(eq(store.t.users.userId, input.userId)).limit(1);
  // Verify against a fixed hash when the user does not exist, so timing does not reveal it.
  const ok = await passwordMatches(deps, input.password, row?.passwordHash ?? DUMMY_HASH);
  if (!row || !ok) loginThrottle.failure(address, account, now.getTime());
  // The same answer whether the password was right or not: a deactivated account's password
  // stays unconfirmed.
  if (row && !row.active) throw unauthorized(`account ${row.userId} is deactivated`, "account_deactivated");
  if (!row || !ok) throw unauthorized("wrong user ID or password", "invalid_credentials");
  if (row.totpEnabled) {
    if (!input.otp) throw unauthorized("this account needs a one-time code", "otp_required", "otp");
    if (!deps.totpCodes.accept(row.userId, deps.secrets.open(row.totpSecret ?? ""), input.otp, now)) {
      loginThrottle.failure(address, account, now.getTime());
      throw unauthorized("wrong or already used one-time code", "invalid_otp", "otp");
    }
  }
  loginThrottle.success(address, account, now.getTime());

  const token = randomToken(SESSION_PREFIX);
  const expiresAt = new Date(now.getTime() + deps.config.sessionHours * 3600_000);
  await store.tx((db) =>
    db.insert(store.t.sessions).values({
      tokenHash: sha256(token),
      userId: row.userId,
      createdAt: now.toISOString(),
      expiresAt: expiresAt.toISOString(),
    }),
  );
  return { token, user: toUserView(row) };
}

const DUMMY_HASH = await Bun.password.hash("not-a-real-password-1!");

/** Deletes sessions past their expiry (they no longer authenticate; this only clears them out). */
export async function deleteExpiredSessions(deps: Deps): Promise<number> {
  const { store } = deps;
  const now = deps.clock.now().toISOString();
  const gone = await store.tx((db) =>
    db
      .delete(store.t.sessions)
      .where(lte(store.t.sessions.expiresAt, now))
      .returning({ tokenHash: store.t.sessions.tokenHash }),
  );
  return gone.length;
}

export async function logout(deps: Deps, token: string): Promise<void> {
  const hash = sha256(token);
  deps.principals.dropToken(token);
  await deps.store.tx((db) => db.delete(deps.store.t.sessions).where(eq(deps.store.t.sessions.tokenHash, hash)));
}

/** Resolves a bearer token (session token or API secret) to its user, or throws 401/429. */
export async function authenticate(deps: Deps, authorization: string | null): Promise<Principal> {
  const token = bearer(authorization);
  const now = deps.clock.now().getTime();
  let principal = deps.principals.get(token, now);
  if (!principal) {
    const hash = sha256(token);
    principal = token.startsWith(SECRET_PREFIX) ? await lookupApiKey(deps, hash) : await lookupSession(deps, hash, now);
    deps.principals.put(token, principal, now);
  }
  if (principal.via === "apikey") {
    const wait = deps.apiKeyLimiter.hit(principal.accessKey as string, now);
    if (wait > 0)
      throw rateLimited(
        `API key ${principal.accessKey} made more than ${deps.config.apiKeyRateLimit} requests in 15 minutes`,
        Math.ceil(wait / 1000),
      );
  }
  return principal;
}

function bearer(authorization: string | null): string {
  if (!authorization) throw unauthorized("login required: send Authorization: Bearer <token>");
  const m = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (!m) throw unauthorized("Authorization header must be 'Bearer <token>'");
  return m[1] as string;
}

/** The principal of a live session, given its token's hash (an app's cookie carries the hash). */
export function sessionByHash(deps: Deps, hash: string): Promise<Principal> {
  return lookupSession(deps, hash, deps.clock.now().getTime());
}

async function lookupSession(deps: Deps, hash: string, now: number): Promise<Principal> {
  const { store } = deps;
  const [row] = await store.db
    .select({
      userId: store.t.users.userId,
      role: store.t.users.role,
      expiresAt: store.t.sessions.expiresAt,
      mustChangePassword: store.t.users.mustChangePassword,
    })
    .from(store.t.sessions)
    .innerJoin(store.t.users, eq(store.t.users.userId, store.t.sessions.userId))
    .where(
      and(
        eq(store.t.sessions.tokenHash, hash),
        eq(store.t.users.active, true),
        gt(store.t.sessions.expiresAt, new Date(now).toISOString()),
      ),
    )
    .limit(1);
  if (!row) throw unauthorized("session expired or invalid; log in again", "invalid_token");
  const principal: Principal = {
    userId: row.userId,
    role: row.role,
    via: "session",
    expiresAt: Date.parse(row.expiresAt),
  };
  // The console's session (a file only root on the master reads) was opened without a password.
  if (row.mustChangePassword && !deps.principals.isConsole(hash)) principal.mustChangePassword = true;
  return principal;
}

async function lookupApiKey(deps: Deps, hash: string): Promise<Principal> {
  const { store } = deps;
  const [row] = await store.db
    .select({ userId: store.t.users.userId, role: store.t.users.role, accessKey: store.t.apiKeys.accessKey })
    .from(store.t.apiKeys)
    .innerJoin(store.t.users, eq(store.t.users.userId, store.t.apiKeys.userId))
    .where(and(eq(store.t.apiKeys.secretHash, hash), eq(store.t.users.active, true)))
    .limit(1);
  if (!row) throw unauthorized("API key invalid or revoked", "invalid_token");
  // Recorded on cache misses only (at most every few seconds per key), not on every request.
  const usedAt = deps.clock.now().toISOString();
  void store
    .tx((db) =>
      db.update(store.t.apiKeys).set({ lastUsedAt: usedAt }).where(eq(store.t.apiKeys.accessKey, row.accessKey)),
    )
    .catch((err) => deps.logger.warn("record API key use", { err }));
  return {
    userId: row.userId,
    role: row.role,
    via: "apikey",
    accessKey: row.accessKey,
    expiresAt: Number.POSITIVE_INFINITY,
  };
}

export function requireRole(principal: Principal, ...roles: Role[]): void {
  if (!roles.includes(principal.role)) throw forbidden(`this needs the ${roles.join(" or ")} role`);
}

/**
 * Changes the caller's password and ends every other session of theirs (the calling session
 * keeps its token). API keys stay: they are separate credentials the user lists and revokes.
 */
export async function changePassword(
  deps: Deps,
  principal: Principal,
  input: PasswordChangeBody,
  currentToken: string,
): Promise<void> {
  requireSession(principal, "changing the password");
  const { store } = deps;
  const [row] = await store.db.select().from(store.t.users).where(eq(store.t.users.userId, principal.userId)).limit(1);
  if (!row) throw notFound(`user ${principal.userId}`);
  if (!(await passwordMatches(deps, input.current, row.passwordHash)))
    throw badRequest("current", "current password is wrong", "wrong_password");
  const problem = passwordProblem(input.next);
  if (problem) throw badRequest("next", problem);
  if (input.next === input.current) throw badRequest("next", "new password must differ from the current one");
  const passwordHash = await Bun.password.hash(input.next);
  await store.tx(async (db) => {
    await db
      .update(store.t.users)
      .set({ passwordHash, mustChangePassword: false, updatedAt: deps.clock.now().toISOString() })
      .where(eq(store.t.users.userId, row.userId));
    await db.delete(store.t.sessions).where(
      and(
        eq(store.t.sessions.userId, row.userId),
        // This session and the master console's (auth/localAdmin) stay.
        notInArray(store.t.sessions.tokenHash, [sha256(currentToken), ...deps.principals.consoleSessions()]),
      ),
    );
  });
  deps.principals.dropUser(row.userId);
}

/** Keys one user may hold at once (each is a standing credential; revoke one to make room). */
export const API_KEYS_PER_USER = 20;

/**
 * Credentials are managed from a login session only: a leaked API key must not mint more keys,
 * change the password, turn two-factor off or plant an SSH key.
 */
export function requireSession(principal: Principal, what: string): void {
  if (principal.via !== "session") throw forbidden(`${what} needs a login session, not an API key`, "session_required");
}

export async function createApiKey(deps: Deps, principal: Principal): Promise<ApiKeyCreated> {
  requireSession(principal, "creating an API key");
  const { store } = deps;
  const accessKey = randomToken("AK", 12).replace(/[-_]/g, "x");
  const secretKey = randomToken(SECRET_PREFIX);
  await store.tx(
    async (db) => {
      const [held] = await db
        .select({ n: count() })
        .from(store.t.apiKeys)
        .where(eq(store.t.apiKeys.userId, principal.userId));
      if ((held?.n ?? 0) >= API_KEYS_PER_USER)
        throw conflict(
          `you already have ${API_KEYS_PER_USER} API keys, the most one user may hold; revoke one first`,
          "api_key_limit",
        );
      await db.insert(store.t.apiKeys).values({
        accessKey,
        secretHash: sha256(secretKey),
        userId: principal.userId,
        createdAt: deps.clock.now().toISOString(),
      });
    },
    { lock: `api-keys:${principal.userId}` },
  );
  return { accessKey, secretKey };
}

export async function listApiKeys(deps: Deps, principal: Principal): Promise<ApiKey[]> {
  const { store } = deps;
  return store.db
    .select({
      accessKey: store.t.apiKeys.accessKey,
      createdAt: store.t.apiKeys.createdAt,
      lastUsedAt: store.t.apiKeys.lastUsedAt,
    })
    .from(store.t.apiKeys)
    .where(eq(store.t.apiKeys.userId, principal.userId))
    .orderBy(store.t.apiKeys.createdAt);
}

export async function deleteApiKey(deps: Deps, principal: Principal, accessKey: string): Promise<void> {
  requireSession(principal, "revoking an API key");
  const { store } = deps;
  const deleted = await store.tx((db) =>
    db
      .delete(store.t.apiKeys)
      .where(and(eq(store.t.apiKeys.accessKey, accessKey), eq(store.t.apiKeys.userId, principal.userId)))
      .returning({ accessKey: store.t.apiKeys.accessKey }),
  );
  if (deleted.length === 0) throw notFound(`API key ${accessKey}`);
  deps.principals.dropUser(principal.userId);
}
