// A database from before typed JSON columns, enums, image stages and job reason codes (the schema
// of migration 0008) upgrades in place when the master opens it, and a backup taken from it
// still restores into a current database: rows written as JSON text read back as values.
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asc, eq } from "drizzle-orm";
import { drizzle as drizzleSqlite } from "drizzle-orm/bun-sqlite";
import { migrate as migrateSqlite } from "drizzle-orm/bun-sqlite/migrator";
import { drizzle as drizzlePg } from "drizzle-orm/postgres-js";
import { migrate as migratePg } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { backupNow, restore } from "../../src/backup/backup";
import { type Config, loadConfig } from "../../src/config";
import { ManualClock } from "../../src/lib/clock";
import { dataLayout } from "../../src/lib/layout";
import { openStore, type Store } from "../../src/store/store";
import { freshPgDatabase, STORE_TARGETS } from "../helpers/stores";

/** The last migration of the previous schema. */
const PREVIOUS = "0008_";
const MIGRATIONS = join(import.meta.dir, "../../src/store/migrations");

/** A copy of the migrations folder that ends at PREVIOUS. */
function previousMigrations(kind: "sqlite" | "pg", into: string): string {
  const dir = join(into, `migrations-${kind}`);
  cpSync(join(MIGRATIONS, kind), dir, { recursive: true });
  const journalPath = join(dir, "meta/_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: { tag: string }[] };
  const last = journal.entries.findIndex((e) => e.tag.startsWith(PREVIOUS));
  expect(last).toBeGreaterThan(0);
  journal.entries = journal.entries.slice(0, last + 1);
  writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

const NOW = "2026-01-05T10:00:00.000Z";
const GPUS = [
  { index: 0, uuid: "GPU-old-0", name: "NVIDIA A100-SXM4-80GB", memoryMiB: 81920 },
  { index: 1, uuid: "GPU-old-1", name: "NVIDIA A100-SXM4-80GB", memoryMiB: 81920 },
];
const NET = [{ name: "eth0", addresses: ["10.0.0.5/24"], speedMbps: 10000, kind: "10GbE", up: true, mac: null }];
const ASSIGNED = [{ nodeId: "node-old", gpuUuids: ["GPU-old-0"], containerId: "c0ffee", hostPorts: { "8888": 32768 } }];
const q = (v: unknown) => `'${(typeof v === "string" ? v : JSON.stringify(v)).replaceAll("'", "''")}'`;

/** Rows as the previous schema stored them (JSON as text), in SQL both dialects take. */
const OLD_ROWS = [
  `INSERT INTO users (user_id, role, password_hash, created_at, updated_at) VALUES ('old-admin', 'admin', 'x', ${q(NOW)}, ${q(NOW)})`,
  `INSERT INTO nodes (id, name, ip, ssh_port, ssh_user, desired, status, interfaces, network_interfaces, gpus, cpus, memory_mib, created_at, updated_at)
   VALUES ('node-old', 'old', '10.0.0.5', 22, 'root', 'attached', 'attached', ${q({ control: "eth0", data: "eth0" })}, ${q(NET)}, ${q(GPUS)}, 32, 256000, ${q(NOW)}, ${q(NOW)})`,
  `INSERT INTO workspaces (name, starts_at, ends_at, training_gpus, deployment_gpus, manager, created_at, updated_at)
   VALUES ('ws', ${q(NOW)}, '2027-01-01T00:00:00.000Z', 2, 0, 'old-admin', ${q(NOW)}, ${q(NOW)})`,
  `INSERT INTO trainings (id, workspace, name, type, gpus, access, owner, created_at, updated_at)
   VALUES ('tr-old', 'ws', 'tr', 'advanced', 1, 'public', 'old-admin', ${q(NOW)}, ${q(NOW)})`,
  `INSERT INTO jobs (id, training_id, workspace, name, seq, image, command, parameters, gpu_options, gpus, status, status_reason, assignments, created_by, created_at, updated_at)
   VALUES ('job-running', 'tr-old', 'ws', 'a', 0, 'img', 'true', ${q({ lr: "0.1", "it's": "quoted" })}, ${q(["gpu-acceleration"])}, 1, 'running', 'running on node-old', ${q(ASSIGNED)}, 'old-admin', ${q(NOW)}, ${q(NOW)})`,
  `INSERT INTO jobs (id, training_id, workspace, name, seq, image, command, parameters, gpu_options, gpus, status, status_reason, created_by, created_at, updated_at)
   VALUES ('job-pending', 'tr-old', 'ws', 'b', 0, 'img', 'true', '{}', '[]', 1, 'pending', 'queued', 'old-admin', ${q(NOW)}, ${q(NOW)})`,
  `INSERT INTO job_events (job_id, at, from_state, to_state, reason) VALUES ('job-running', ${q(NOW)}, 'starting', 'running', 'running on node-old')`,
  ...[
    ["img-upload", "tar", "pending", "waiting for the upload (POST /api/images/:id/upload)"],
    ["img-queued", "pull", "pending", "queued"],
    ["img-pulling", "pull", "pending", "pulling on the master"],
    ["img-ready", "pull", "ready", null],
    ["img-failed", "tar", "failed", "not a tar"],
  ].map(
    ([id, type, status, reason]) =>
      `INSERT INTO images (id, name, source_type, source, reference, release, status, status_reason, uploader, created_at, updated_at)
       VALUES ('${id}', '${id}', '${type}', '', 'ref/${id}', 'global', '${status}', ${reason === null ? "NULL" : q(reason)}, 'old-admin', ${q(NOW)}, ${q(NOW)})`,
  ),
];

/** What the upgraded store must read from OLD_ROWS (and that it still writes and reads values). */
async function expectUpgraded(store: Store) {
  const { db, t } = store;
  const [node] = await db.select().from(t.nodes).where(eq(t.nodes.id, "node-old"));
  expect(node?.gpus).toEqual(GPUS);
  expect(node?.networkInterfaces).toEqual(NET as never);
  expect(node?.interfaces).toEqual({ control: "eth0", data: "eth0" });
  expect(node?.status).toBe("attached");

  const jobs = await db.select().from(t.jobs).orderBy(asc(t.jobs.id));
  expect(jobs.map((j) => [j.id, j.parameters, j.gpuOptions, j.assignments, j.reasonCode])).toEqual([
    ["job-pending", {}, [], [], null],
    ["job-running", { lr: "0.1", "it's": "quoted" }, ["gpu-acceleration"], ASSIGNED, null],
  ]);
  const [event] = await db.select().from(t.jobEvents);
  expect(event?.toState).toBe("running");

  const images = await db.select({ id: t.images.id, stage: t.images.stage }).from(t.images).orderBy(asc(t.images.id));
  expect(images).toEqual([
    { id: "img-failed", stage: null },
    { id: "img-pulling", stage: "preparing" },
    { id: "img-queued", stage: "queued" },
    { id: "img-ready", stage: null },
    { id: "img-upload", stage: "upload" },
  ]);

  // New writes keep values as values, and the assignments default is an empty list.
  await store.tx(async (tx) => {
    await tx.insert(t.jobs).values({
      id: "job-new",
      trainingId: "tr-old",
      workspace: "ws",
      name: "c",
      seq: 0,
      image: "img",
      command: "true",
      parameters: { k: "v" },
      gpuOptions: [],
      gpus: 0.5,
      status: "pending",
      reasonCode: "queued",
      createdBy: "old-admin",
      createdAt: NOW,
      updatedAt: NOW,
    });
    await tx
      .update(t.nodes)
      .set({ gpus: [...GPUS, { index: 2, uuid: "GPU-old-2", name: "x", memoryMiB: 1 }] })
      .where(eq(t.nodes.id, "node-old"));
  });
  const [fresh] = await db.select().from(t.jobs).where(eq(t.jobs.id, "job-new"));
  expect([fresh?.parameters, fresh?.assignments, fresh?.reasonCode]).toEqual([{ k: "v" }, [], "queued"]);
  const [grown] = await db.select({ gpus: t.nodes.gpus }).from(t.nodes).where(eq(t.nodes.id, "node-old"));
  expect(grown?.gpus.map((g) => g.uuid)).toEqual(["GPU-old-0", "GPU-old-1", "GPU-old-2"]);
}

/** The JSON type of the stored values themselves (a value written as a JSON string would say "string"). */
async function storedJsonTypes(config: Config): Promise<string[]> {
  const query = (fn: string) =>
    `SELECT ${fn}(j.assignments) AS a, ${fn}(j.parameters) AS p, ${fn}(n.gpus) AS g FROM jobs j, nodes n WHERE j.id = 'job-new'`;
  if (config.databaseUrl) {
    const client = postgres(config.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const [row] = await client.unsafe(query("jsonb_typeof"));
      return [row?.a, row?.p, row?.g];
    } finally {
      await client.end();
    }
  }
  const sqlite = new Database(dataLayout(config.dataDir).sqliteFile, { readonly: true });
  try {
    const row = sqlite.query(query("json_type")).get() as { a: string; p: string; g: string };
    return [row.a, row.p, row.g];
  } finally {
    sqlite.close();
  }
}

for (const target of STORE_TARGETS) {
  describe(`store upgrade on ${target}`, () => {
    const cleanup: (() => Promise<void> | void)[] = [];
    afterAll(async () => {
      for (const c of cleanup.reverse()) await c();
    });

    const freshConfig = async () => {
      const dataDir = mkdtempSync(join(tmpdir(), "hangar-upgrade-"));
      cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const pg = target === "postgres" ? await freshPgDatabase() : null;
      if (pg) cleanup.push(pg.drop);
      return loadConfig({}, [], { dataDir, databaseUrl: pg?.url, rootPassword: "upgradeRoot1!" });
    };

    test("a database of the previous schema, and its backup, open as the current schema with rows intact", async () => {
      // Given a database migrated to the previous schema, with rows written in its format
      const old = await freshConfig();
      const folder = previousMigrations(target === "sqlite" ? "sqlite" : "pg", old.dataDir);
      if (old.databaseUrl) {
        const client = postgres(old.databaseUrl, { max: 1, onnotice: () => {} });
        await migratePg(drizzlePg(client), { migrationsFolder: folder });
        for (const stmt of OLD_ROWS) await client.unsafe(stmt);
        await client.end();
      } else {
        const sqlite = new Database(dataLayout(old.dataDir).sqliteFile, { create: true });
        migrateSqlite(drizzleSqlite(sqlite), { migrationsFolder: folder });
        for (const stmt of OLD_ROWS) sqlite.run(stmt);
        sqlite.close();
      }
      // and a backup of it, taken before the upgrade
      const backup = await backupNow(old, new ManualClock(new Date(NOW)));

      // When the master opens it, it upgrades in place
      const upgraded = await openStore(old);
      try {
        await expectUpgraded(upgraded);
      } finally {
        await upgraded.close();
      }
      expect(await storedJsonTypes(old)).toEqual(["array", "object", "array"]);

      // And the old backup restores into a database of the current schema, then upgrades too
      const current = await freshConfig();
      await (await openStore(current)).close();
      await restore(current, backup.path);
      const restored = await openStore(current);
      try {
        await expectUpgraded(restored);
      } finally {
        await restored.close();
      }
    });
  });
}
