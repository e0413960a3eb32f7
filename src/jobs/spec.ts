// Pure: a placed job → its mounts and the container specs of its nodes (one container per node).
import { BUILTIN_MOUNT } from "../builtin/catalogue";
import { type Assignment, GPU_OPTIONS, type GpuOption } from "../domain/jobSpec";
import { stagedSource } from "../domain/staging";
import { type ContainerSpec, JOB_LABEL, type Mount } from "../executor/spec";
import type { DataLayout } from "../lib/layout";
import { jobKind } from "./kinds";

export { type Assignment, GPU_OPTIONS, type GpuOption };

export interface NodeNet {
  /** The node's name, for reasons. */
  name?: string;
  /** Address other nodes reach this one on (rendezvous.ts interconnect: data, InfiniBand, else SSH address). */
  address: string;
  /** The interface holding `address` (NCCL_SOCKET_IFNAME/GLOO_SOCKET_IFNAME of a multi-node job), when known. */
  dataInterface: string | null;
  infinibandInterface: string | null;
  /** InfiniBand ports the node's facts list (interfaces of kind InfiniBand); 0: none, RDMA is refused. */
  infinibandPorts?: number;
  /** Memory of the node's GPUs by UUID, for MPS memory limits. */
  gpuMemoryMiB: Record<string, number>;
}

export interface JobForSpec {
  id: string;
  image: string;
  command: string;
  parameters: Record<string, string>;
  gpuOptions: GpuOption[];
  mounts: Mount[];
  labels?: Record<string, string>;
  /** CPU cores and memory (MiB) for the whole job, Docker limits (absent or 0: none); a job spread over nodes gets them in proportion to its GPUs on each. */
  cpus?: number;
  memoryMiB?: number;
  /** A multi-node job's rendezvous port on rank 0's node (rendezvous.ts; absent: MASTER_PORT). */
  rendezvousPort?: number;
}

export const MASTER_PORT = 29500;

/**
 * The RDMA device files of a node with `ports` InfiniBand ports: the connection manager and one
 * user verbs device per port (the standard set of rdma-core's udev rules: /dev/infiniband/rdma_cm,
 * uverbs0…). Pure.
 */
export function rdmaDevices(ports: number): string[] {
  if (ports <= 0) return [];
  return ["/dev/infiniband/rdma_cm", ...Array.from({ length: ports }, (_, i) => `/dev/infiniband/uverbs${i}`)];
}

/** Why `rdma-infiniband` cannot run on these nodes (one has no InfiniBand interface), or null. */
export function rdmaProblem(nodes: { name: string; infinibandPorts: number }[]): string | null {
  const without = nodes.filter((n) => n.infinibandPorts <= 0).map((n) => n.name);
  if (without.length === 0) return null;
  return `rdma-infiniband needs an InfiniBand interface; node ${without.join(", ")} has none`;
}

/** Where a job's container sees its folders. */
export const MOUNT_POINTS = {
  code: "/code",
  output: "/output",
  dataset: "/dataset",
  /** A deployment's model: the output of the job it serves. */
  model: "/model",
  builtin: BUILTIN_MOUNT,
} as const;

/** What a job's mounts are made of, read from the store (runner's mountSources). */
export interface MountSources {
  job: { id: string; workspace: string; kind: string };
  training: string;
  /** The job's dataset, when it names one that exists. */
  dataset: { name: string; readOnly: boolean } | null;
  /** The built-in model of a built-in training. */
  builtinModel: string | null;
  /** A deployment's served job (its output is the model). */
  servedJobId: string | null;
}

/** A `staged` node's copies (jobs/staging/stageIn.ts): its cache root and each read-only input's content key, by target. */
export interface StagedOn {
  root: string;
  keys: Record<string, string>;
}

/**
 * A job's mounts, host paths from the data layout: what its container gets, and what the SSH
 * gateway's SFTP serves (the same list, so the two never disagree). What a kind mounts comes
 * from the kind table. On a `staged` node (`staged` given) each source is the node's copy of
 * that master folder instead (domain/staging.ts); SFTP and downloads keep the master's.
 */
export function jobMounts(layout: DataLayout, s: MountSources, staged?: StagedOn): Mount[] {
  const kind = jobKind(s.job.kind);
  const { workspace: ws } = s.job;
  const mounts: Mount[] = [
    { source: layout.code(ws, s.training), target: MOUNT_POINTS.code, readOnly: kind.code === "read-only" },
    { source: layout.jobOutput(ws, s.training, s.job.id), target: MOUNT_POINTS.output, readOnly: false },
  ];
  if (kind.model && s.servedJobId)
    mounts.push({
      source: layout.jobOutput(ws, s.training, s.servedJobId),
      target: MOUNT_POINTS.model,
      readOnly: true,
    });
  if (kind.inputs && s.builtinModel)
    mounts.push({ source: layout.builtinModel(s.builtinModel), target: MOUNT_POINTS.builtin, readOnly: true });
  if (kind.inputs && s.dataset)
    mounts.push({
      source: layout.dataset(ws, s.dataset.name),
      target: MOUNT_POINTS.dataset,
      readOnly: s.dataset.readOnly,
    });
  if (!staged) return mounts;
  return mounts.map((m) => ({
    ...m,
    source: stagedSource(m, staged.root, s.job.id, staged.keys[m.target], MOUNT_POINTS.output),
  }));
}

/** `'…'` quoting for sh. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

export function paramEnvName(key: string): string {
  return `HANGAR_PARAM_${key.toUpperCase().replace(/[^A-Z0-9_]/g, "_")}`;
}

export function commandLine(command: string, parameters: Record<string, string>): string {
  const args = Object.entries(parameters).map(([k, v]) => `--${k} ${shellQuote(v)}`);
  return [command, ...args].join(" ");
}

export function jobContainers(
  job: JobForSpec,
  assignments: Assignment[],
  nets: Record<string, NodeNet>,
): ContainerSpec[] {
  const worldNodes = assignments.length;
  const perNode = assignments.map((a) => Math.max(1, a.gpuUuids.length));
  const world = perNode.reduce((s, n) => s + n, 0);
  const first = assignments[0];
  const masterAddr = first ? (nets[first.nodeId]?.address ?? "127.0.0.1") : "127.0.0.1";
  const wholeGpus = assignments.reduce((s, a) => s + (a.fraction === undefined ? a.gpuUuids.length : 0), 0);
  return assignments.map((a, rank) => {
    // One node holds the whole job; over several, each its GPUs' part.
    const part = assignments.length > 1 && wholeGpus > 0 ? a.gpuUuids.length / wholeGpus : 1;
    const limits: Pick<ContainerSpec, "cpus" | "memoryMiB"> = {};
    if (job.cpus && job.cpus > 0) limits.cpus = Number((job.cpus * part).toFixed(3));
    if (job.memoryMiB && job.memoryMiB > 0) limits.memoryMiB = Math.floor(job.memoryMiB * part);
    const net = nets[a.nodeId];
    const env: Record<string, string> = {
      HANGAR_JOB_ID: job.id,
      ...Object.fromEntries(Object.entries(job.parameters).map(([k, v]) => [paramEnvName(k), v])),
    };
    if (worldNodes > 1) {
      Object.assign(env, {
        MASTER_ADDR: masterAddr,
        MASTER_PORT: String(job.rendezvousPort ?? MASTER_PORT),
        WORLD_SIZE: String(world),
        NODE_RANK: String(rank),
        RANK: String(perNode.slice(0, rank).reduce((s, n) => s + n, 0)),
        LOCAL_RANK: "0",
        LOCAL_WORLD_SIZE: String(perNode[rank]),
        NNODES: String(worldNodes),
      });
      // On the host's network (below) the node's interface names are the container's.
      if (net?.dataInterface)
        Object.assign(env, { NCCL_SOCKET_IFNAME: net.dataInterface, GLOO_SOCKET_IFNAME: net.dataInterface });
    }
    if (job.gpuOptions.includes("gpu-acceleration"))
      Object.assign(env, { NCCL_P2P_DISABLE: "0", NCCL_P2P_LEVEL: "NVL" });
    const rdma: Pick<ContainerSpec, "devices" | "capAdd" | "ulimits"> = {};
    if (job.gpuOptions.includes("rdma-infiniband")) {
      if (net?.infinibandInterface) env.NCCL_IB_HCA = net.infinibandInterface;
      env.NCCL_IB_DISABLE = net?.infinibandInterface ? "0" : "1";
      // Verbs need the device files, pinned (locked) memory without limit, and IPC_LOCK to pin it.
      const devices = rdmaDevices(net?.infinibandPorts ?? 0);
      if (devices.length) {
        rdma.devices = devices;
        rdma.capAdd = ["IPC_LOCK"];
        rdma.ulimits = [{ name: "memlock", soft: -1, hard: -1 }];
      }
    }
    if (job.gpuOptions.includes("unified-memory"))
      Object.assign(env, { TF_FORCE_UNIFIED_MEMORY: "1", HANGAR_UNIFIED_MEMORY: "1" });
    if (a.fraction !== undefined) {
      const uuid = a.gpuUuids[0] as string;
      const mem = Math.floor((net?.gpuMemoryMiB[uuid] ?? 0) * a.fraction);
      env.CUDA_MPS_ACTIVE_THREAD_PERCENTAGE = String(Math.round(a.fraction * 100));
      if (mem > 0) env.CUDA_MPS_PINNED_DEVICE_MEM_LIMIT = `0=${mem}M`;
    }
    return {
      name: `hangar-job-${job.id}-${rank}`,
      image: job.image,
      command: ["sh", "-c", commandLine(job.command, job.parameters)],
      env,
      mounts: job.mounts,
      workdir: "/code",
      gpus: a.gpuUuids,
      ...limits,
      ...rdma,
      // Ranks on several nodes reach each other on ports NCCL/Gloo choose at run time: no port
      // mapping can publish those, so their containers share their node's network.
      ...(worldNodes > 1 ? { hostNetwork: true } : {}),
      labels: { [JOB_LABEL]: job.id, "hangar.rank": String(rank), ...(job.labels ?? {}) },
    };
  });
}
