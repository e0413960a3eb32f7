// Job folders left behind on a staged node (lost, cancelled, requeued jobs): brought back and removed.
import { eq } from "drizzle-orm";
import type { Deps } from "../../deps";
import { stagePaths } from "../../domain/staging";
import { engineMessage } from "../../executor/port";
import { JOB_LABEL } from "../../executor/spec";
import { nodeExecutor } from "../../nodes/service";
import { type MountSources, shellQuote } from "../spec";
import type { JobRow } from "../transitions";
import { TRIM_EVERY_MS, trimCache } from "./cache";
import { copiesOn, forgetBases, mergeBack, movedText, pullOutput } from "./copyBack";
import { type StagedNode, serialized, state } from "./state";
import { runOn } from "./transfer";

const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * A node's job folders of jobs that do not run there any more (lost while the node was away,
 * cancelled, requeued elsewhere, failed to start) come back and are removed; then the cache is
 * trimmed when due.
 */
export async function sweepNode(
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
export async function recoverJobFolder(
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
