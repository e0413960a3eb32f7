// Effects of `staged` storage (a worker without the master's filesystem; plan and cache layout
// in domain/staging.ts): before a job starts there, the master copies what it mounts into the
// node's cache over the node's one SSH connection — one tar stream per folder, only the entries
// the node lacks — and while it runs and when it ends, its /output comes back the same way, until
// the master's copy holds everything, and what it changed in /code or a read-write dataset is
// merged back (planMerge). Jobs' folders on the master stay the one place SFTP and downloads
// read. The periodic round also brings back and removes job folders left on a node (a job lost
// while the node was away) and trims the node's cache.
import { type ChildProcess, spawn } from "node:child_process";
import { lstatSync, type Stats } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { eq } from "drizzle-orm";
import type { Deps } from "../deps";
import {
  besideName,
  comesBack,
  contentKey,
  type EntryType,
  FIND_PRINTF,
  formatManifest,
  type Manifest,
  type ManifestEntry,
  type MergeItem,
  mountName,
  parseManifest,
  pickEvictions,
  planMerge,
  planTransfer,
  retryDelay,
  sameEntry,
  sourceId,
  stagePaths,
  type TransferPlan,
} from "../domain/staging";
import { engineMessage } from "../executor/port";
import { JOB_LABEL, type Mount } from "../executor/spec";
import { type ConfinedDir, withDir } from "../lib/confinedFs";
import { dataLayout } from "../lib/layout";
import type { NodeAddress } from "../nodes/manager";
import { toAddress as nodeAddress, nodeExecutor } from "../nodes/service";
import { jobMounts, MOUNT_POINTS, type MountSources, shellQuote } from "./spec";
import { type JobRow, setWaitingReason } from "./transitions";

/** What staging one folder moved (the job log says it; tests and the benchmark read it). */
export interface StageStat {
  target: string;
  node: string;
  /** Files and bytes sent over the connection. */
  files: number;
  bytes: number;
  /** Files the node already held. */
  reused: number;
  /** The whole folder was in the node's cache already (nothing was sent). */
  cached: boolean;
  seconds: number;
}

interface State {
  /** One staging of a content key per node at a time. */
  locks: Map<string, Promise<unknown>>;
  /** One copy back per job at a time. */
  pulls: Map<string, Promise<unknown>>;
  stats: Map<string, StageStat[]>;
  /** Stagings in flight per node: its cache is not trimmed meanwhile. */
  staging: Map<string, number>;
  /** A trim of a node's cache in flight: stagings there wait for it. */
  evicting: Map<string, Promise<string[]>>;
  /** When each node's cache was last trimmed (epoch ms). */
  trimmed: Map<string, number>;
}
const states = new WeakMap<Deps, State>();
function state(deps: Deps): State {
  let s = states.get(deps);
  if (!s) {
    s = {
      locks: new Map(),
      pulls: new Map(),
      stats: new Map(),
      staging: new Map(),
      evicting: new Map(),
      trimmed: new Map(),
    };
    states.set(deps, s);
  }
  return s;
}

/** Runs `fn` after every earlier holder of `key` in `map` is done. */
async function serialized<T>(map: Map<string, Promise<unknown>>, key: string, fn: () => Promise<T>): Promise<T> {
  const before = map.get(key) ?? Promise.resolve();
  const run = before.catch(() => {}).then(fn);
  const tail = run.catch(() => {});
  map.set(key, tail);
  try {
    return await run;
  } finally {
    if (map.get(key) === tail) map.delete(key);
  }
}

/** What staging recorded for a job, in order. */
export function stagingStats(deps: Deps, jobId: string): StageStat[] {
  return state(deps).stats.get(jobId) ?? [];
}

interface StagedNode {
  id: string;
  address: NodeAddress;
  name: string;
}

/** The node, when it is `staged` (jobs there need copies), else null. */
async function stagedNode(deps: Deps, nodeId: string): Promise<StagedNode | null> {
  const [row] = await deps.store.db.select().from(deps.store.t.nodes).where(eq(deps.store.t.nodes.id, nodeId));
  if (row?.storage !== "staged") return null;
  return { id: row.id, address: nodeAddress(row), name: row.name };
}

// ---------------------------------------------------------------- manifests and tar streams

/** A folder's manifest on the master (missing: empty). */
async function localManifest(dir: string): Promise<Manifest> {
  const p = spawn("find", [dir, "-mindepth", "1", "-printf", FIND_PRINTF], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const out: Buffer[] = [];
  p.stdout?.on("data", (d: Buffer) => out.push(d));
  await exited(p);
  return parseManifest(Buffer.concat(out).toString("utf8"));
}

const findScript = (dir: string) =>
  `if [ -d ${shellQuote(dir)} ]; then find ${shellQuote(dir)} -mindepth 1 -printf '${FIND_PRINTF}'; fi`;

async function nodeManifest(deps: Deps, address: NodeAddress, dir: string): Promise<Manifest> {
  const out = await deps.nodes.run(address, findScript(dir), 300_000);
  if (out.code !== 0) throw new Error(`listing ${dir}: ${out.output.trim() || `exit ${out.code}`}`);
  return parseManifest(out.output);
}

function exited(p: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    p.once("error", reject);
    p.once("close", (code) => resolve(code ?? 255));
  });
}

/**
 * Copies `from` into `to` with backpressure and ends it at the end (stream.pipe between an SSH
 * channel and a child's stdin does not always start flowing under Bun).
 */
function flow(from: Readable, to: Writable): void {
  from.on("data", (d: Buffer) => {
    if (!to.write(d)) {
      from.pause();
      to.once("drain", () => from.resume());
    }
  });
  from.once("end", () => to.end());
}

const nul = (names: string[]) => Buffer.from(`${names.join("\0")}\0`);

async function runOn(deps: Deps, address: NodeAddress, script: string, what: string): Promise<string> {
  const out = await deps.nodes.run(address, script, 300_000);
  if (out.code !== 0) throw new Error(`${what}: ${out.output.trim() || `exit ${out.code}`}`);
  return out.output;
}

/** Sends `names` (relative to `from` on the master) into `to` on the node: one tar stream. */
async function sendTar(deps: Deps, address: NodeAddress, from: string, to: string, names: string[]): Promise<void> {
  const remote = await deps.nodes.stream(
    address,
    `mkdir -p ${shellQuote(to)} && exec tar -C ${shellQuote(to)} -xUBf - --no-same-owner`,
  );
  // 1 MiB records: fewer, larger writes into the channel.
  const tar = spawn("tar", ["-C", from, "-b", "2048", "--no-recursion", "--null", "-T", "-", "-cf", "-"], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const errs: Buffer[] = [];
  tar.stderr?.on("data", (d: Buffer) => errs.push(d));
  tar.stdin?.end(nul(names));
  flow(tar.stdout as Readable, remote.stream);
  // The channel closes only once its output is read too.
  remote.stream.resume();
  remote.stream.on("error", () => tar.kill());
  tar.stdout?.on("error", () => {});
  const [code, far] = await Promise.all([
    exited(tar),
    remote.done.catch((err: unknown) => {
      tar.kill();
      throw err;
    }),
  ]);
  if (far.code !== 0) throw new Error(`unpacking on the node: ${far.stderr || `tar exit ${far.code}`}`);
  // 1: a file changed while it was read (it moves again next time); more: a real failure.
  if (code > 1) throw new Error(`packing ${from}: ${Buffer.concat(errs).toString().trim() || `tar exit ${code}`}`);
}

/** Fetches `names` (relative to `from` on the node) into `to` on the master: one tar stream. */
async function fetchTar(deps: Deps, address: NodeAddress, from: string, to: string, names: string[]): Promise<void> {
  await mkdir(to, { recursive: true });
  const remote = await deps.nodes.stream(address, `exec tar -C ${shellQuote(from)} --no-recursion --null -T - -cf -`);
  const tar = spawn("tar", ["-C", to, "-xf", "-", "--no-same-owner"], { stdio: ["pipe", "ignore", "pipe"] });
  const errs: Buffer[] = [];
  tar.stderr?.on("data", (d: Buffer) => errs.push(d));
  tar.stdin?.on("error", () => {});
  remote.stream.on("error", () => tar.kill());
  flow(remote.stream, tar.stdin as Writable);
  remote.stream.end(nul(names));
  const [code, far] = await Promise.all([
    exited(tar),
    remote.done.catch((err: unknown) => {
      tar.kill();
      throw err;
    }),
  ]);
  if (far.code > 1) throw new Error(`packing ${from} on the node: ${far.stderr || `tar exit ${far.code}`}`);
  if (code !== 0)
    throw new Error(`unpacking into ${to}: ${Buffer.concat(errs).toString().trim() || `tar exit ${code}`}`);
}

// ---------------------------------------------------------------- staging in

const MISS = "@@hangar:stage:miss@@";

/**
 * Makes the node's content cache hold master folder `dir`: nothing moves when its key is there;
 * else a new version starts from the last one staged from the same folder (hard links) and only
 * the entries that differ are sent.
 */
async function stageContent(
  deps: Deps,
  address: NodeAddress,
  dir: string,
  manifest: Manifest,
): Promise<{ key: string; plan: TransferPlan | null }> {
  const root = deps.config.stageCacheDir;
  const p = stagePaths(root);
  const key = contentKey(manifest);
  return serialized(state(deps).locks, `${address.id}:${key}`, async () => {
    const final = shellQuote(p.content(key));
    const tmp = shellQuote(`${p.content(key)}.tmp`);
    const latest = shellQuote(p.latest(sourceId(dir)));
    const prepared = await runOn(
      deps,
      address,
      [
        `mkdir -p ${shellQuote(`${root}/content`)} ${shellQuote(`${root}/latest`)} || exit 1`,
        `if [ -e ${final}.ok ]; then exit 0; fi`,
        `rm -rf ${tmp} ${final} || exit 1`,
        `seed=$(cat ${latest} 2>/dev/null)`,
        `case "$seed" in *[!0-9a-f]*|"") seed= ;; esac`,
        `if [ -n "$seed" ] && [ -e ${shellQuote(`${root}/content/`)}"$seed.ok" ]; then cp -al ${shellQuote(`${root}/content/`)}"$seed" ${tmp} || exit 1; else mkdir -p ${tmp} || exit 1; fi`,
        `echo '${MISS}'`,
        `find ${tmp} -mindepth 1 -printf '${FIND_PRINTF}'`,
      ].join("\n"),
      `preparing the cache on the node`,
    );
    const at = prepared.indexOf(MISS);
    if (at < 0) return { key, plan: null };
    const there = parseManifest(prepared.slice(at + MISS.length + 1));
    const plan = planTransfer(manifest, there, true);
    if (plan.remove.length) {
      const rm = await deps.nodes.stream(address, `cd ${tmp} && xargs -0 rm -rf --`);
      rm.stream.end(nul(plan.remove));
      rm.stream.resume();
      const done = await rm.done;
      if (done.code !== 0) throw new Error(`removing old entries on the node: ${done.stderr || done.code}`);
    }
    if (plan.send.length) await sendTar(deps, address, dir, `${p.content(key)}.tmp`, plan.send);
    await runOn(
      deps,
      address,
      `mv ${tmp} ${final} && touch ${final}.ok && printf '%s\\n' '${key}' >${latest}`,
      "finishing the cache on the node",
    );
    return { key, plan };
  });
}

/**
 * The job's mounts as its container on `nodeId` sees them: the master's folders on a shared node
 * (as jobMounts gives them); on a `staged` node each folder is first copied to the node's cache
 * (read-only inputs by content, shared by jobs; read-write inputs copied for the job; /output an
 * empty folder of the job) and the mounts name those copies.
 */
export async function stageMounts(
  deps: Deps,
  job: Pick<JobRow, "id">,
  nodeId: string,
  sources: MountSources,
  say: (line: string) => void,
): Promise<Mount[]> {
  const layout = dataLayout(deps.config.dataDir);
  const master = jobMounts(layout, sources);
  const node = await stagedNode(deps, nodeId);
  if (!node) return master;
  // A trim of the node's cache waits for this staging, and this one for a trim in flight.
  const s = state(deps);
  for (let trim = s.evicting.get(node.id); trim; trim = s.evicting.get(node.id)) await trim.catch(() => {});
  s.staging.set(node.id, (s.staging.get(node.id) ?? 0) + 1);
  try {
    return await stageOn(deps, job, node, master, sources, say);
  } finally {
    const left = (s.staging.get(node.id) ?? 1) - 1;
    if (left > 0) s.staging.set(node.id, left);
    else s.staging.delete(node.id);
  }
}

async function stageOn(
  deps: Deps,
  job: Pick<JobRow, "id">,
  node: StagedNode,
  master: Mount[],
  sources: MountSources,
  say: (line: string) => void,
): Promise<Mount[]> {
  const layout = dataLayout(deps.config.dataDir);
  const root = deps.config.stageCacheDir;
  const p = stagePaths(root);
  const t0 = performance.now();
  const inputs = await Promise.all(
    master
      .filter((m) => m.target !== MOUNT_POINTS.output)
      .map(async (m) => {
        const manifest = await localManifest(m.source);
        return { m, manifest, key: contentKey(manifest) };
      }),
  );
  const keys = Object.fromEntries(inputs.map((i) => [i.m.target, i.key]));
  const jobDir = shellQuote(p.job(job.id));
  // The job's own folders: an empty /output, the keys it mounts (kept from eviction while the
  // folder is there), copies of its read-write inputs; its inputs' last use is now.
  const folders = [
    `mkdir -p ${shellQuote(p.jobMount(job.id, MOUNT_POINTS.output))}`,
    `printf '%s\\n' ${inputs.map((i) => i.key).join(" ") || "''"} >${jobDir}/keys`,
  ];
  if (inputs.length) folders.push(`touch -c ${inputs.map((i) => shellQuote(`${p.content(i.key)}.ok`)).join(" ")}`);
  for (const i of inputs)
    if (!i.m.readOnly)
      folders.push(
        `rm -rf ${shellQuote(p.jobMount(job.id, i.m.target))}`,
        `cp -a ${shellQuote(p.content(i.key))} ${shellQuote(p.jobMount(job.id, i.m.target))}`,
      );
  // What a read-write copy holds now: the base its changes are merged back against.
  const keepBases = () =>
    Promise.all(
      inputs
        .filter((i) => !i.m.readOnly)
        .map((i) => writeBase(baseFile(deps, job.id, node.id, i.m.target), i.manifest)),
    );
  const record = (i: (typeof inputs)[number], plan: TransferPlan | null, seconds: number) => {
    const files = [...i.manifest.values()].filter((e) => e.type === "f").length;
    const stat: StageStat = {
      target: i.m.target,
      node: node.name,
      files: plan?.files ?? 0,
      bytes: plan?.bytes ?? 0,
      reused: plan ? plan.reused : files,
      cached: plan === null,
      seconds,
    };
    const stats = state(deps).stats;
    stats.set(job.id, [...(stats.get(job.id) ?? []), stat]);
    say(
      `staged ${i.m.target} on node ${node.name}: ${stat.files} files, ${stat.bytes} bytes copied, ${stat.reused} files reused${stat.cached ? " (cached)" : ""}`,
    );
  };
  const where = `preparing the job's folders on node ${node.name}`;
  // Usually every input is cached already: one round trip checks that and makes the folders.
  // A folder of this job already there was left by an earlier attempt (lost with its node):
  // what it holds comes back first.
  const ready = "@@hangar:stage:ready@@";
  const leftover = "@@hangar:stage:leftover@@";
  const cachedAll = inputs.map((i) => `[ -e ${shellQuote(`${p.content(i.key)}.ok`)} ]`).join(" && ") || "true";
  const fastScript = `if [ -e ${jobDir} ]; then echo '${leftover}'; elif ${cachedAll}; then ${folders.join(" && ")} && echo '${ready}'; fi`;
  let fast = await runOn(deps, node.address, fastScript, where);
  if (fast.includes(leftover)) {
    await recoverJobFolder(deps, node, job.id, async () => sources, true);
    fast = await runOn(deps, node.address, fastScript, where);
    if (fast.includes(leftover)) throw new Error(`${where}: an earlier attempt's folder is still there`);
  }
  if (fast.includes(ready)) {
    for (const i of inputs) record(i, null, (performance.now() - t0) / 1000);
    await keepBases();
    return jobMounts(layout, sources, { root, keys });
  }
  for (const i of inputs) {
    const t1 = performance.now();
    let staged: Awaited<ReturnType<typeof stageContent>>;
    try {
      staged = await stageContent(deps, node.address, i.m.source, i.manifest);
    } catch (err) {
      throw new Error(`copying ${i.m.target} to node ${node.name}: ${engineMessage(err)}`);
    }
    record(i, staged.plan, (performance.now() - t1) / 1000);
  }
  await runOn(deps, node.address, folders.join(" && "), where).catch((err: unknown) => {
    throw new Error(`copying the job's folders on node ${node.name}: ${engineMessage(err)}`);
  });
  await keepBases();
  return jobMounts(layout, sources, { root, keys });
}

// ---------------------------------------------------------------- copies back

interface Copy {
  node: StagedNode;
  /** /output comes back as it is; a read-write input is merged (planMerge). */
  kind: "output" | "merge";
  target: string;
  nodeDir: string;
  masterDir: string;
}

/** What comes back from the job's folder on `node`: /output first, then its read-write inputs. */
function copiesOn(deps: Deps, jobId: string, node: StagedNode, sources: MountSources): Copy[] {
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
async function pullOutput(deps: Deps, c: Copy, verify: boolean): Promise<Moved> {
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

const baseFile = (deps: Deps, jobId: string, nodeId: string, target: string) =>
  dataLayout(deps.config.dataDir).jobStageBase(jobId, nodeId, mountName(target));

/** Keeps what a node holds of a read-write input as the base of the next merge (written whole, then renamed). */
async function writeBase(file: string, m: Manifest): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, formatManifest(m));
  await rename(tmp, file);
}

/** The job's folder on the node is gone: so are the bases of its merges. */
const forgetBases = (deps: Deps, jobId: string, nodeId: string) =>
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
async function mergeBack(deps: Deps, jobId: string, c: Copy, say: (line: string) => void): Promise<Moved> {
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

/** One periodic round (STAGE_SYNC_TIMER): running jobs' folders come back, staged nodes are swept. */
export async function syncRunningOutputs(deps: Deps, sourcesOf: (job: JobRow) => Promise<MountSources>): Promise<void> {
  const { store } = deps;
  const staged = await store.db.select().from(store.t.nodes).where(eq(store.t.nodes.storage, "staged"));
  if (staged.length === 0) return;
  const ids = new Set(staged.map((n) => n.id));
  const running = await store.db.select().from(store.t.jobs).where(eq(store.t.jobs.status, "running"));
  await Promise.all([
    ...running
      .filter((job) => job.assignments.some((a) => ids.has(a.nodeId)))
      .map((job) => syncRunningOutput(deps, job, () => sourcesOf(job))),
    ...staged
      .filter((n) => n.status === "attached")
      .map((n) => sweepNode(deps, { id: n.id, address: nodeAddress(n), name: n.name }, sourcesOf)),
  ]);
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

const movedText = (c: Copy, m: Moved) =>
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

// ---------------------------------------------------------------- job folders left behind

const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * A node's job folders of jobs that do not run there any more (lost while the node was away,
 * cancelled, requeued elsewhere, failed to start) come back and are removed; then the cache is
 * trimmed when due.
 */
async function sweepNode(
  deps: Deps,
  node: StagedNode,
  sourcesOf: (job: JobRow) => Promise<MountSources>,
): Promise<void> {
  const jobsDir = `${deps.config.stageCacheDir}/jobs`;
  const listed = await deps.nodes
    .run(node.address, `cd ${shellQuote(jobsDir)} 2>/dev/null && ls -1A`, 60_000)
    .catch(() => null);
  if (listed?.code !== 0) return;
  for (const id of listed.output.split("\n").filter((x) => JOB_ID.test(x)))
    await recoverJobFolder(deps, node, id, sourcesOf, false).catch((err: unknown) =>
      deps.logger.warn("copying back a staged job's folder failed", {
        job: id,
        node: node.name,
        err: engineMessage(err),
      }),
    );
  const s = state(deps);
  const now = Date.now();
  if (now - (s.trimmed.get(node.id) ?? 0) >= TRIM_EVERY_MS) await trimCache(deps, node);
}

/**
 * The folder job `jobId` left on `node`: unless the job runs there (or `force`), its containers
 * there are stopped (orphans of a lost run), /output and read-write inputs come back as at a
 * job's end (logged on the job), and the folder is removed. A failed copy keeps the folder for
 * the next round.
 */
async function recoverJobFolder(
  deps: Deps,
  node: StagedNode,
  jobId: string,
  sourcesOf: (job: JobRow) => Promise<MountSources>,
  force: boolean,
): Promise<void> {
  const folder = stagePaths(deps.config.stageCacheDir).job(jobId);
  await serialized(state(deps).pulls, jobId, async () => {
    const [job] = await deps.store.db.select().from(deps.store.t.jobs).where(eq(deps.store.t.jobs.id, jobId));
    const here = job?.assignments.some((a) => a.nodeId === node.id);
    if (!force && here && (job?.status === "starting" || job?.status === "running")) return;
    if ((await deps.nodes.run(node.address, `test -d ${shellQuote(folder)}`)).code !== 0) return;
    if (job) {
      const exec = await nodeExecutor(deps, node.id);
      for (const c of await exec.list({ [JOB_LABEL]: jobId })) {
        await exec.stop(c.id, 5).catch(() => {});
        await exec.remove(c.id).catch(() => {});
      }
      const sources = await sourcesOf(job).catch(() => null);
      const say = (line: string) => deps.logs.append(jobId, `[hangar] ${line}\n`);
      const why = force ? "an earlier attempt" : `the job (${job.status})`;
      for (const c of sources ? copiesOn(deps, jobId, node, sources) : []) {
        const moved = c.kind === "output" ? await pullOutput(deps, c, true) : await mergeBack(deps, jobId, c, say);
        say(`${c.target} copied back from node ${node.name}, left there by ${why}: ${movedText(c, moved)}`);
      }
    }
    await runOn(deps, node.address, `rm -rf ${shellQuote(folder)}`, "removing a job folder on the node");
    await forgetBases(deps, jobId, node.id);
  });
}

// ---------------------------------------------------------------- the node's cache

/** The timer trims a node's cache at most this often (a job's end always does). */
const TRIM_EVERY_MS = 10 * 60_000;

/**
 * Evicts cached inputs from `node` (pickEvictions): entries no job folder there names, least
 * recently used first, while the cache is over HANGAR_STAGE_CACHE_MAX_GIB, and any unused for
 * HANGAR_STAGE_CACHE_MAX_DAYS. Never while a job is being staged on the node (it may have just
 * found an entry); unfinished entries (`.tmp`) go too. Returns the evicted keys.
 */
export async function trimCache(deps: Deps, node: Pick<StagedNode, "id" | "address">): Promise<string[]> {
  const s = state(deps);
  if ((s.staging.get(node.id) ?? 0) > 0) return [];
  const running = s.evicting.get(node.id);
  if (running) return running;
  const run = (async () => {
    const root = shellQuote(deps.config.stageCacheDir);
    const out = await runOn(
      deps,
      node.address,
      [
        `cd ${root} 2>/dev/null || exit 0`,
        `rm -rf content/*.tmp`,
        `echo "N $(date +%s)"`,
        `dirs=`,
        `for ok in content/*.ok; do [ -e "$ok" ] || continue; k=\${ok#content/}; k=\${k%.ok}; dirs="$dirs content/$k"; echo "C $k $(stat -c %Y "$ok")"; done`,
        `for f in jobs/*/keys; do [ -e "$f" ] && sed 's/^/U /' "$f"; done`,
        `if [ -n "$dirs" ]; then du -sk $dirs | sed 's/^/S /'; fi`,
        `exit 0`,
      ].join("\n"),
      "listing the cache on the node",
    );
    const used = new Map<string, number>();
    const sizes = new Map<string, number>();
    const inUse = new Set<string>();
    let now = Math.floor(Date.now() / 1000);
    for (const line of out.split("\n")) {
      const [tag, a, b] = line.split(/\s+/);
      if (tag === "N") now = Number(a);
      else if (tag === "C" && a) used.set(a, Number(b));
      else if (tag === "U" && a) inUse.add(a);
      else if (tag === "S" && b) sizes.set(b.replace(/^content\//, "").replace(/\/$/, ""), Number(a) * 1024);
    }
    const evict = pickEvictions(
      [...used].map(([key, lastUsed]) => ({
        key,
        lastUsed,
        bytes: Math.max(1024, sizes.get(key) ?? 0),
        inUse: inUse.has(key),
      })),
      now,
      { maxBytes: deps.config.stageCacheMaxGib * 2 ** 30, maxIdleSeconds: deps.config.stageCacheMaxDays * 86400 },
    ).filter((k) => /^[0-9a-f]+$/.test(k));
    if (evict.length)
      await runOn(
        deps,
        node.address,
        [
          `cd ${root} || exit 1`,
          `for k in ${evict.join(" ")}; do rm -f "content/$k.ok" && rm -rf "content/$k" || exit 1; done`,
          `for f in latest/*; do [ -e "$f" ] || continue; k=$(cat "$f"); [ -e "content/$k.ok" ] || rm -f "$f"; done`,
        ].join("\n"),
        "evicting cached inputs on the node",
      );
    s.trimmed.set(node.id, Date.now());
    return evict;
  })();
  s.evicting.set(node.id, run);
  try {
    return await run;
  } finally {
    s.evicting.delete(node.id);
  }
}
