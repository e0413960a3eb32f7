// Owner-only modes for what holds secrets in the data dir: the database (and its WAL),
// backups, access logs, job logs, the SSH keys and staging. Files 0600, folders 0700, set when
// created and again at each start (for files an older master made 0644). Dataset, code and
// output folders stay as they are: jobs read and write them.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { DataLayout } from "./layout";

/** Creates `path` empty 0600 when missing; an existing file is set to 0600. */
export function ensurePrivateFile(path: string): void {
  closeSync(openSync(path, "a", 0o600));
  chmodSync(path, 0o600);
}

/** Creates `path` (and parents) when missing and sets it to 0700. */
export function ensurePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chmodSync(path, 0o700);
}

/** The folders whose content is the master's alone. */
export function privateDirs(layout: DataLayout): string[] {
  return [
    layout.accessLogs,
    layout.backups,
    layout.sshDir,
    dirname(layout.localAdminTokenFile),
    dirname(layout.jobLogDir("x")),
    layout.staging,
  ];
}

/** Sets the modes above on what exists (start-up step); `sqlite`: the store is the SQLite file. */
export function securePrivatePaths(layout: DataLayout, sqlite: boolean): void {
  for (const dir of privateDirs(layout)) ensurePrivateDir(dir);
  for (const dir of [layout.accessLogs, layout.backups])
    for (const entry of readdirSync(dir, { withFileTypes: true }))
      if (entry.isFile()) chmodSync(join(dir, entry.name), 0o600);
  if (sqlite) ensurePrivateFile(layout.sqliteFile);
  for (const file of [`${layout.sqliteFile}-wal`, `${layout.sqliteFile}-shm`, layout.pidFile])
    if (existsSync(file)) chmodSync(file, 0o600);
}
