// Pure: a Hangar container spec → Docker Engine create options.
import type { ContainerCreateOptions } from "dockerode";
import { type ContainerSpec, MANAGED_LABEL, type NodeRuntime } from "./spec";

export interface BuiltSpec {
  options: ContainerCreateOptions;
  /** Lines for the job log explaining choices (e.g. "no GPU runtime"). */
  notes: string[];
}

/** Capabilities every container keeps: enough for root in an image to pip/apt install and manage files. */
export const DEFAULT_CAPABILITIES = [
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "SETGID",
  "SETUID",
  "NET_BIND_SERVICE",
] as const;

export function buildCreateOptions(spec: ContainerSpec, node: NodeRuntime): BuiltSpec {
  const notes: string[] = [];
  const env: Record<string, string> = { ...(spec.env ?? {}) };
  const gpus = spec.gpus ?? [];
  const deviceRequests: NonNullable<ContainerCreateOptions["HostConfig"]>["DeviceRequests"] = [];
  if (gpus.length > 0) {
    if (node.nvidiaRuntime) {
      deviceRequests.push({ Driver: "nvidia", DeviceIDs: gpus, Capabilities: [["gpu"]] });
    } else {
      env.NVIDIA_VISIBLE_DEVICES = gpus.join(",");
      env.CUDA_VISIBLE_DEVICES = gpus.join(",");
      notes.push(
        `node has no NVIDIA GPU runtime: GPUs ${gpus.join(",")} are passed as NVIDIA_VISIBLE_DEVICES/CUDA_VISIBLE_DEVICES only`,
      );
    }
  }
  // On the host's network a container has no ports of its own to publish.
  const ports = spec.hostNetwork ? [] : (spec.ports ?? []);
  const memory = spec.memoryMiB !== undefined ? spec.memoryMiB * 1024 * 1024 : undefined;
  return {
    notes,
    options: {
      name: spec.name,
      Image: spec.image,
      Cmd: spec.command,
      Entrypoint: spec.entrypoint,
      User: spec.user,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      WorkingDir: spec.workdir,
      Labels: { [MANAGED_LABEL]: "true", ...(spec.labels ?? {}) },
      Tty: spec.tty ?? false,
      ExposedPorts: ports.length ? Object.fromEntries(ports.map((p) => [`${p}/tcp`, {}])) : undefined,
      OpenStdin: spec.tty ?? false,
      AttachStdout: true,
      AttachStderr: true,
      HostConfig: {
        Binds: (spec.mounts ?? []).map((m) => `${m.source}:${m.target}${m.readOnly ? ":ro" : ""}`),
        NanoCpus: spec.cpus !== undefined ? Math.round(spec.cpus * 1e9) : undefined,
        Memory: memory,
        MemorySwap: memory, // no swap beyond the memory limit
        ShmSize: (spec.shmMiB ?? 1024) * 1024 * 1024,
        PidsLimit: spec.pidsLimit ?? 4096,
        DeviceRequests: deviceRequests.length ? deviceRequests : undefined,
        Devices: spec.devices?.length
          ? spec.devices.map((path) => ({ PathOnHost: path, PathInContainer: path, CgroupPermissions: "rwm" }))
          : undefined,
        // Least privilege by default: Docker's default set minus what training images do not
        // need (raw sockets, mknod, chroot, audit, file capabilities), and no setuid escalation.
        CapDrop: ["ALL"],
        CapAdd: spec.capabilities ?? [...new Set([...DEFAULT_CAPABILITIES, ...(spec.capAdd ?? [])])],
        ReadonlyRootfs: spec.readOnlyRootfs || undefined,
        SecurityOpt: ["no-new-privileges"],
        IpcMode: spec.ipcHost ? "host" : undefined,
        NetworkMode: spec.hostNetwork ? "host" : spec.networkNone ? "none" : undefined,
        Ulimits: spec.ulimits?.length
          ? spec.ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard }))
          : undefined,
        Init: true,
        PortBindings: ports.length
          ? Object.fromEntries(ports.map((p) => [`${p}/tcp`, [{ HostIp: "127.0.0.1", HostPort: "" }]]))
          : undefined,
      },
    },
  };
}
