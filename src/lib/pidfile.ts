// <data>/hangar.pid marks a running master, so two masters never share a data dir and
// `hangar restore` can refuse while one runs.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dataLayout } from "./layout";

const pidFile = (dataDir: string) => dataLayout(dataDir).pidFile;

/** The pid of a live master using this data dir, or null. */
export function runningMaster(dataDir: string): number | null {
  const file = pidFile(dataDir);
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid === process.pid ? null : pid;
  } catch {
    return null;
  }
}

export function claimPidFile(dataDir: string): () => void {
  const other = runningMaster(dataDir);
  if (other !== null) throw new Error(`another Hangar master (pid ${other}) is using ${dataDir}`);
  writeFileSync(pidFile(dataDir), `${process.pid}\n`);
  return () => {
    if (runningMaster(dataDir) === null) rmSync(pidFile(dataDir), { force: true });
  };
}
