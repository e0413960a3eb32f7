// The periodic round (STAGE_SYNC_TIMER) over staged nodes.
import { eq } from "drizzle-orm";
import type { Deps } from "../../deps";
import { toAddress as nodeAddress } from "../../nodes/service";
import type { MountSources } from "../spec";
import type { JobRow } from "../transitions";
import { syncRunningOutput } from "./copyBack";
import { sweepNode } from "./leftBehind";

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
