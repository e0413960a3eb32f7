// Pure: the order in which a pass tries the pending jobs.
//   fifo: oldest first; lifo: newest first (ties: by id, lifo the exact reverse of fifo).
//   drf:  dominant resource fairness between the users of a workspace. A user's dominant share
//         is the largest of: GPUs held / the workspace's training GPUs, CPUs held / the cluster's
//         CPUs, memory held / the cluster's memory. The user with the smallest share goes next
//         (ties: the older job), and a job placed in the pass counts at once, so the order
//         follows the placements (progressive filling). Within a user: oldest first.
import type { Holding, JobRequest, QueuePolicy, WorkspaceShare } from "./types";

export interface Fairness {
  /** The denominators of the GPU shares. */
  workspaces: readonly Pick<WorkspaceShare, "name" | "trainingGpus">[];
  /** The denominators of the CPU and memory shares; absent or 0 leaves that resource out. */
  clusterCpus?: number;
  clusterMemoryMiB?: number;
  /** What users' live jobs hold already. */
  held?: readonly Holding[];
}

export interface QueueCursor {
  /** The next job to try; undefined when every job was handed out. */
  next(): JobRequest | undefined;
  /** The job `next` handed out last was placed (DRF counts it against its user). */
  placed(job: JobRequest): void;
}

interface Resources {
  gpus: number;
  cpus: number;
  memoryMiB: number;
}

export function queueCursor(
  pending: readonly JobRequest[],
  policy: QueuePolicy,
  fairness: Fairness = { workspaces: [] },
): QueueCursor {
  const ages = ageOrder(pending);
  if (policy === "drf") return new DrfCursor(pending, ages, fairness);
  const order = pick(pending, ages);
  if (policy === "lifo") order.reverse();
  let i = 0;
  return { next: () => order[i++], placed: () => {} };
}

/** The order of a pass in which every job is placed. */
export function orderQueue(pending: readonly JobRequest[], policy: QueuePolicy, fairness?: Fairness): JobRequest[] {
  const cursor = queueCursor(pending, policy, fairness);
  const order: JobRequest[] = [];
  for (let job = cursor.next(); job; job = cursor.next()) {
    order.push(job);
    cursor.placed(job);
  }
  return order;
}

/** The largest of the resources' shares; a resource whose denominator is missing or 0 is left out. */
export function dominantShare(held: Resources, of: Resources): number {
  let share = 0;
  if (of.gpus > 0) share = Math.max(share, held.gpus / of.gpus);
  if (of.cpus > 0) share = Math.max(share, held.cpus / of.cpus);
  if (of.memoryMiB > 0) share = Math.max(share, held.memoryMiB / of.memoryMiB);
  return share;
}

function byAge(a: JobRequest, b: JobRequest): number {
  return a.submittedAt - b.submittedAt || byId(a, b);
}

function byId(a: JobRequest, b: JobRequest): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The jobs oldest first (ties: by id), as `[...jobs].sort(byAge)`. */
export function byAgeOrder(jobs: readonly JobRequest[]): JobRequest[] {
  return pick(jobs, ageOrder(jobs));
}

function pick(jobs: readonly JobRequest[], indexes: Int32Array): JobRequest[] {
  const picked = new Array<JobRequest>(indexes.length);
  for (let r = 0; r < indexes.length; r++) picked[r] = jobs[indexes[r] as number] as JobRequest;
  return picked;
}

/**
 * The indexes of the jobs, oldest first (ties: by id). A comparator sort of 100,000 jobs costs
 * tens of ms in calls and scattered reads alone, so the times are sorted as numbers: each key is
 * the job's time since the oldest, times the count, plus its index, exact while it stays below
 * 2^53; runs of equal times (found from the keys) are then put in id order. Otherwise (huge
 * spans, fractional times) the comparator sort.
 */
function ageOrder(jobs: readonly JobRequest[]): Int32Array {
  const n = jobs.length;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let integral = true;
  for (const j of jobs) {
    const t = j.submittedAt;
    if (t < min) min = t;
    if (t > max) max = t;
    if (!Number.isSafeInteger(t)) integral = false;
  }
  const order = new Int32Array(n);
  if (n < 64 || !integral || (max - min + 1) * n >= Number.MAX_SAFE_INTEGER) {
    for (let i = 0; i < n; i++) order[i] = i;
    return order.sort((a, b) => byAge(jobs[a] as JobRequest, jobs[b] as JobRequest));
  }
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = ((jobs[i] as JobRequest).submittedAt - min) * n + i;
  keys.sort();
  const times = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const key = keys[r] as number;
    const i = key % n;
    order[r] = i;
    times[r] = (key - i) / n;
  }
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && times[end] === times[start]) end++;
    // Insertion sort by id: runs are short (jobs queued in the same pass).
    for (let r = start + 1; r < end; r++) {
      const i = order[r] as number;
      const id = (jobs[i] as JobRequest).id;
      let k = r - 1;
      for (; k >= start && (jobs[order[k] as number] as JobRequest).id > id; k--) order[k + 1] = order[k] as number;
      order[k + 1] = i;
    }
    start = end;
  }
  return order;
}

interface UserQueue {
  held: Resources;
  of: Resources;
  share: number;
  /** The places of the user's jobs in the age order of all pending jobs, ascending. */
  ranks: Int32Array;
  /** ranks[next] is the user's next job; while grouping, the count of jobs seen. */
  next: number;
}

class DrfCursor implements QueueCursor {
  private readonly heap = new Heap<UserQueue>((a, b) => {
    if (a.share !== b.share) return a.share < b.share;
    // Ties go to the older job.
    return (a.ranks[a.next] as number) < (b.ranks[b.next] as number);
  });
  /** Handed out its job last (still the heap's top); moved on the next call, once `placed` may have changed its share. */
  private out: UserQueue | null = null;

  /** `ages`: the indexes of `pending`, oldest first. */
  constructor(
    private readonly pending: readonly JobRequest[],
    private readonly ages: Int32Array,
    fairness: Fairness,
  ) {
    const gpusOf = new Map(fairness.workspaces.map((w) => [w.name, w.trainingGpus]));
    const held = new Map<string, Resources>();
    for (const h of fairness.held ?? []) {
      const r = resourcesOf(held, userKey(h.workspace, h.user));
      r.gpus += h.gpus;
      r.cpus += h.cpus ?? 0;
      r.memoryMiB += h.memoryMiB ?? 0;
    }
    const n = pending.length;
    // Grouped in the input's order (reads in memory order) by workspace, then user (no joined
    // key built per job); then each user's ranks are sorted as numbers.
    const byWorkspace = new Map<string, Map<string, UserQueue>>();
    const userOf = new Array<UserQueue>(n);
    for (let i = 0; i < n; i++) {
      const job = pending[i] as JobRequest;
      let users = byWorkspace.get(job.workspace);
      if (!users) {
        users = new Map();
        byWorkspace.set(job.workspace, users);
      }
      let u = users.get(job.user);
      if (!u) {
        const of = {
          gpus: gpusOf.get(job.workspace) ?? 0,
          cpus: fairness.clusterCpus ?? 0,
          memoryMiB: fairness.clusterMemoryMiB ?? 0,
        };
        const mine = { ...(held.get(userKey(job.workspace, job.user)) ?? { gpus: 0, cpus: 0, memoryMiB: 0 }) };
        u = { held: mine, of, share: dominantShare(mine, of), ranks: new Int32Array(0), next: 0 };
        users.set(job.user, u);
      }
      u.next++;
      userOf[i] = u;
    }
    for (const users of byWorkspace.values())
      for (const u of users.values()) {
        u.ranks = new Int32Array(u.next);
        u.next = 0;
      }
    for (let r = 0; r < n; r++) {
      const u = userOf[ages[r] as number] as UserQueue;
      u.ranks[u.next++] = r;
    }
    for (const users of byWorkspace.values())
      for (const u of users.values()) {
        u.next = 0;
        this.heap.push(u);
      }
  }

  next(): JobRequest | undefined {
    // The user handed out last stays on top of the heap; its key only grew since (its next job
    // is younger, `placed` raised its share), so it sinks to its place, or leaves when done.
    const last = this.out;
    if (last) {
      if (last.next < last.ranks.length) this.heap.sinkTop();
      else this.heap.pop();
    }
    this.out = this.heap.peek() ?? null;
    if (!this.out) return undefined;
    return this.jobAt(this.out.ranks[this.out.next++] as number);
  }

  private jobAt(rank: number): JobRequest {
    return this.pending[this.ages[rank] as number] as JobRequest;
  }

  placed(job: JobRequest): void {
    const u = this.out;
    if (!u || this.jobAt(u.ranks[u.next - 1] as number) !== job)
      throw new Error(`job ${job.id} is not the one handed out last`);
    u.held.gpus += job.gpus;
    u.held.cpus += job.cpus ?? 0;
    u.held.memoryMiB += job.memoryMiB ?? 0;
    u.share = dominantShare(u.held, u.of);
  }
}

function userKey(workspace: string, user: string): string {
  return `${workspace}\u0000${user}`;
}

function resourcesOf(map: Map<string, Resources>, key: string): Resources {
  let r = map.get(key);
  if (!r) {
    r = { gpus: 0, cpus: 0, memoryMiB: 0 };
    map.set(key, r);
  }
  return r;
}

/** A binary min-heap by `less`. */
class Heap<T> {
  private readonly items: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  push(item: T): void {
    const items = this.items;
    let i = items.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(item, items[parent] as T)) break;
      items[i] = items[parent] as T;
      i = parent;
    }
    items[i] = item;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    this.sinkTop();
    return top;
  }

  /** Restores the order after the top's key grew. */
  sinkTop(): void {
    const items = this.items;
    const item = items[0];
    if (item === undefined) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= items.length) break;
      const r = l + 1;
      const child = r < items.length && this.less(items[r] as T, items[l] as T) ? r : l;
      if (!this.less(items[child] as T, item)) break;
      items[i] = items[child] as T;
      i = child;
    }
    items[i] = item;
  }
}
