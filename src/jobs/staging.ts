// Effects of `staged` storage (a worker without the master's filesystem; plan and cache layout
// in domain/staging.ts): before a job starts there, the master copies what it mounts into the
// node's cache over the node's one SSH connection — one tar stream per folder, only the entries
// the node lacks — and while it runs and when it ends, its /output comes back the same way, until
// the master's copy holds everything. Jobs' folders on the master stay the one place SFTP and
// downloads read.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import type { Readable, Writable } from "node:stream";
import { eq } from "drizzle-orm";
import type { Deps } from "../deps";
import {
  contentKey,
  FIND_PRINTF,
  type Manifest,
  parseManifest,
  planTransfer,
  retryDelay,
  sourceId,
  stagePaths,
  type TransferPlan,
} from "../domain/staging";
import { engineMessage } from "../executor/port";
import type { Mount } from "../executor/spec";
import { dataLayout } from "../lib/layout";
import type { NodeAddress } from "../nodes/manager";
import { toAddress as nodeAddress } from "../nodes/service";
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
}
const states = new WeakMap<Deps, State>();
function state(deps: Deps): State {
  let s = states.get(deps);
  if (!s) {
    s = { locks: new Map(), pulls: new Map(), stats: new Map() };
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

/** The node, when it is `staged` (jobs there need copies), else null. */
async function stagedNode(deps: Deps, nodeId: string): Promise<{ address: NodeAddress; name: string } | null> {
  const [row] = await deps.store.db.select().from(deps.store.t.nodes).where(eq(deps.store.t.nodes.id, nodeId));
  if (row?.storage !== "staged") return null;
  return { address: nodeAddress(row), name: row.name };
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
  // The job's own folders: an empty /output, copies of its read-write inputs.
  const folders = [`mkdir -p ${shellQuote(p.jobMount(job.id, MOUNT_POINTS.output))}`];
  for (const i of inputs)
    if (!i.m.readOnly)
      folders.push(
        `rm -rf ${shellQuote(p.jobMount(job.id, i.m.target))}`,
        `cp -a ${shellQuote(p.content(i.key))} ${shellQuote(p.jobMount(job.id, i.m.target))}`,
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
  const ready = "@@hangar:stage:ready@@";
  const fast = await runOn(
    deps,
    node.address,
    `if ${inputs.map((i) => `[ -e ${shellQuote(`${p.content(i.key)}.ok`)} ]`).join(" && ") || "true"}; then ${folders.join(" && ")} && echo '${ready}'; fi`,
    where,
  );
  if (fast.includes(ready)) {
    for (const i of inputs) record(i, null, (performance.now() - t0) / 1000);
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
  return jobMounts(layout, sources, { root, keys });
}

// ---------------------------------------------------------------- /output back

interface OutputCopy {
  node: { address: NodeAddress; name: string };
  nodeDir: string;
  masterDir: string;
}

/** The job's /output folders on staged nodes and where each comes back to on the master. */
async function outputCopies(deps: Deps, job: JobRow, sources: () => Promise<MountSources>): Promise<OutputCopy[]> {
  const out: OutputCopy[] = [];
  let masterDir: string | null = null;
  for (const nodeId of new Set(job.assignments.map((a) => a.nodeId))) {
    const node = await stagedNode(deps, nodeId);
    if (!node) continue;
    if (masterDir === null) {
      const mounts = jobMounts(dataLayout(deps.config.dataDir), await sources());
      masterDir = mounts.find((m) => m.target === MOUNT_POINTS.output)?.source ?? null;
      if (masterDir === null) return [];
    }
    out.push({
      node,
      nodeDir: stagePaths(deps.config.stageCacheDir).jobMount(job.id, MOUNT_POINTS.output),
      masterDir,
    });
  }
  return out;
}

/** One copy back of what differs; with `verify`, repeated until nothing differs (at most 3 rounds). */
async function pullOutput(deps: Deps, c: OutputCopy, verify: boolean): Promise<{ files: number; bytes: number }> {
  const total = { files: 0, bytes: 0 };
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

/** One periodic round (STAGE_SYNC_TIMER): every running job with a staged node gets its /output copied back. */
export async function syncRunningOutputs(deps: Deps, sourcesOf: (job: JobRow) => Promise<MountSources>): Promise<void> {
  const { store } = deps;
  const staged = await store.db
    .select({ id: store.t.nodes.id })
    .from(store.t.nodes)
    .where(eq(store.t.nodes.storage, "staged"));
  if (staged.length === 0) return;
  const ids = new Set(staged.map((n) => n.id));
  const running = await store.db.select().from(store.t.jobs).where(eq(store.t.jobs.status, "running"));
  await Promise.all(
    running
      .filter((job) => job.assignments.some((a) => ids.has(a.nodeId)))
      .map((job) => syncRunningOutput(deps, job, () => sourcesOf(job))),
  );
}

/**
 * A running job's /output comes back from its staged nodes (the periodic round of
 * STAGE_SYNC_TIMER). Failures wait for the next round; the end of the job retries until done.
 */
export async function syncRunningOutput(deps: Deps, job: JobRow, sources: () => Promise<MountSources>): Promise<void> {
  for (const c of await outputCopies(deps, job, sources)) {
    await serialized(state(deps).pulls, job.id, () => pullOutput(deps, c, false)).catch((err: unknown) =>
      deps.logger.warn("copying a running job's output back failed", {
        job: job.id,
        node: c.node.name,
        err: engineMessage(err),
      }),
    );
  }
}

/**
 * The end of a job with folders on staged nodes: its /output comes back completely before its
 * final state is written. A failed copy is retried (doubling waits, at most 30 s) for as long as
 * the job is still `running`; each failure shows as the job's reason and in its log. Then the
 * node's job folder is removed. Returns false when the job left `running` meanwhile.
 */
export async function finishOutput(
  deps: Deps,
  job: JobRow,
  sources: () => Promise<MountSources>,
  exitReason: string,
  options: { retryCapSeconds?: number } = {},
): Promise<boolean> {
  const copies = await outputCopies(deps, job, sources);
  const say = (line: string) => deps.logs.append(job.id, `[hangar] ${line}\n`);
  for (const c of copies) {
    const where = `node ${c.node.name}`;
    await setWaitingReason(deps, job.id, `${exitReason}; copying /output back from ${where}`, { code: "running" });
    for (let attempt = 1; ; attempt++) {
      try {
        const moved = await serialized(state(deps).pulls, job.id, () => pullOutput(deps, c, true));
        say(`/output copied back from ${where}: ${moved.files} files, ${moved.bytes} bytes`);
        break;
      } catch (err) {
        const wait = retryDelay(attempt, options.retryCapSeconds);
        const reason = `${exitReason}; copying /output back from ${where} failed (attempt ${attempt}): ${engineMessage(err)}; retrying in ${wait} s`;
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
    await deps.nodes
      .run(c.node.address, `rm -rf ${shellQuote(stagePaths(deps.config.stageCacheDir).job(job.id))}`)
      .catch(() => {});
  }
  return true;
}
