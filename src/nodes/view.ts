import type { Gpu, InterfaceChoice, NetInterface } from "../domain/nodeFacts";
import type { Tables } from "../store/store";

type NodeRow = Tables["nodes"]["$inferSelect"];

export type { InterfaceChoice };

export interface NodeView {
  id: string;
  name: string;
  ip: string;
  sshPort: number;
  sshUser: string;
  dockerSocket: string;
  status: string;
  statusMessage: string | null;
  schedulable: boolean;
  interfaces: InterfaceChoice;
  networkInterfaces: NetInterface[];
  gpus: Gpu[];
  gpuConfig: string;
  gpusInUse: number;
  gpuTotal: number;
  cpus: number;
  memoryMiB: number;
  dockerVersion: string | null;
  nvidiaRuntime: boolean;
  hostname: string | null;
  hostKeyFingerprint: string | null;
  lastSeenAt: string | null;
  createdAt: string;
}

export function toNodeView(row: NodeRow, gpusInUse: number, gpuSummary: (g: Gpu[]) => string): NodeView {
  const gpus = row.gpus;
  return {
    id: row.id,
    name: row.name,
    ip: row.ip,
    sshPort: row.sshPort,
    sshUser: row.sshUser,
    dockerSocket: row.dockerSocket,
    status: row.status,
    statusMessage: row.statusMessage,
    schedulable: row.desired === "attached" && row.status === "attached",
    interfaces: row.interfaces,
    networkInterfaces: row.networkInterfaces,
    gpus,
    gpuConfig: gpuSummary(gpus),
    gpusInUse,
    gpuTotal: gpus.length,
    cpus: row.cpus,
    memoryMiB: row.memoryMiB,
    dockerVersion: row.dockerVersion,
    nvidiaRuntime: row.nvidiaRuntime,
    hostname: row.hostname,
    hostKeyFingerprint: row.hostKeyFingerprint,
    lastSeenAt: row.lastSeenAt,
    createdAt: row.createdAt,
  };
}
