// Copies back: /output, /code and read-write datasets come home from a staged node while a job
// runs and completely when it ends; changes to inputs are merged (planMerge).
import { lstatSync, type Stats } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { eq } from "drizzle-orm";
import type { Deps } from "../../deps";
import {
  besideName,
  comesBack,
  type EntryType,
  formatManifest,
  type Manifest,
  type ManifestEntry,
  type MergeItem,
  mountName,
  parseManifest,
  planMerge,
  planTransfer,
  retryDelay,
  sameEntry,
  stagePaths,
} from "../../domain/staging";
import { engineMessage } from "../../executor/port";
import { type ConfinedDir, withDir } from "../../lib/confinedFs";
import { dataLayout } from "../../lib/layout";
import { jobMounts, MOUNT_POINTS, type MountSources, shellQuote } from "../spec";
import { type JobRow, setWaitingReason } from "../transitions";
import { trimCache } from "./cache";
import { type StagedNode, serialized, stagedNode, state } from "./state";
import { fetchTar, localManifest, nodeManifest } from "./transfer";

interface Copy {
  node: StagedNode;
  /** /output comes back as it is; a read-write input is merged (planMerge). */
  kind: "output" | "merge";
  target: string;
  nodeDir: string;
  masterDir: string;
}

/** What comes back from the job's folder on `node`: /output first, then its read-write inputs. */
export function copiesOn(deps: Deps, jobId: string, node: StagedNode, sources: MountSources): Copy[] {
  const p = stagePaths(deps.config.stageCacheDir);
  const out: Copy[] = [];
  for (const m of jobMounts(dataLayout(deps.config.dataDir), sources)) {
    const kind = comesBack(m, MOUNT_POINTS.output);
    if (kind) out.push({ node, kind, target: m.target, nodeDir: p.jobMount(jobId, m.target), masterDir: m.source });
  }
  return out.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === "output" ? -1 : 1));
}

/** The job's copies on every staged node it runs on. */
async function copiesOf(deps: Deps, job: JobRow, sources: () => Promise<MountSources>): Promise<Copy[]> {
  const out: Copy[] = [];
  let s: MountSources | null = null;
  for (const nodeId of new Set(job.assignments.map((a) => a.nodeId))) {
    const node = await stagedNode(deps, nodeId);
    if (!node) continue;
    s ??= await sources();
    out.push(...copiesOn(deps, job.id, node, s));
  }
  return out;
}

interface Moved {
  files: number;
  bytes: number;
  removed: number;
}

/** One copy back of what differs; with `verify`, repeated until nothing differs (at most 3 rounds). */
export async function pullOutput(deps: Deps, c: Copy, verify: boolean): Promise<Moved> {
  const total = { files: 0, bytes: 0, removed: 0 };
  for (let round = 0; round < 3; round++) {
    const plan = planTransfer(
      await nodeManifest(deps, c.node.address, c.nodeDir),
      await localManifest(c.masterDir),
      false,
    );
    if (plan.send.length === 0) return total;
    await fetchTar(deps, c.node.address, c.nodeDir, c.masterDir, plan.send);
    total.files += plan.files;
    total.bytes += plan.bytes;
    if (!verify) return total;
  }
  throw new Error(`${c.nodeDir} on the node still differs from the master's copy after 3 rounds`);
}

export const baseFile = (deps: Deps, jobId: string, nodeId: string, target: string) =>
  dataLayout(deps.config.dataDir).jobStageBase(jobId, nodeId, mountName(target));

/** Keeps what a node holds of a read-write input as the base of the next merge (written whole, then renamed). */
export async function writeBase(file: string, m: Manifest): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, formatManifest(m));
  await rename(tmp, file);
}

/** The job's folder on the node is gone: so are the bases of its merges. */
export const forgetBases = (deps: Deps, jobId: string, nodeId: string) =>
  rm(dirname(baseFile(deps, jobId, nodeId, "/x")), { recursive: true, force: true });

async function readBase(file: string): Promise<Manifest> {
  try {
    return parseManifest(await readFile(file, "utf8"));
  } catch {
    // No base (a job staged before merges existed): every difference counts as the job's change.
    return new Map();
  }
}

/** lstat of `rel` under `dir`, or null when nothing is there (or a link is in the way). */
function lstatAt(dir: ConfinedDir, rel: string): Stats | null {
  try {
    return dir.lstat(rel);
  } catch {
    return null;
  }
}

/** A manifest entry as lstat describes it now. */
function entryOf(st: Stats): ManifestEntry | null {
  const type: EntryType | null = st.isFile() ? "f" : st.isDirectory() ? "d" : st.isSymbolicLink() ? "l" : null;
  if (!type) return null;
  return type === "d" ? { type, size: 0, mtime: 0 } : { type, size: st.size, mtime: Math.floor(st.mtimeMs / 1000) };
}

const sameOrBothMissing = (a: ManifestEntry | null | undefined, b: ManifestEntry | null | undefined) =>
  !a || !b ? !a && !b : sameEntry(a, b);

/** The entry at `rel` under `dir` now, or null. */
function entryAt(dir: ConfinedDir, rel: string): ManifestEntry | null {
  const st = lstatAt(dir, rel);
  return st && entryOf(st);
}

/**
 * Merges the node's copy of a read-write input into the master's folder (planMerge): the node's
 * changed entries are fetched into the master's tmp/ and moved in without following any link
 * (lib/confinedFs), each checked again right before it moves; both-changed entries go beside
 * (logged). The node's manifest becomes the next base.
 */
export async function mergeBack(deps: Deps, jobId: string, c: Copy, say: (line: string) => void): Promise<Moved> {
  const file = baseFile(deps, jobId, c.node.id, c.target);
  const base = await readBase(file);
  const onNode = await nodeManifest(deps, c.node.address, c.nodeDir);
  const master = await localManifest(c.masterDir);
  const plan = planMerge(base, onNode, master, jobId);
  const next = new Map(onNode);
  let removed = 0;
  if (plan.bring.length || plan.remove.length) {
    const staging = dataLayout(deps.config.dataDir).staging;
    await mkdir(staging, { recursive: true });
    const tmp = await mkdtemp(join(staging, `merge-${jobId}-`));
    try {
      if (plan.fetch.length) await fetchTar(deps, c.node.address, c.nodeDir, tmp, plan.fetch);
      await mkdir(c.masterDir, { recursive: true });
      withDir(c.masterDir, (dir) => {
        for (const path of plan.remove) {
          const st = lstatAt(dir, path);
          const now = st && entryOf(st);
          if (!st || !now || !sameOrBothMissing(now, master.get(path))) continue;
          try {
            if (st.isDirectory()) dir.rmdir(path);
            else dir.unlink(path);
            removed++;
          } catch {
            // Not empty (the master added something), or changed meanwhile: it stays.
          }
        }
        // Folders that went under another name than planned (keyed by the planned one).
        const renamed = new Map<string, string>();
        const remap = (dest: string) => {
          for (let i = dest.lastIndexOf("/"); i > 0; i = dest.lastIndexOf("/", i - 1)) {
            const to = renamed.get(dest.slice(0, i));
            if (to !== undefined) return to + dest.slice(i);
          }
          return dest;
        };
        for (const item of plan.bring) {
          let dest = remap(item.dest);
          let conflicted = item.conflict;
          // The master's entry changed since the plan looked: the node's goes beside it.
          if (dest === item.path && !sameOrBothMissing(entryAt(dir, dest), master.get(item.path))) {
            dest = besideName(item.path, jobId);
            conflicted = true;
          }
          // What the master gets: the next base (read before it moves in).
          const got = item.type === "d" ? null : entryOf(lstatSync(join(tmp, item.path)));
          let placed = place(dir, tmp, item, dest);
          if (!placed && !conflicted) {
            dest = besideName(item.path, jobId);
            conflicted = true;
            placed = place(dir, tmp, item, dest);
          }
          if (!placed) {
            say(
              `${c.target}/${item.path} from node ${c.node.name} could not be put on the master (something is in the way)`,
            );
            const was = base.get(item.path);
            if (was) next.set(item.path, was);
            else next.delete(item.path);
            continue;
          }
          if (item.type === "d" && dest !== item.dest) renamed.set(item.dest, dest);
          if (conflicted)
            say(
              `${c.target}/${item.path} changed on the master and on node ${c.node.name}: the master's stays, the node's is kept as ${c.target}/${dest}`,
            );
          if (got) next.set(item.path, got);
        }
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  if (formatManifest(next) !== formatManifest(base)) await writeBase(file, next);
  return { files: plan.files, bytes: plan.bytes, removed };
}

/**
 * Puts one merged entry at `dest` in the master's folder without following a link: a folder is
 * made, a file or link moved in from `tmp` (replacing a file, or an empty folder). False when
 * something is in the way.
 */
function place(dir: ConfinedDir, tmp: string, item: MergeItem, dest: string): boolean {
  try {
    const slash = dest.lastIndexOf("/");
    if (slash > 0) dir.mkdirp(dest.slice(0, slash)).close();
    const there = lstatAt(dir, dest);
    if (item.type === "d") {
      if (there?.isDirectory()) return true;
      if (there) dir.unlink(dest);
      dir.mkdir(dest);
      return true;
    }
    if (there?.isDirectory()) dir.rmdir(dest);
    dir.moveIn(join(tmp, item.path), dest);
    return true;
  } catch {
    return false;
  }
}

/**
 * A running job's /output and read-write inputs come back from its staged nodes (the periodic
 * round of STAGE_SYNC_TIMER). Failures wait for the next round; the end of the job retries until done.
 */
export async function syncRunningOutput(deps: Deps, job: JobRow, sources: () => Promise<MountSources>): Promise<void> {
  const say = (line: string) => deps.logs.append(job.id, `[hangar] ${line}\n`);
  for (const c of await copiesOf(deps, job, sources)) {
    await serialized(state(deps).pulls, job.id, () =>
      c.kind === "output" ? pullOutput(deps, c, false) : mergeBack(deps, job.id, c, say),
    ).catch((err: unknown) =>
      deps.logger.warn(`copying a running job's ${c.target} back failed`, {
        job: job.id,
        node: c.node.name,
        err: engineMessage(err),
      }),
    );
  }
}

export const movedText = (c: Copy, m: Moved) =>
  `${m.files} files, ${m.bytes} bytes${c.kind === "merge" ? `, ${m.removed} deleted` : ""}`;

/**
 * The end of a job with folders on staged nodes: its /output and read-write inputs come back
 * completely before its final state is written. A failed copy is retried (doubling waits, at
 * most 30 s) for as long as the job is still `running`; each failure shows as the job's reason
 * and in its log. Then the node's job folder is removed and its cache trimmed. Returns false
 * when the job left `running` meanwhile.
 */
export async function finishOutput(
  deps: Deps,
  job: JobRow,
  sources: () => Promise<MountSources>,
  exitReason: string,
  options: { retryCapSeconds?: number } = {},
): Promise<boolean> {
  const copies = await copiesOf(deps, job, sources);
  const say = (line: string) => deps.logs.append(job.id, `[hangar] ${line}\n`);
  for (const c of copies) {
    const where = `node ${c.node.name}`;
    await setWaitingReason(deps, job.id, `${exitReason}; copying ${c.target} back from ${where}`, { code: "running" });
    for (let attempt = 1; ; attempt++) {
      try {
        const moved = await serialized(state(deps).pulls, job.id, () =>
          c.kind === "output" ? pullOutput(deps, c, true) : mergeBack(deps, job.id, c, say),
        );
        say(`${c.target} copied back from ${where}: ${movedText(c, moved)}`);
        break;
      } catch (err) {
        const wait = retryDelay(attempt, options.retryCapSeconds);
        const reason = `${exitReason}; copying ${c.target} back from ${where} failed (attempt ${attempt}): ${engineMessage(err)}; retrying in ${wait} s`;
        say(reason);
        await setWaitingReason(deps, job.id, reason, { code: "running" });
        await Bun.sleep(wait * 1000);
        const [now] = await deps.store.db
          .select({ status: deps.store.t.jobs.status })
          .from(deps.store.t.jobs)
          .where(eq(deps.store.t.jobs.id, job.id));
        if (now?.status !== "running") return false;
      }
    }
  }
  for (const node of new Map(copies.map((c) => [c.node.id, c.node])).values()) {
    await deps.nodes
      .run(node.address, `rm -rf ${shellQuote(stagePaths(deps.config.stageCacheDir).job(job.id))}`)
      .then(() => forgetBases(deps, job.id, node.id))
      .catch(() => {});
    void trimCache(deps, node).catch((err: unknown) =>
      deps.logger.warn("trimming a staged node's cache failed", { node: node.name, err: engineMessage(err) }),
    );
  }
  return true;
}
