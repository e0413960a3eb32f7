// What a container is to run, in Hangar's words (no engine types): the spec callers hand to an
// Executor, and the labels Hangar finds its containers by.

export interface Mount {
  /** Host path (on the node; the data dir is the same path on every node). */
  source: string;
  /** Where the container sees it, e.g. /code. */
  target: string;
  readOnly?: boolean;
}

export interface ContainerSpec {
  /** Container name (unique per engine). */
  name: string;
  image: string;
  command: string[];
  env?: Record<string, string>;
  mounts?: Mount[];
  workdir?: string;
  /** CPU cores (may be fractional). */
  cpus?: number;
  memoryMiB?: number;
  /** /dev/shm size; Docker's 64 MB default breaks PyTorch data loaders. */
  shmMiB?: number;
  pidsLimit?: number;
  /** GPU UUIDs assigned by the scheduler. */
  gpus?: string[];
  labels?: Record<string, string>;
  /** Keep stdin open and give a TTY (interactive environments). */
  tty?: boolean;
  /** Container TCP ports to publish on free ports of the node (e.g. Jupyter's 8888). */
  ports?: number[];
  /** Host device files passed in at the same path (e.g. /dev/infiniband/uverbs0). */
  devices?: string[];
  /** Linux capabilities added (e.g. IPC_LOCK for RDMA memory registration). */
  capAdd?: string[];
  /** Share the node's network namespace (multi-node jobs: NCCL/Gloo listen on ports of their choosing). */
  hostNetwork?: boolean;
  /** Share the host's IPC namespace (MPS clients talk to the node's MPS daemon through it). */
  ipcHost?: boolean;
  /** Resource limits; -1: unlimited (e.g. memlock for RDMA). */
  ulimits?: { name: string; soft: number; hard: number }[];
  /** Replaces the image's entrypoint (`command` then gives its arguments). */
  entrypoint?: string[];
  /** Runs as this user (e.g. "0:0") instead of the image's. */
  user?: string;
  /** No network at all (Docker's `none`). */
  networkNone?: boolean;
  /** The image's filesystem read-only (only the mounts can be written). */
  readOnlyRootfs?: boolean;
  /** Exactly these capabilities, instead of DEFAULT_CAPABILITIES plus `capAdd`. */
  capabilities?: string[];
}

export interface NodeRuntime {
  /** The node's Docker has the `nvidia` runtime (NVIDIA Container Toolkit). */
  nvidiaRuntime: boolean;
}

/** Every container Hangar creates carries it (`true`). */
export const MANAGED_LABEL = "hangar.managed";
/** The master (cluster) that made a container or image: two masters on one engine leave each other be. */
export const CLUSTER_LABEL = "hangar.cluster";
/** The node a container was created for. */
export const NODE_LABEL = "hangar.node";
/** The job a container belongs to. */
export const JOB_LABEL = "hangar.job";
