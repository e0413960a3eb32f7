// Pure: which devices of which nodes a job gets. FreeCapacity is a working copy of the free
// devices of the schedulable nodes, indexed so that a pass over thousands of jobs does not scan
// every node for each job: nodes sit in buckets by their count of wholly free devices, partly used
// devices in buckets by their free share. Shares are counted in quarters of a device, so the
// arithmetic is exact.
import {
  type Assignment,
  GPU_FRACTIONS,
  type JobRequest,
  type NodeState,
  type Placement,
  type Unplaced,
} from "./types";

const QUARTERS = 4;

interface Slot {
  id: string;
  devices: Device[];
  /** Devices with all four quarters free. */
  whole: number;
  cpus: number;
  memoryMiB: number;
  infiniband: boolean;
}

interface Device {
  uuid: string;
  slot: Slot;
  quarters: number;
}

export interface PlaceOptions {
  /** A whole-GPU job without `nodes` that fits no single node may be spread over several (default true). */
  allowSpan?: boolean;
}

export interface Demand {
  cpus: number;
  memoryMiB: number;
  /** Only a node with an InfiniBand interface will do. */
  infiniband?: boolean;
}

/** Why the request can never be placed as asked, or null. */
export function requestProblem(job: JobRequest): string | null {
  const { gpus, nodes } = job;
  if (!Number.isFinite(gpus) || gpus < 0) return `GPUs must be 0 (CPU-only) or a positive count, not ${gpus}`;
  if (gpus === 0) {
    if (nodes !== undefined && nodes !== 1) return `a CPU-only job runs on one node, not on ${nodes}`;
  } else if (gpus < 1) {
    if (!GPU_FRACTIONS.includes(gpus)) return `a GPU fraction must be one of ${GPU_FRACTIONS.join(", ")}, not ${gpus}`;
    if (nodes !== undefined && nodes !== 1) return `a fractional job runs on one device, not on ${nodes} nodes`;
  } else if (!Number.isInteger(gpus)) {
    return `GPUs must be a whole count or one of ${GPU_FRACTIONS.join(", ")}, not ${gpus}`;
  }
  if (nodes !== undefined) {
    if (!Number.isInteger(nodes) || nodes < 1) return `nodes must be a whole count of at least 1, not ${nodes}`;
    if (gpus >= 1 && gpus % nodes !== 0) return `${gpus} GPUs cannot be split evenly over ${nodes} nodes`;
  }
  if (!((job.cpus ?? 0) >= 0) || !((job.memoryMiB ?? 0) >= 0)) return "CPUs and memory cannot be negative";
  return null;
}

/** The CPUs and memory a job needs on a node where it gets `gpusHere` of its GPUs. */
export function demandOn(job: JobRequest, gpusHere: number): Demand {
  const cpus = job.cpus ?? 0;
  const memoryMiB = job.memoryMiB ?? 0;
  const ib = job.infiniband ? { infiniband: true } : {};
  if (job.gpus < 1 || gpusHere === job.gpus) return { cpus, memoryMiB, ...ib };
  return { cpus: (cpus * gpusHere) / job.gpus, memoryMiB: (memoryMiB * gpusHere) / job.gpus, ...ib };
}

/** Where `job` would go on `nodes` as they are now, or why it does not fit. */
export function place(job: JobRequest, nodes: readonly NodeState[], options: PlaceOptions = {}): Placement | Unplaced {
  return new FreeCapacity(nodes).place(job, options);
}

export class FreeCapacity {
  private readonly byWhole: Set<Slot>[] = [];
  /** Index 1..3: devices with that many quarters free. */
  private readonly partial: Set<Device>[] = Array.from({ length: QUARTERS }, () => new Set<Device>());
  private readonly slots = new Map<string, Slot>();
  private freeWhole = 0;
  /** Shapes that did not fit, with the reason and the count of `take`s when it was written. */
  private readonly failed = new ShapeMap<{ reason: string; takes: number }>();
  private takes = 0;

  constructor(private readonly source: readonly NodeState[]) {
    for (const node of source) {
      if (!node.schedulable || this.slots.has(node.id)) continue;
      const slot: Slot = {
        id: node.id,
        devices: [],
        whole: 0,
        cpus: node.freeCpus,
        memoryMiB: node.freeMemoryMiB,
        infiniband: node.infiniband ?? false,
      };
      for (const gpu of node.gpus) {
        const device: Device = { uuid: gpu.uuid, slot, quarters: toQuarters(gpu.free) };
        slot.devices.push(device);
        if (device.quarters === QUARTERS) slot.whole++;
        else if (device.quarters > 0) this.partialSet(device.quarters).add(device);
      }
      this.bucket(slot.whole).add(slot);
      this.freeWhole += slot.whole;
      this.slots.set(node.id, slot);
    }
  }

  /** Decides only; `take` applies the decision. */
  place(job: JobRequest, options: PlaceOptions = {}): Placement | Unplaced {
    const problem = requestProblem(job);
    if (problem) return { reason: `invalid request: ${problem}` };
    if (this.slots.size === 0) return { reason: "no schedulable node" };
    const span = (options.allowSpan ?? true) && job.nodes === undefined && job.gpus > 1;
    // Free capacity only shrinks (take), so a shape that did not fit does not fit later either.
    const failed = this.failed.get(job, span);
    if (!failed) {
      const found = this.search(job, span);
      if (found) return found;
    } else if (failed.takes === this.takes) return { reason: failed.reason };
    // The reason names counts that a take may have changed since.
    const reason = this.whyNot(job, span);
    this.failed.set(job, span, { reason, takes: this.takes });
    return { reason };
  }

  /** Marks the devices, CPUs and memory of a placement of `job` as used. */
  take(job: JobRequest, placement: Placement): void {
    this.takes++;
    for (const a of placement.assignments) {
      const slot = this.slots.get(a.nodeId);
      if (!slot) throw new Error(`node ${a.nodeId} is not schedulable`);
      const wholeBefore = slot.whole;
      const quarters = a.fraction === undefined ? QUARTERS : toQuarters(a.fraction);
      for (const uuid of a.gpuUuids) {
        const device = slot.devices.find((d) => d.uuid === uuid);
        if (!device || device.quarters < quarters)
          throw new Error(`GPU ${uuid} on ${a.nodeId} lacks ${quarters}/4 free`);
        if (device.quarters === QUARTERS) slot.whole--;
        else this.partialSet(device.quarters).delete(device);
        device.quarters -= quarters;
        if (device.quarters > 0) this.partialSet(device.quarters).add(device);
      }
      const need = demandOn(job, a.fraction === undefined ? a.gpuUuids.length : job.gpus);
      slot.cpus -= need.cpus;
      slot.memoryMiB -= need.memoryMiB;
      if (slot.whole !== wholeBefore) {
        this.bucket(wholeBefore).delete(slot);
        this.bucket(slot.whole).add(slot);
        this.freeWhole -= wholeBefore - slot.whole;
      }
    }
  }

  /** The nodes as the placements taken so far left them. */
  nodes(): NodeState[] {
    return this.source.map((node) => {
      const slot = this.slots.get(node.id);
      if (!slot || !node.schedulable) return node;
      return {
        ...node,
        gpus: slot.devices.map((d) => ({ uuid: d.uuid, free: d.quarters / QUARTERS })),
        freeCpus: slot.cpus,
        freeMemoryMiB: slot.memoryMiB,
      };
    });
  }

  private search(job: JobRequest, span: boolean): Placement | null {
    if (job.gpus === 0) return this.placeCpuOnly(job);
    if (job.gpus < 1) return this.placeFraction(job);
    const nodes = job.nodes ?? 1;
    if (nodes > 1) return this.placeSplit(job, nodes);
    return this.placeWhole(job, span);
  }

  private placeWhole(job: JobRequest, span: boolean): Placement | null {
    const gpus = job.gpus;
    const need = demandOn(job, gpus);
    // Best fit: the node with the fewest free devices that holds the job keeps big holes for big jobs.
    for (let free = gpus; free < this.byWhole.length; free++)
      for (const slot of this.byWhole[free] ?? []) if (fits(slot, need)) return this.placement(job, [[slot, gpus]]);
    const parts = span ? this.span(job) : null;
    return parts && this.placement(job, parts);
  }

  /** Fewest nodes: the largest free first; the last, partial chunk on the smallest node that holds it. */
  private span(job: JobRequest): [Slot, number][] | null {
    if (this.freeWhole < job.gpus) return null;
    const candidates: { slot: Slot; usable: number }[] = [];
    let total = 0;
    for (let free = this.byWhole.length - 1; free >= 1; free--)
      for (const slot of this.byWhole[free] ?? []) {
        const usable = usableOn(job, slot);
        if (usable === 0) continue;
        candidates.push({ slot, usable });
        total += usable;
      }
    if (total < job.gpus) return null;
    candidates.sort((a, b) => b.usable - a.usable);
    const parts: [Slot, number][] = [];
    let left = job.gpus;
    let i = 0;
    for (let c = candidates[i]; c && left > c.usable; c = candidates[++i]) {
      parts.push([c.slot, c.usable]);
      left -= c.usable;
    }
    // Sorted largest first, so the last candidate still holding `left` is the smallest that does.
    let last = i;
    while ((candidates[last + 1]?.usable ?? 0) >= left) last++;
    const chosen = candidates[last];
    if (!chosen) return null;
    parts.push([chosen.slot, left]);
    return parts;
  }

  private placeSplit(job: JobRequest, nodes: number): Placement | null {
    const per = job.gpus / nodes;
    const need = demandOn(job, per);
    const chosen: [Slot, number][] = [];
    for (let free = per; free < this.byWhole.length; free++)
      for (const slot of this.byWhole[free] ?? []) {
        if (!fits(slot, need)) continue;
        chosen.push([slot, per]);
        if (chosen.length === nodes) return this.placement(job, chosen);
      }
    return null;
  }

  private placeFraction(job: JobRequest): Placement | null {
    const quarters = toQuarters(job.gpus);
    const need = demandOn(job, job.gpus);
    // Shares go together on devices already partly used, tightest first, before a whole device is broken.
    for (let free = quarters; free < QUARTERS; free++)
      for (const device of this.partialSet(free)) if (fits(device.slot, need)) return fractionPlacement(job, device);
    for (let free = 1; free < this.byWhole.length; free++)
      for (const slot of this.byWhole[free] ?? []) {
        const device = slot.devices.find((d) => d.quarters === QUARTERS);
        if (device && fits(slot, need)) return fractionPlacement(job, device);
      }
    return null;
  }

  /**
   * CPU-only: on the node with the fewest wholly free GPUs that has the CPUs and memory, so GPU
   * nodes stay free for GPU work; among those, the first found.
   */
  private placeCpuOnly(job: JobRequest): Placement | null {
    const need = demandOn(job, 0);
    for (const bucket of this.byWhole)
      for (const slot of bucket)
        if (fits(slot, need)) return { jobId: job.id, assignments: [{ nodeId: slot.id, gpuUuids: [] }] };
    return null;
  }

  /** Why `job` does not fit now; from the bucket sizes alone, so a failure costs no second scan. */
  private whyNot(job: JobRequest, span: boolean): string {
    const gpus = job.gpus;
    if (gpus === 0) {
      // A CPU-only job that does not fit: one scan of the nodes for the most free, failures only.
      let cpus = 0;
      let memoryMiB = 0;
      for (const slot of this.slots.values()) {
        cpus = Math.max(cpus, slot.cpus);
        memoryMiB = Math.max(memoryMiB, slot.memoryMiB);
      }
      return `CPU-only job: no schedulable node has ${needText(demandOn(job, 0))} (most free on one node: ${round(cpus)} CPUs, ${round(memoryMiB)} MiB memory)`;
    }
    if (gpus < 1) {
      const need = needText(demandOn(job, gpus));
      const what = `fractional ${gpus} GPU`;
      let roomy = this.nodesWithWhole(1);
      for (let free = toQuarters(gpus); free < QUARTERS; free++) roomy += this.partialSet(free).size;
      return roomy > 0
        ? `${what}: the devices with ${gpus} free are on nodes without ${need}`
        : `${what}: no device has ${gpus} free`;
    }
    const nodes = job.nodes ?? 1;
    const per = gpus / nodes;
    const need = demandOn(job, per);
    const withGpus = this.nodesWithWhole(per);
    if (nodes > 1) {
      if (withGpus < nodes) {
        const have = withGpus === 0 ? "none has them" : `only ${withGpus} ${withGpus === 1 ? "has" : "have"} them`;
        return `needs ${nodes} nodes with ${freeGpusText(per)} each; ${have}`;
      }
      return `needs ${nodes} nodes with ${freeGpusText(per)} and ${needText(need)} each; ${withGpus} have the GPUs, fewer than ${nodes} of them the rest`;
    }
    if (withGpus > 0)
      return `${nodesText(withGpus)} ${withGpus === 1 ? "has" : "have"} ${freeGpusText(gpus)}, but none also has ${needText(need)}`;
    const most = `most free on one node: ${this.mostWhole()}`;
    const none = `no schedulable node has ${freeGpusText(gpus)}`;
    if (!span) return `${none} (${most})`;
    if (this.freeWhole < gpus) return `${none} (${most}; ${this.freeWhole} free in all)`;
    return `${none} (${most}), and the nodes with free GPUs lack ${needText(demandOn(job, 1))} per GPU to spread it`;
  }

  private nodesWithWhole(atLeast: number): number {
    let n = 0;
    for (let free = atLeast; free < this.byWhole.length; free++) n += this.byWhole[free]?.size ?? 0;
    return n;
  }

  private placement(job: JobRequest, parts: [Slot, number][]): Placement {
    const assignments: Assignment[] = parts.map(([slot, count]) => {
      const gpuUuids: string[] = [];
      for (const d of slot.devices) {
        if (gpuUuids.length === count) break;
        if (d.quarters === QUARTERS) gpuUuids.push(d.uuid);
      }
      return { nodeId: slot.id, gpuUuids };
    });
    return { jobId: job.id, assignments };
  }

  private mostWhole(): number {
    for (let free = this.byWhole.length - 1; free > 0; free--) if ((this.byWhole[free]?.size ?? 0) > 0) return free;
    return 0;
  }

  private bucket(free: number): Set<Slot> {
    while (this.byWhole.length <= free) this.byWhole.push(new Set());
    return this.byWhole[free] as Set<Slot>;
  }

  private partialSet(quarters: number): Set<Device> {
    return this.partial[quarters] as Set<Device>;
  }
}

/**
 * Values by a job's shape (GPUs, nodes, CPUs, memory, whether it may span nodes), in maps keyed
 * by numbers: a joined string key per job costs more than the rest of a failed placement.
 */
class ShapeMap<V> {
  private readonly byGpus = new Map<number, Map<number, Map<number, Map<number, V>>>>();

  get(job: JobRequest, span: boolean): V | undefined {
    return this.byGpus
      .get(job.gpus)
      ?.get(spread(job, span))
      ?.get(job.cpus ?? 0)
      ?.get(job.memoryMiB ?? 0);
  }

  set(job: JobRequest, span: boolean, value: V): void {
    const byNodes = getOrAdd(this.byGpus, job.gpus);
    const byCpus = getOrAdd(byNodes, spread(job, span));
    getOrAdd(byCpus, job.cpus ?? 0).set(job.memoryMiB ?? 0, value);
  }
}

/** `nodes` (0 when absent), span and InfiniBand in one number. */
const spread = (job: JobRequest, span: boolean) =>
  ((job.nodes ?? 0) * 2 + (span ? 1 : 0)) * 2 + (job.infiniband ? 1 : 0);

function getOrAdd<K, V>(map: Map<K, Map<number, V>>, key: K): Map<number, V> {
  let inner = map.get(key);
  if (!inner) {
    inner = new Map();
    map.set(key, inner);
  }
  return inner;
}

function fractionPlacement(job: JobRequest, device: Device): Placement {
  return { jobId: job.id, assignments: [{ nodeId: device.slot.id, gpuUuids: [device.uuid], fraction: job.gpus }] };
}

// Rounded down: a device reported with a little less than a quarter free never gets that quarter.
function toQuarters(free: number): number {
  return Math.max(0, Math.min(QUARTERS, Math.floor(free * QUARTERS + 1e-9)));
}

function fits(slot: Slot, need: Demand): boolean {
  return need.cpus <= slot.cpus && need.memoryMiB <= slot.memoryMiB && (!need.infiniband || slot.infiniband);
}

/** How many of the job's GPUs the node can take, its CPUs and memory included. */
function usableOn(job: JobRequest, slot: Slot): number {
  for (let n = Math.min(slot.whole, job.gpus); n > 0; n--) if (fits(slot, demandOn(job, n))) return n;
  return 0;
}

function freeGpusText(n: number): string {
  return `${n} free GPU${n === 1 ? "" : "s"}`;
}

function nodesText(n: number): string {
  return `${n} node${n === 1 ? "" : "s"}`;
}

function needText(need: Demand): string {
  const parts: string[] = [];
  if (need.cpus > 0) parts.push(`${round(need.cpus)} free CPUs`);
  if (need.memoryMiB > 0) parts.push(`${round(need.memoryMiB)} MiB free memory`);
  if (need.infiniband) parts.push("an InfiniBand interface");
  return parts.join(" and ");
}

function round(x: number): number {
  return Number(x.toFixed(2));
}
