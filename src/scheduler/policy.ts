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
  if (policy === "drf") return new DrfCursor(pending, fairness);
  const order = [...pending].sort(byAge);
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
  return a.submittedAt - b.submittedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

interface UserQueue {
  held: Resources;
  of: Resources;
  share: number;
  jobs: JobRequest[];
  /** jobs[next] is the user's next job. */
  next: number;
}

class DrfCursor implements QueueCursor {
  private readonly heap = new Heap<UserQueue>((a, b) => {
    if (a.share !== b.share) return a.share < b.share;
    return byAge(a.jobs[a.next] as JobRequest, b.jobs[b.next] as JobRequest) < 0;
  });
  /** Handed out its job last; back into the heap on the next call, once `placed` may have changed its share. */
  private out: UserQueue | null = null;

  constructor(pending: readonly JobRequest[], fairness: Fairness) {
    const gpusOf = new Map(fairness.workspaces.map((w) => [w.name, w.trainingGpus]));
    const held = new Map<string, Resources>();
    for (const h of fairness.held ?? []) {
      const r = resourcesOf(held, userKey(h.workspace, h.user));
      r.gpus += h.gpus;
      r.cpus += h.cpus ?? 0;
      r.memoryMiB += h.memoryMiB ?? 0;
    }
    const users = new Map<string, UserQueue>();
    for (const job of pending) {
      const key = userKey(job.workspace, job.user);
      let u = users.get(key);
      if (!u) {
        const of = {
          gpus: gpusOf.get(job.workspace) ?? 0,
          cpus: fairness.clusterCpus ?? 0,
          memoryMiB: fairness.clusterMemoryMiB ?? 0,
        };
        const mine = { ...(held.get(key) ?? { gpus: 0, cpus: 0, memoryMiB: 0 }) };
        u = { held: mine, of, share: dominantShare(mine, of), jobs: [], next: 0 };
        users.set(key, u);
      }
      u.jobs.push(job);
    }
    for (const u of users.values()) {
      u.jobs.sort(byAge);
      this.heap.push(u);
    }
  }

  next(): JobRequest | undefined {
    if (this.out && this.out.next < this.out.jobs.length) this.heap.push(this.out);
    this.out = this.heap.pop() ?? null;
    if (!this.out) return undefined;
    return this.out.jobs[this.out.next++];
  }

  placed(job: JobRequest): void {
    const u = this.out;
    if (!u || u.jobs[u.next - 1] !== job) throw new Error(`job ${job.id} is not the one handed out last`);
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

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= items.length) break;
      const r = l + 1;
      const child = r < items.length && this.less(items[r] as T, items[l] as T) ? r : l;
      if (!this.less(items[child] as T, last)) break;
      items[i] = items[child] as T;
      i = child;
    }
    items[i] = last;
    return top;
  }
}
