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
//   jobs/<job>/<name>/     a job's own folders: /output (copied back to the master), its /code and
//                          a read-write dataset (copies of their content folders)
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

// Links: their target's length only (not every tar restores a link's own mtime).
const same = (a: ManifestEntry, b: ManifestEntry) =>
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
    if (there && same(e, there)) {
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

/** How the container's folders come back: only /output (other read-write copies stay on the node). */
export const comesBack = (m: Mount, outputTarget: string) => m.target === outputTarget;

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
