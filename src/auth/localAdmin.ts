// The master console's credential: at each start the master opens an admin session and writes
// its token to <data>/run/local-admin.token with mode 0600, so whoever can read that file (root
// on the master) is signed in as an admin without typing a password or putting a secret in the
// environment or the process list (`bun run tui` reads it). The session of the previous start
// (from the file, should the master have died without revoking it) is revoked first; stop
// revokes this one and removes the file.
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { and, asc, eq } from "drizzle-orm";
import type { Deps } from "../deps";
import { dataLayout } from "../lib/layout";
import { randomToken, sha256 } from "../lib/secrets";
import { ROOT_USER } from "../users/service";

/** How long the console's session lives at most; it is revoked at stop and replaced at each start anyway. */
const LIFETIME_MS = 10 * 365 * 24 * 3600_000;

export interface LocalAdmin {
  /** The admin it signs in as. */
  userId: string;
  file: string;
  revoke(): Promise<void>;
}

/** Opens the console's session and writes its token file; null when no active admin exists. */
export async function issueLocalAdminToken(deps: Deps): Promise<LocalAdmin | null> {
  const { store } = deps;
  const file = dataLayout(deps.config.dataDir).localAdminTokenFile;
  await revokeToken(deps, readToken(file));
  const admins = await store.db
    .select({ userId: store.t.users.userId })
    .from(store.t.users)
    .where(and(eq(store.t.users.role, "admin"), eq(store.t.users.active, true)))
    .orderBy(asc(store.t.users.createdAt));
  const userId = (admins.find((a) => a.userId === ROOT_USER) ?? admins[0])?.userId;
  if (!userId) {
    rmSync(file, { force: true });
    return null;
  }
  const token = randomToken("hs_");
  // Not held to "must change password": no password was typed for it (auth/service).
  deps.principals.markConsole(sha256(token), true);
  const now = deps.clock.now();
  await store.tx((db) =>
    db.insert(store.t.sessions).values({
      tokenHash: sha256(token),
      userId,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + LIFETIME_MS).toISOString(),
    }),
  );
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${token}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600); // whatever the umask
  renameSync(tmp, file);
  let revoked = false;
  return {
    userId,
    file,
    async revoke() {
      if (revoked) return;
      revoked = true;
      if (readToken(file) === token) rmSync(file, { force: true });
      await revokeToken(deps, token);
    },
  };
}

/** The token in a local-admin token file, or null when there is none. */
export function readToken(file: string): string | null {
  try {
    return readFileSync(file, "utf8").trim() || null;
  } catch {
    return null;
  }
}

async function revokeToken(deps: Deps, token: string | null): Promise<void> {
  if (!token) return;
  deps.principals.dropToken(token);
  const hash = sha256(token);
  deps.principals.markConsole(hash, false);
  await deps.store.tx((db) => db.delete(deps.store.t.sessions).where(eq(deps.store.t.sessions.tokenHash, hash)));
}
