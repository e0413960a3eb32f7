// The GPUs live jobs hold, per node and per pool (a workspace's training GPUs, or its deployment
// GPUs): the scheduler recounts them from the live jobs after each change, services read them
// (node and workspace views, the node-delete check). Counted from live jobs only, so a job that
// ended frees its GPUs at once.
import { poolOf } from "./types";

export interface UsageCounts {
  /** node id → GPUs held (fractions count as fractions). */
  nodes: ReadonlyMap<string, number>;
  /** pool → GPUs held. */
  pools: ReadonlyMap<string, number>;
}

/** Pure: what these live jobs hold. */
export function countUsage(
  live: readonly {
    workspace: string;
    kind: string;
    gpus: number;
    assignments: readonly { nodeId: string; gpuUuids: readonly string[]; fraction?: number }[];
  }[],
): UsageCounts {
  const nodes = new Map<string, number>();
  const pools = new Map<string, number>();
  for (const j of live) {
    const pool = poolOf(j);
    pools.set(pool, (pools.get(pool) ?? 0) + j.gpus);
    for (const a of j.assignments) nodes.set(a.nodeId, (nodes.get(a.nodeId) ?? 0) + (a.fraction ?? a.gpuUuids.length));
  }
  return { nodes, pools };
}

const NONE: UsageCounts = { nodes: new Map(), pools: new Map() };

export class GpuUsage {
  private counts: UsageCounts = NONE;

  /** GPUs held by live jobs on a node. */
  onNode(nodeId: string): number {
    return this.counts.nodes.get(nodeId) ?? 0;
  }

  /** GPUs held by live jobs of a pool: a workspace name, or deploymentPool(workspace). */
  ofPool(pool: string): number {
    return this.counts.pools.get(pool) ?? 0;
  }

  /** Replaces the counts (the scheduler, after it recounted). */
  set(counts: UsageCounts): void {
    this.counts = counts;
  }
}
