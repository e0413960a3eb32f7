// Pure: what a `staged` worker (no shared filesystem, domain/storage.ts) needs copied, and where.
// Both sides describe a folder with the same manifest (GNU find: type, size, mtime, relative
// path per entry); a plan compares two manifests and names what has to move. Effects (find, tar
// over the node's SSH connection) are in jobs/staging.ts.
//
// On the worker, under its cache root:
//   content/<key>/         a read-only input (dataset, built-in model, served model) by content:
//                          <key> is the hash of its manifest, so a second job reuses it as is
//   content/<key>.ok       written once <key> is complete
//   latest/<source>        the key last staged from one master folder: a new version of it starts
//                          as hard links of that one, and only changed files move
//   content/<key>.ok       also the entry's last use (touched by every job that mounts it): the
//                          cache evicts unused entries, least recently used first (pickEvictions)
//   jobs/<job>/<name>/     a job's own folders: /output (copied back to the master), its /code and
//                          a read-write dataset (copies of their content folders, merged back:
//                          planMerge)
//   jobs/<job>/keys        the content keys the job mounts (never evicted while the folder is there)
import { createHash } from "node:crypto";
import type { Mount } from "../executor/spec";

export type EntryType = "f" | "d" | "l";

export interface ManifestEntry {
  type: EntryType;
  /** Bytes (files), target length (links), 0 (folders). */
  size: number;
  /** Whole seconds: what a tar header keeps. */
  mtime: number;
}

/** Relative path → entry. */
export type Manifest = Map<string, ManifestEntry>;

/** The find(1) expression printing a folder's manifest, NUL-separated (parseManifest reads it). */
export const FIND_PRINTF = "%y %s %T@ %P\\0";

/** Reads `find DIR -mindepth 1 -printf FIND_PRINTF` output; other entry kinds are left out. */
export function parseManifest(out: string): Manifest {
  const m: Manifest = new Map();
  for (const rec of out.split("\0")) {
    const a = rec.indexOf(" ");
    const b = rec.indexOf(" ", a + 1);
    const c = rec.indexOf(" ", b + 1);
    if (a < 0 || b < 0 || c < 0) continue;
    const type = rec.slice(0, a);
    const path = rec.slice(c + 1);
    if ((type !== "f" && type !== "d" && type !== "l") || !path) continue;
    m.set(path, {
      type,
      size: type === "d" ? 0 : Number(rec.slice(a + 1, b)),
      // The whole seconds as printed: Number() of "…1.9999999990" would round up a second.
      mtime: type === "d" ? 0 : Number(rec.slice(b + 1, c).split(".")[0]),
    });
  }
  return m;
}

/** The content key of a folder: a hash of its manifest (paths, kinds, sizes, mtimes). */
export function contentKey(m: Manifest): string {
  const h = createHash("sha256");
  for (const path of [...m.keys()].sort()) {
    const e = m.get(path) as ManifestEntry;
    h.update(`${e.type} ${e.size} ${e.mtime} ${path}\0`);
  }
  return h.digest("hex").slice(0, 32);
}

export interface TransferPlan {
  /** Entries to send, parents before children (tar --no-recursion list). */
  send: string[];
  /** Entries to delete at the destination first (gone at the source, or of another kind). */
  remove: string[];
  /** File bytes the send moves. */
  bytes: number;
  files: number;
  /** Files already there as they are. */
  reused: number;
}

/** Two entries hold the same: kind, and size and whole-second mtime (links: their target's length only, as not every tar restores a link's own mtime). */
export const sameEntry = (a: ManifestEntry, b: ManifestEntry) =>
  a.type === b.type && (a.type === "d" || (a.size === b.size && (a.type === "l" || a.mtime === b.mtime)));

/**
 * What makes `dst` hold what `src` holds: entries that are missing or differ move; with
 * `prune`, entries only `dst` has are removed (a staged input), without it they stay (output
 * copied back next to what the master already has).
 */
export function planTransfer(src: Manifest, dst: Manifest, prune: boolean): TransferPlan {
  const plan: TransferPlan = { send: [], remove: [], bytes: 0, files: 0, reused: 0 };
  for (const path of [...src.keys()].sort()) {
    const e = src.get(path) as ManifestEntry;
    const there = dst.get(path);
    if (there && sameEntry(e, there)) {
      if (e.type === "f") plan.reused++;
      continue;
    }
    if (there && there.type !== e.type) plan.remove.push(path);
    plan.send.push(path);
    if (e.type === "f") {
      plan.bytes += e.size;
      plan.files++;
    }
  }
  if (prune) {
    for (const path of [...dst.keys()].sort()) {
      if (src.has(path)) continue;
      // A removed folder takes its contents along.
      const parent = plan.remove.find((r) => path.startsWith(`${r}/`));
      if (!parent) plan.remove.push(path);
    }
  }
  return plan;
}

/** The cache layout on a staged worker (see the top of this file). */
export function stagePaths(root: string) {
  const base = root.replace(/\/+$/, "");
  return {
    content: (key: string) => `${base}/content/${key}`,
    latest: (source: string) => `${base}/latest/${source}`,
    job: (jobId: string) => `${base}/jobs/${jobId}`,
    jobMount: (jobId: string, target: string) => `${base}/jobs/${jobId}/${mountName(target)}`,
  };
}

/** A mount's folder name under the job's staging folder: its target's last part (/output → output). */
export const mountName = (target: string) => target.replace(/\/+$/, "").split("/").pop() || "root";

/** The id of a master folder in `latest/`: the hash of its path. */
export const sourceId = (masterPath: string) => createHash("sha256").update(masterPath).digest("hex").slice(0, 24);

/** A manifest as find prints it (parseManifest reads it back): the base of a merge, kept on the master. */
export function formatManifest(m: Manifest): string {
  let out = "";
  for (const [path, e] of m) out += `${e.type} ${e.size} ${e.mtime} ${path}\0`;
  return out;
}

/** Where the node's version of a file that both sides changed goes: `nb.ipynb` → `nb.from-<job>.ipynb`. */
export function besideName(path: string, jobId: string): string {
  const slash = path.lastIndexOf("/");
  const dir = path.slice(0, slash + 1);
  const name = path.slice(slash + 1);
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return `${dir}${name}.from-${jobId}`;
  return `${dir}${name.slice(0, dot)}.from-${jobId}${name.slice(dot)}`;
}

export interface MergeItem {
  /** The entry on the node. */
  path: string;
  /** Where it goes on the master: its own path, or (both sides changed it) the beside name, or inside one. */
  dest: string;
  type: EntryType;
  /** Both sides changed it: the master's stays, the node's goes beside it (logged). */
  conflict: boolean;
}

export interface MergePlan {
  /** Node entries to fetch (files and links; folders are made), parents first. */
  fetch: string[];
  /** What goes on the master, parents first. */
  bring: MergeItem[];
  /** Deleted by the job while the master still holds the staged version: deleted there too, children first. */
  remove: string[];
  bytes: number;
  files: number;
}

/**
 * How a read-write input (/code, a read-write dataset) the job changed on a staged node comes
 * back: a three-way comparison of `base` (what the node got at staging, or what the last merge
 * left), `node` (its copy now) and `master` (the master's folder now). Only what the job
 * changed moves. Where the master's entry is still the base version (or both lack it) the
 * node's replaces it; where both changed it the master's stays and the node's goes beside it
 * (besideName; a folder's whole subtree goes under the beside name). An entry the job deleted
 * is deleted on the master only when the master's is still the base version.
 */
export function planMerge(base: Manifest, node: Manifest, master: Manifest, jobId: string): MergePlan {
  const plan: MergePlan = { fetch: [], bring: [], remove: [], bytes: 0, files: 0 };
  // Node folders that went under another name, and that name.
  const moved = new Map<string, string>();
  const movedUnder = (path: string): string | null => {
    for (let i = path.lastIndexOf("/"); i > 0; i = path.lastIndexOf("/", i - 1)) {
      const to = moved.get(path.slice(0, i));
      if (to !== undefined) return to + path.slice(i);
    }
    return null;
  };
  const add = (path: string, e: ManifestEntry, dest: string, conflict: boolean) => {
    plan.bring.push({ path, dest, type: e.type, conflict });
    if (e.type === "d") {
      if (dest !== path) moved.set(path, dest);
      return;
    }
    plan.fetch.push(path);
    if (e.type === "f") {
      plan.files++;
      plan.bytes += e.size;
    }
  };
  for (const path of [...node.keys()].sort()) {
    const e = node.get(path) as ManifestEntry;
    const under = movedUnder(path);
    if (under !== null) {
      add(path, e, under, false);
      continue;
    }
    const b = base.get(path);
    if (b && sameEntry(e, b)) continue; // the job left it as it was
    const m = master.get(path);
    if (m && sameEntry(m, e)) continue; // the master holds it already
    const masterAsBase = b ? m !== undefined && sameEntry(m, b) : m === undefined;
    if (masterAsBase) add(path, e, path, false);
    else add(path, e, besideName(path, jobId), true);
  }
  for (const path of [...base.keys()].sort().reverse()) {
    if (node.has(path)) continue;
    const m = master.get(path);
    if (m && sameEntry(m, base.get(path) as ManifestEntry)) plan.remove.push(path);
  }
  return plan;
}

/** A content entry in a staged node's cache, as the eviction sees it. */
export interface CacheEntry {
  key: string;
  bytes: number;
  /** Epoch seconds of its last use (when a job last mounted it). */
  lastUsed: number;
  /** A job folder on the node names it (a running or starting job, or one not cleaned up yet). */
  inUse: boolean;
}

/**
 * The cache entries to evict: those no job uses, least recently used first, while the cache
 * holds more than `maxBytes`, and every one unused for longer than `maxIdleSeconds`.
 */
export function pickEvictions(
  entries: readonly CacheEntry[],
  now: number,
  limits: { maxBytes: number; maxIdleSeconds: number },
): string[] {
  let total = entries.reduce((n, e) => n + e.bytes, 0);
  const out: string[] = [];
  const idle = entries.filter((e) => !e.inUse).sort((a, b) => a.lastUsed - b.lastUsed || (a.key < b.key ? -1 : 1));
  for (const e of idle) {
    if (total <= limits.maxBytes && now - e.lastUsed <= limits.maxIdleSeconds) continue;
    out.push(e.key);
    total -= e.bytes;
  }
  return out;
}

/** How the container's folders come back: /output as it is, read-write inputs merged (planMerge). */
export function comesBack(m: Mount, outputTarget: string): "output" | "merge" | null {
  if (m.target === outputTarget) return "output";
  return m.readOnly ? null : "merge";
}

/**
 * Where a staged node holds a mount: /output in the job's folder; a read-only input in the
 * content cache under its key; a read-write input (code, read-write dataset) in the job's folder.
 */
export function stagedSource(m: Mount, root: string, jobId: string, key: string | undefined, output: string): string {
  const p = stagePaths(root);
  if (m.target === output || !m.readOnly || !key) return p.jobMount(jobId, m.target);
  return p.content(key);
}

/** Seconds to wait before retry `attempt` (1, 2, …) of a failed copy back: doubling, at most `cap`. */
export function retryDelay(attempt: number, cap = 30): number {
  return Math.min(cap, 2 ** Math.max(0, attempt - 1));
}
