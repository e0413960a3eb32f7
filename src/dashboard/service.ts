// The admin Dashboard's counts, from the store, the live GPU counts and the data directory.
import { lstat, readdir, statfs } from "node:fs/promises";
import { join } from "node:path";
import { count, inArray } from "drizzle-orm";
import { listBackups } from "../backup/backup";
import type { Deps } from "../deps";
import { deploymentPool } from "../scheduler/types";
import { statusOf } from "../workspaces/access";
import type { Dashboard } from "./model";

/** Bytes of the files under `dir` (links not followed, unreadable parts skipped). */
export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names) {
    const p = join(dir, n);
    const st = await lstat(p).catch(() => null);
    if (!st) continue;
    if (st.isDirectory()) total += await dirBytes(p);
    else if (st.isFile()) total += st.size;
  }
  return total;
}

const STORAGE_TTL_MS = 60_000;
const measured = new Map<string, { at: number; value: Promise<Dashboard["storage"]> }>();

/** The data directory's size and its disk's, measured at most once a minute (a walk of every file). */
function storage(deps: Deps): Promise<Dashboard["storage"]> {
  const dir = deps.config.dataDir;
  const now = Date.now();
  const hit = measured.get(dir);
  if (hit && now - hit.at < STORAGE_TTL_MS) return hit.value;
  const value = (async () => {
    const [bytes, fs] = await Promise.all([dirBytes(dir), statfs(dir).catch(() => null)]);
    return {
      dataDirBytes: bytes,
      diskTotalBytes: fs ? fs.blocks * fs.bsize : null,
      diskFreeBytes: fs ? fs.bavail * fs.bsize : null,
      measuredAt: deps.clock.now().toISOString(),
    };
  })();
  measured.set(dir, { at: now, value });
  value.catch(() => measured.delete(dir));
  return value;
}

export async function dashboard(deps: Deps): Promise<Dashboard> {
  const { store } = deps;
  const [nodes, workspaces, jobCounts, disk] = await Promise.all([
    store.db.select().from(store.t.nodes),
    store.db.select().from(store.t.workspaces),
    store.db
      .select({ status: store.t.jobs.status, n: count() })
      .from(store.t.jobs)
      .where(inArray(store.t.jobs.status, ["pending", "starting", "running"]))
      .groupBy(store.t.jobs.status),
    storage(deps),
  ]);
  const jobsIn = (s: string) => Number(jobCounts.find((r) => r.status === s)?.n ?? 0);
  const errors = nodes.filter((n) => n.status === "error");
  const training = workspaces.reduce((a, w) => a + deps.gpuUsage.ofPool(w.name), 0);
  const deployment = workspaces.reduce((a, w) => a + deps.gpuUsage.ofPool(deploymentPool(w.name)), 0);
  const backups = listBackups(deps.config);
  const last = backups.reduce<(typeof backups)[number] | null>((a, b) => (!a || b.takenAt > a.takenAt ? b : a), null);
  return {
    nodes: {
      total: nodes.length,
      attached: nodes.filter((n) => n.status === "attached").length,
      error: errors.length,
      errors: errors.map((n) => ({ name: n.name, message: n.statusMessage })),
    },
    gpus: {
      total: nodes.reduce((a, n) => a + n.gpus.length, 0),
      inUse: nodes.reduce((a, n) => a + deps.gpuUsage.onNode(n.id), 0),
      training,
      deployment,
    },
    workspaces: {
      total: workspaces.length,
      active: workspaces.filter((w) => statusOf(deps, w) === "active").length,
    },
    jobs: { running: jobsIn("starting") + jobsIn("running"), pending: jobsIn("pending") },
    storage: disk,
    backups: {
      count: backups.length,
      bytes: backups.reduce((a, b) => a + b.bytes, 0),
      last: last ? { name: last.name, takenAt: last.takenAt, bytes: last.bytes } : null,
    },
  };
}
