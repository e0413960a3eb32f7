// Staging in: before a job starts on a staged node, its mounts are copied into the node's cache
// (only what differs, cached inputs shared by content key) and its job folder is made.
import type { Deps } from "../../deps";
import {
  contentKey,
  FIND_PRINTF,
  type Manifest,
  parseManifest,
  planTransfer,
  sourceId,
  stagePaths,
  type TransferPlan,
} from "../../domain/staging";
import { engineMessage } from "../../executor/port";
import type { Mount } from "../../executor/spec";
import { dataLayout } from "../../lib/layout";
import type { NodeAddress } from "../../nodes/manager";
import { jobMounts, MOUNT_POINTS, type MountSources, shellQuote } from "../spec";
import type { JobRow } from "../transitions";
import { baseFile, writeBase } from "./copyBack";
import { recoverJobFolder } from "./leftBehind";
import { type StagedNode, type StageStat, serialized, stagedNode, state } from "./state";
import { localManifest, nul, runOn, sendTar } from "./transfer";

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
