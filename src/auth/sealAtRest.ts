// Start-up step: seals the TOTP seeds and Jupyter tokens an older master stored in plaintext
// (lib/sealed.ts). Idempotent; values already sealed are left alone.
import { and, eq, isNotNull, notLike } from "drizzle-orm";
import type { Deps } from "../deps";

export async function sealPlaintextSecrets(deps: Deps): Promise<number> {
  const { store, secrets } = deps;
  const { users, jobs } = store.t;
  let sealed = 0;
  const plainUsers = await store.db
    .select({ userId: users.userId, secret: users.totpSecret })
    .from(users)
    .where(and(isNotNull(users.totpSecret), notLike(users.totpSecret, "enc1:%")));
  const plainJobs = await store.db
    .select({ id: jobs.id, token: jobs.notebookToken })
    .from(jobs)
    .where(and(isNotNull(jobs.notebookToken), notLike(jobs.notebookToken, "enc1:%")));
  if (plainUsers.length === 0 && plainJobs.length === 0) return 0;
  await store.tx(async (db) => {
    for (const u of plainUsers) {
      // Only a value still as read is replaced (a concurrent write wins).
      const done = await db
        .update(users)
        .set({ totpSecret: secrets.seal(u.secret as string) })
        .where(and(eq(users.userId, u.userId), eq(users.totpSecret, u.secret as string)))
        .returning({ userId: users.userId });
      sealed += done.length;
    }
    for (const j of plainJobs) {
      const done = await db
        .update(jobs)
        .set({ notebookToken: secrets.seal(j.token as string) })
        .where(and(eq(jobs.id, j.id), eq(jobs.notebookToken, j.token as string)))
        .returning({ id: jobs.id });
      sealed += done.length;
    }
  });
  return sealed;
}
