// Staging: effects of `staged` storage (a worker without the master's filesystem; plan and cache layout
// in domain/staging.ts): before a job starts there, the master copies what it mounts into the
// node's cache over the node's one SSH connection — one tar stream per folder, only the entries
// the node lacks — and while it runs and when it ends, its /output comes back the same way, until
// the master's copy holds everything, and what it changed in /code or a read-write dataset is
// merged back (planMerge). Jobs' folders on the master stay the one place SFTP and downloads
// read. The periodic round also brings back and removes job folders left on a node (a job lost
// while the node was away) and trims the node's cache.
//
// This file: the in-memory state per master (locks, stats) and the node lookup. stageIn.ts copies
// in, copyBack.ts brings back, leftBehind.ts recovers, cache.ts trims, round.ts runs the timer's pass.
import { eq } from "drizzle-orm";
import type { Deps } from "../../deps";
import type { NodeAddress } from "../../nodes/manager";
import { toAddress as nodeAddress } from "../../nodes/service";

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
export function state(deps: Deps): State {
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
export async function serialized<T>(map: Map<string, Promise<unknown>>, key: string, fn: () => Promise<T>): Promise<T> {
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

export interface StagedNode {
  id: string;
  address: NodeAddress;
  name: string;
}

/** The node, when it is `staged` (jobs there need copies), else null. */
export async function stagedNode(deps: Deps, nodeId: string): Promise<StagedNode | null> {
  const [row] = await deps.store.db.select().from(deps.store.t.nodes).where(eq(deps.store.t.nodes.id, nodeId));
  if (row?.storage !== "staged") return null;
  return { id: row.id, address: nodeAddress(row), name: row.name };
}
