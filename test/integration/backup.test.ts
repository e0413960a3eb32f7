// Backup while a writer is inserting, change data, restore: the backed-up state is back and
// the database is intact. Real master and CLI processes, on SQLite and PostgreSQL.
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { client, runCli, spawnMaster } from "../helpers/processes";
import { freshPgDatabase, STORE_TARGETS } from "../helpers/stores";

const ROOT_PASSWORD = "backupRoot1!";

async function pairCounts(target: string, where: string) {
  const q = {
    users: "SELECT count(*) AS n FROM users WHERE user_id LIKE 'w%-%'",
    keys: "SELECT count(*) AS n FROM api_keys WHERE user_id LIKE 'w%-%'",
  };
  if (target === "sqlite") {
    const db = new Database(where, { readonly: true });
    try {
      const n = (s: string) => (db.query(s).get() as { n: number }).n;
      const integrity = (db.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check;
      return { users: n(q.users), keys: n(q.keys), integrity };
    } finally {
      db.close();
    }
  }
  const sql = postgres(where, { max: 1, onnotice: () => {} });
  try {
    const [u] = await sql.unsafe(q.users);
    const [k] = await sql.unsafe(q.keys);
    return { users: Number(u?.n), keys: Number(k?.n), integrity: "ok" };
  } finally {
    await sql.end();
  }
}

for (const target of STORE_TARGETS) {
  describe(`backup and restore on ${target}`, () => {
    const cleanup: (() => Promise<void> | void)[] = [];
    afterAll(async () => {
      for (const c of cleanup.reverse()) await c();
    });

    /** A fresh data dir (and PostgreSQL database) for one master, removed after the suite. */
    const freshEnv = async (prefix: string, extra: Record<string, string> = {}) => {
      const dataDir = mkdtempSync(join(tmpdir(), prefix));
      cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const pg = target === "postgres" ? await freshPgDatabase() : null;
      if (pg) cleanup.push(pg.drop);
      const env: Record<string, string> = {
        HANGAR_DATA_DIR: dataDir,
        HANGAR_ROOT_PASSWORD: ROOT_PASSWORD,
        ...extra,
        ...(pg ? { DATABASE_URL: pg.url } : {}),
      };
      return { dataDir, pg, env };
    };

    test("a backup taken during writes is consistent and restores the backed-up state", async () => {
      const { dataDir, pg, env } = await freshEnv("hangar-backup-");
      const dbWhere = pg ? pg.url : join(dataDir, "hangar.db");

      // Given a running master with some users
      let master = await spawnMaster(env);
      cleanup.push(() => void master.proc.kill());
      let api = client(master.url);
      let token = (await api("POST", "/api/auth/login", undefined, { userId: "root", password: ROOT_PASSWORD })).body
        .token;
      for (const u of ["keep-1", "keep-2", "keep-3"])
        expect(
          (await api("POST", "/api/users", token, { userId: u, password: "keepPass1!", role: "user" })).status,
        ).toBe(201);

      // When a backup is taken while another process keeps inserting pairs in transactions
      const writer = Bun.spawn(["bun", "test/helpers/pairWriter.ts", target, dbWhere], {
        stdout: "pipe",
        stderr: "inherit",
      });
      const reader = writer.stdout.getReader();
      await reader.read(); // "writing"
      await Bun.sleep(300);
      const backup = await runCli(["backup", "now"], env);
      await Bun.sleep(200);
      writer.kill("SIGTERM");
      await writer.exited;
      let rest = "";
      for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
      const written = Number(/pairs (\d+)/.exec(rest)?.[1]);
      expect(backup.code).toBe(0);
      const file = /backup written: (\S+)/.exec(backup.out)?.[1] as string;
      expect(file).toMatch(new RegExp(`/backup/jfb-\\d{8}-\\d{6}\\.${pg ? "sql" : "db"}$`));

      // Then data changes after the backup
      expect(
        (await api("POST", "/api/users", token, { userId: "after-backup", password: "keepPass1!", role: "user" }))
          .status,
      ).toBe(201);
      expect((await api("PATCH", "/api/users/keep-1", token, { active: false })).status).toBe(200);
      const live = await pairCounts(target, dbWhere);
      expect(live.users).toBe(written);

      // Restore is refused while the master runs
      const refused = await runCli(["restore", file], env);
      expect(refused.code).toBe(1);
      expect(refused.out).toContain("stop it before restoring");
      expect(await master.stop()).toBe(0);

      // PostgreSQL: restore into a fresh database; SQLite: over the data dir's file.
      const restoreEnv = { ...env };
      let restoredWhere = dbWhere;
      if (pg) {
        const fresh = await freshPgDatabase();
        cleanup.push(fresh.drop);
        restoreEnv.DATABASE_URL = fresh.url;
        restoredWhere = fresh.url;
      }
      const restored = await runCli(["restore", file], restoreEnv);
      expect(restored.out).toContain("restored");
      expect(restored.code).toBe(0);

      // The backed-up state is back: whole pairs only, integrity ok, changes after it gone
      const counts = await pairCounts(target, restoredWhere);
      expect(counts.integrity).toBe("ok");
      expect(counts.users).toBe(counts.keys);
      expect(counts.users).toBeGreaterThan(0);
      expect(counts.users).toBeLessThan(written);

      master = await spawnMaster(restoreEnv);
      api = client(master.url);
      token = (await api("POST", "/api/auth/login", undefined, { userId: "root", password: ROOT_PASSWORD })).body.token;
      expect((await api("GET", "/api/users/keep-1", token)).body.active).toBe(true);
      expect((await api("GET", "/api/users/keep-3", token)).status).toBe(200);
      expect((await api("GET", "/api/users/after-backup", token)).status).toBe(404);
      expect(await master.stop()).toBe(0);
    }, 60_000);

    test("the scheduled backup runs at HANGAR_BACKUP_CRON", async () => {
      // every 2 seconds
      const { pg, env } = await freshEnv("hangar-cron-", { HANGAR_BACKUP_CRON: "*/2 * * * * *" });
      const master = await spawnMaster(env);
      try {
        let list = "";
        for (let i = 0; i < 50 && !list.includes("jfb-"); i++) {
          await Bun.sleep(100);
          list = (await runCli(["backup", "list"], env)).out;
        }
        expect(list).toMatch(new RegExp(`jfb-\\d{8}-\\d{6}\\.${pg ? "sql" : "db"}`));
      } finally {
        await master.stop();
      }
      expect(master.output()).toContain("backup written");
    }, 30_000);

    test("backups past HANGAR_BACKUP_KEEP_DAYS are pruned, newer ones kept", async () => {
      const { dataDir, pg, env } = await freshEnv("hangar-prune-", { HANGAR_BACKUP_KEEP_DAYS: "7" });
      const master = await spawnMaster(env);
      await master.stop();
      const ext = pg ? "sql" : "db";
      const old = join(dataDir, "backup", `jfb-20200101-030000.${ext}`);
      const recent = new Date(Date.now() - 2 * 86_400_000).toISOString();
      const recentName = `jfb-${recent.slice(0, 10).replaceAll("-", "")}-030000.${ext}`;
      await Bun.write(old, "old");
      await Bun.write(join(dataDir, "backup", recentName), "recent");
      const out = await runCli(["backup", "now"], env);
      expect(out.code).toBe(0);
      expect(out.out).toContain("removed old backups: jfb-20200101-030000");
      const list = await runCli(["backup", "list"], env);
      expect(list.out).toContain(recentName);
      expect(list.out).not.toContain("jfb-20200101");
      expect(list.out.trim().split("\n").length).toBe(2);
    }, 30_000);
  });
}
