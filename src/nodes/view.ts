import type { Gpu, InterfaceChoice } from "../domain/nodeFacts";
import type { Tables } from "../store/store";
import type { Node } from "./model";

type NodeRow = Tables["nodes"]["$inferSelect"];

export type { InterfaceChoice };

export function toNodeView(row: NodeRow, gpusInUse: number, gpuSummary: (g: Gpu[]) => string): Node {
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
    storage: row.storage,
    hostKeyFingerprint: row.hostKeyFingerprint,
    lastSeenAt: row.lastSeenAt,
    createdAt: row.createdAt,
  };
}
