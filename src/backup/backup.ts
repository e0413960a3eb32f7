// Database backups: <data>/backup/jfb-YYYYMMDD-hhmmss.db (SQLite, VACUUM INTO: an online,
// consistent copy) or .sql (PostgreSQL, pg_dump). Names use UTC. Restore needs the master stopped.
import { Database } from "bun:sqlite";
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import type { Config } from "../config";
import type { Clock } from "../lib/clock";
import { dataLayout } from "../lib/layout";
import { Mutex } from "../lib/mutex";
import { ensurePrivateDir } from "../lib/private";

const NAME = /^jfb-(\d{8})-(\d{6})\.(db|sql)$/;

export interface BackupFile {
  name: string;
  path: string;
  bytes: number;
  takenAt: string;
}

const backupDir = (config: Config) => dataLayout(config.dataDir).backups;

function stamp(d: Date): string {
  const iso = d.toISOString();
  return `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19).replaceAll(":", "")}`;
}

// Backups of this process run one at a time: two at once (a manual one beside the cron one)
// would pick the same name and one would delete the other's partial file.
const backups = new Mutex();

export function backupNow(config: Config, clock: Clock): Promise<BackupFile> {
  return backups.run(() => backupNowUnlocked(config, clock));
}

async function backupNowUnlocked(config: Config, clock: Clock): Promise<BackupFile> {
  const dir = backupDir(config);
  ensurePrivateDir(dir);
  const ext = config.databaseUrl ? "sql" : "db";
  // Names are per second: a second backup within the same second takes the next free second.
  let at = clock.now().getTime();
  let target = join(dir, `jfb-${stamp(new Date(at))}.${ext}`);
  while (existsSync(target)) {
    at += 1000;
    target = join(dir, `jfb-${stamp(new Date(at))}.${ext}`);
  }
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  try {
    if (config.databaseUrl) await pgDump(config.databaseUrl, partial);
    else sqliteBackup(dataLayout(config.dataDir).sqliteFile, partial);
    chmodSync(partial, 0o600);
    renameSync(partial, target);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
  return describe(target);
}

function sqliteBackup(source: string, target: string): void {
  if (!existsSync(source)) throw new Error(`no database at ${source}`);
  const db = new Database(source, { readonly: false });
  try {
    db.run("PRAGMA busy_timeout = 5000");
    db.run(`VACUUM INTO '${target.replaceAll("'", "''")}'`);
  } finally {
    db.close();
  }
}

async function run(cmd: string[], what: string): Promise<void> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`${what} failed (exit ${code}): ${err.trim()}`);
}

async function pgDump(url: string, target: string): Promise<void> {
  await run(
    ["pg_dump", "--no-owner", "--no-privileges", "--clean", "--if-exists", "--file", target, "--dbname", url],
    "pg_dump",
  );
}

function describe(path: string): BackupFile {
  const name = basename(path);
  const m = NAME.exec(name);
  const takenAt = m
    ? `${m[1]?.slice(0, 4)}-${m[1]?.slice(4, 6)}-${m[1]?.slice(6, 8)}T${m[2]?.slice(0, 2)}:${m[2]?.slice(2, 4)}:${m[2]?.slice(4, 6)}Z`
    : statSync(path).mtime.toISOString();
  return { name, path, bytes: statSync(path).size, takenAt };
}

export function listBackups(config: Config): BackupFile[] {
  const dir = backupDir(config);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => NAME.test(f))
    .sort()
    .reverse()
    .map((f) => describe(join(dir, f)));
}

/** Deletes backups taken more than `keepDays` days before now. Returns the names removed. */
/** A backup now, then the ones past HANGAR_BACKUP_KEEP_DAYS removed (CLI, API and cron). */
export async function backupAndPrune(config: Config, clock: Clock): Promise<{ file: BackupFile; removed: string[] }> {
  const file = await backupNow(config, clock);
  return { file, removed: pruneBackups(config, clock) };
}

export function pruneBackups(config: Config, clock: Clock): string[] {
  const cutoff = clock.now().getTime() - config.backupKeepDays * 86_400_000;
  const removed: string[] = [];
  for (const b of listBackups(config)) {
    if (Date.parse(b.takenAt) < cutoff) {
      rmSync(b.path, { force: true });
      removed.push(b.name);
    }
  }
  return removed;
}

/** Replaces the database with a backup. The caller makes sure the master is not running. */
export async function restore(config: Config, file: string): Promise<void> {
  if (!existsSync(file)) throw new Error(`no backup file at ${file}`);
  if (config.databaseUrl) {
    if (!file.endsWith(".sql")) throw new Error("a PostgreSQL store restores from a .sql backup");
    await run(
      [
        "psql",
        "--quiet",
        "--no-psqlrc",
        "-v",
        "ON_ERROR_STOP=1",
        "--single-transaction",
        "--file",
        file,
        "--dbname",
        config.databaseUrl,
      ],
      "psql restore",
    );
    return;
  }
  if (!file.endsWith(".db")) throw new Error("a SQLite store restores from a .db backup");
  const check = new Database(file, { readonly: true });
  try {
    const row = check.query("PRAGMA integrity_check").get() as { integrity_check: string } | null;
    if (row?.integrity_check !== "ok") throw new Error(`backup ${file} fails integrity_check: ${row?.integrity_check}`);
  } finally {
    check.close();
  }
  const target = dataLayout(config.dataDir).sqliteFile;
  mkdirSync(config.dataDir, { recursive: true });
  const staging = `${target}.restore`;
  await Bun.write(staging, Bun.file(file));
  for (const suffix of ["-wal", "-shm"]) rmSync(target + suffix, { force: true });
  renameSync(staging, target);
}
