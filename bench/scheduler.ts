// bun run bench:scheduler — ms of one scheduling pass (src/scheduler/pass.ts) per queue policy,
// in two sizes: 10,000 pending jobs against 1,000 nodes, and 100,000 against 10,000 (the
// headline, slowest policy). Jobs: 60% 1 GPU, 15% 2, 10% 4, 5% 8, 10% a 0.25 or 0.5 share; 20
// workspaces, 200 users (×10 in the large case), ample workspace shares. Nodes: 8 GPUs, some
// partly in use. Every job has already failed maxAttempts passes, so no head holds the queue
// and every job is tried.
import { schedulePass } from "../src/scheduler/pass";
import {
  type Holding,
  type JobRequest,
  type NodeState,
  QUEUE_POLICIES,
  type WorkspaceShare,
} from "../src/scheduler/types";
import { benchLine, median } from "./lib";

const GPUS_PER_NODE = 8;
const CPUS_PER_NODE = 128;
const MEMORY_PER_NODE = 1024 * 1024;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MAX_ATTEMPTS = 3;
const NOW = Date.UTC(2026, 0, 1);

/** The slowest policy's median ms per pass for `jobs` pending jobs against `nodeCount` nodes. */
function benchCase(jobs: number, nodeCount: number): number {
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const scale = nodeCount / 1_000;
  const workspaceCount = 20 * scale;
  const userCount = 200 * scale;

  const nodes: NodeState[] = Array.from({ length: nodeCount }, (_, n) => {
    // A third of the nodes run something already: a few whole devices, and now and then a share.
    const busy = n % 3 === 0 ? 1 + rand(4) : 0;
    const gpus = Array.from({ length: GPUS_PER_NODE }, (_, g) => ({
      uuid: `GPU-${n}-${g}`,
      free: g < busy ? 0 : g === busy && n % 9 === 0 ? ([0.25, 0.5, 0.75][rand(3)] as number) : 1,
    }));
    return {
      id: `node-${n}`,
      schedulable: n % 50 !== 49,
      gpus,
      freeCpus: CPUS_PER_NODE - busy * 8,
      freeMemoryMiB: MEMORY_PER_NODE - busy * 65536,
    };
  });

  const workspaces: WorkspaceShare[] = Array.from({ length: workspaceCount }, (_, w) => ({
    name: `ws-${w}`,
    trainingGpus: 2000 * scale,
    inUse: 0,
  }));

  const pending: JobRequest[] = Array.from({ length: jobs }, (_, i) => {
    const r = rand(100);
    const gpus = r < 60 ? 1 : r < 75 ? 2 : r < 85 ? 4 : r < 90 ? 8 : rand(2) ? 0.5 : 0.25;
    const user = rand(userCount);
    return {
      id: `job-${i}`,
      workspace: `ws-${user % workspaceCount}`,
      user: `user-${user}`,
      gpus,
      cpus: Math.max(2, gpus * 8),
      memoryMiB: Math.max(8192, gpus * 32768),
      submittedAt: NOW - 3_600_000 + rand(3_600_000),
      attempts: MAX_ATTEMPTS + rand(3),
    };
  });

  const held: Holding[] = Array.from({ length: userCount }, (_, u) => ({
    workspace: `ws-${u % workspaceCount}`,
    user: `user-${u}`,
    gpus: rand(16),
    cpus: rand(128),
    memoryMiB: rand(512) * 1024,
  }));

  const pass = (policy: (typeof QUEUE_POLICIES)[number]) =>
    schedulePass({
      pending,
      nodes,
      workspaces,
      policy,
      maxAttempts: MAX_ATTEMPTS,
      now: NOW,
      pendingTimeoutMs: 24 * 3_600_000,
      fairness: { held, clusterCpus: nodeCount * CPUS_PER_NODE, clusterMemoryMiB: nodeCount * MEMORY_PER_NODE },
    });

  const freeGpus = nodes.reduce((s, n) => s + (n.schedulable ? n.gpus.reduce((a, g) => a + g.free, 0) : 0), 0);
  const wanted = pending.reduce((s, j) => s + j.gpus, 0);
  console.log(
    `${jobs} pending jobs asking for ${wanted} GPUs; ${nodeCount} nodes × ${GPUS_PER_NODE} GPUs, ${freeGpus} free on schedulable nodes`,
  );

  const gpusOf = new Map(pending.map((j) => [j.id, j.gpus]));
  const slowest: number[] = [];
  for (const policy of QUEUE_POLICIES) {
    pass(policy);
    const ms: number[] = [];
    let last = pass(policy);
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      last = pass(policy);
      ms.push(performance.now() - t0);
    }
    const placedGpus = last.placements.reduce((s, p) => s + (gpusOf.get(p.jobId) ?? 0), 0);
    console.log(
      `${policy}: ${median(ms).toFixed(1)} ms per pass (median of ${ROUNDS}; ${ms.map((m) => m.toFixed(1)).join(", ")}), ` +
        `${last.placements.length} placed (${placedGpus} GPUs), ${last.waiting.length} waiting, ${last.timedOut.length} timed out`,
    );
    slowest.push(median(ms));
  }
  return Math.max(...slowest);
}

const small = benchCase(10_000, 1_000);
console.log(benchLine("scheduler-pass-ms", small, "<=1000"));
const large = benchCase(100_000, 10_000);
console.log(benchLine("scheduler-pass-100k-ms", large, "<=500"));
