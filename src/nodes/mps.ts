// NVIDIA MPS for fractional GPUs: the CUDA_MPS_* limits a fractional job's container gets
// (jobs/spec.ts) are enforced only by an MPS control daemon for that GPU on the node. Hangar
// starts one per GPU when the first fractional job lands on it and stops it when none is left;
// the job's container talks to it through the daemon's pipe directory, mounted in.
//
// Pure: the commands (POSIX sh, run on the node over its SSH session or locally on the master),
// the container additions, and which daemons to stop. MpsDaemons (mpsDaemons.ts) runs them.
import type { ContainerSpec } from "../executor/spec";
import { shellQuote } from "../jobs/spec";

/** Where each GPU's daemon keeps its pipe and log directories on the node. */
export const MPS_ROOT = "/tmp/hangar-mps";
/** Where a job's container sees the pipe directory (and CUDA_MPS_PIPE_DIRECTORY points). */
export const MPS_PIPE_IN_CONTAINER = "/tmp/nvidia-mps";
/** The exit code of the start command when nvidia-cuda-mps-control is not installed. */
export const MPS_MISSING = 127;

const SAFE_UUID = /^[A-Za-z0-9-]{1,80}$/;

export interface MpsDirs {
  pipe: string;
  log: string;
}

/** The daemon's directories for one GPU (by UUID, the only way the node names it stably). */
export function mpsDirs(uuid: string): MpsDirs {
  if (!SAFE_UUID.test(uuid)) throw new Error(`not a GPU UUID: ${JSON.stringify(uuid)}`);
  return { pipe: `${MPS_ROOT}/${uuid}/pipe`, log: `${MPS_ROOT}/${uuid}/log` };
}

/** The environment the daemon (and anything talking to it) needs: which GPU, and where its pipes are. */
export function mpsEnv(uuid: string): Record<string, string> {
  const dirs = mpsDirs(uuid);
  return {
    CUDA_VISIBLE_DEVICES: uuid,
    CUDA_MPS_PIPE_DIRECTORY: dirs.pipe,
    CUDA_MPS_LOG_DIRECTORY: dirs.log,
  };
}

/** The control client with a time limit: a control pipe left by a dead daemon has no reader, and a write to it blocks. */
const CTL = [
  'ctl() { if command -v timeout >/dev/null 2>&1; then timeout -k 2 10 nvidia-cuda-mps-control "$@"; else nvidia-cuda-mps-control "$@"; fi; }',
];

const exports = (env: Record<string, string>) =>
  Object.entries(env)
    .map(([k, v]) => `${k}=${shellQuote(v)}; export ${k}`)
    .join("\n");

/**
 * Starts the GPU's control daemon unless one answers already (idempotent: a second fractional
 * job on the GPU, or a master restart, finds it running). Exit 127: the tool is not installed.
 */
export function mpsStartScript(uuid: string): string {
  const dirs = mpsDirs(uuid);
  return [
    'PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"; export PATH',
    `command -v nvidia-cuda-mps-control >/dev/null 2>&1 || { echo 'nvidia-cuda-mps-control: command not found'; exit ${MPS_MISSING}; }`,
    exports(mpsEnv(uuid)),
    ...CTL,
    `mkdir -p ${shellQuote(dirs.pipe)} ${shellQuote(dirs.log)} || exit 1`,
    // A daemon that answers is this GPU's: nothing to do.
    `if [ -e ${shellQuote(`${dirs.pipe}/control`)} ] && echo get_server_list | ctl >/dev/null 2>&1; then echo running; exit 0; fi`,
    "nvidia-cuda-mps-control -d 2>&1 || exit 1",
    "echo started",
  ].join("\n");
}

/** Stops the GPU's control daemon (and its server); a daemon already gone is no error. */
export function mpsStopScript(uuid: string): string {
  const dirs = mpsDirs(uuid);
  return [
    'PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"; export PATH',
    exports({ CUDA_MPS_PIPE_DIRECTORY: dirs.pipe, CUDA_MPS_LOG_DIRECTORY: dirs.log }),
    ...CTL,
    `[ -e ${shellQuote(`${dirs.pipe}/control`)} ] || { echo 'not running'; exit 0; }`,
    "echo quit | ctl 2>&1",
  ].join("\n");
}

/**
 * A fractional job's container with the daemon's pipe directory mounted and pointed to. MPS
 * clients share the daemon's IPC namespace (its shared memory), so the container uses the
 * host's, as NVIDIA's container guide asks.
 */
export function withMps(spec: ContainerSpec, uuid: string): ContainerSpec {
  const dirs = mpsDirs(uuid);
  return {
    ...spec,
    env: { ...(spec.env ?? {}), CUDA_MPS_PIPE_DIRECTORY: MPS_PIPE_IN_CONTAINER },
    mounts: [...(spec.mounts ?? []), { source: dirs.pipe, target: MPS_PIPE_IN_CONTAINER, readOnly: false }],
    ipcHost: true,
  };
}

/** One GPU's daemon: node id and GPU UUID. */
export interface MpsKey {
  nodeId: string;
  uuid: string;
}

export const mpsKey = (k: MpsKey) => `${k.nodeId}\u0000${k.uuid}`;

/** The fractional GPUs of a placement: where a daemon must run. */
export function fractionalGpus(
  assignments: readonly { nodeId: string; gpuUuids: readonly string[]; fraction?: number }[],
): MpsKey[] {
  return assignments.flatMap((a) =>
    a.fraction === undefined ? [] : a.gpuUuids.map((uuid) => ({ nodeId: a.nodeId, uuid })),
  );
}
