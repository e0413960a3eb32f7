// The store dialects every store-touching suite runs on: SQLite, and a real PostgreSQL server
// (started by `bun run test`, see test/harness/up.sh). Each call makes a fresh, empty database.
import postgres from "postgres";

export type StoreTarget = "sqlite" | "postgres";
export const STORE_TARGETS: StoreTarget[] = ["sqlite", "postgres"];

export function pgAdminUrl(): string {
  const url = process.env.HANGAR_TEST_PG_URL;
  if (!url)
    throw new Error(
      "HANGAR_TEST_PG_URL is not set: run the suite with `bun run test`, which starts PostgreSQL (test/harness/up.sh)",
    );
  return url;
}

/** Creates an empty PostgreSQL database and returns its URL and a function that drops it. */
export async function freshPgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = pgAdminUrl();
  const name = `hangar_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const sql = postgres(admin, { max: 1, onnotice: () => {} });
  await sql.unsafe(`CREATE DATABASE ${name}`);
  await sql.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const s = postgres(admin, { max: 1, onnotice: () => {} });
      await s.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await s.end();
    },
  };
}

/**
 * The environment a master process needs for a store target: nothing for SQLite (the file in
 * its data dir), DATABASE_URL of a fresh database for PostgreSQL. `drop` removes that database.
 */
export async function storeEnv(
  target: StoreTarget,
): Promise<{ env: Record<string, string>; drop: () => Promise<void> }> {
  if (target === "sqlite") return { env: {}, drop: async () => {} };
  const pg = await freshPgDatabase();
  return { env: { DATABASE_URL: pg.url }, drop: pg.drop };
}
