// What a job asks for and where it was placed, as stored in the job's JSON columns. Plain types.

export const GPU_OPTIONS = ["gpu-acceleration", "unified-memory", "rdma-infiniband"] as const;
export type GpuOption = (typeof GPU_OPTIONS)[number];

/** A job's share of one node: whole devices by UUID, or a fraction of one device. */
export interface Assignment {
  nodeId: string;
  gpuUuids: string[];
  /** Fractional jobs: the share of the one device (0.25, 0.5). */
  fraction?: number;
}

/** An assignment of the current attempt, with what starting its container added. */
export interface PlacedAssignment extends Assignment {
  containerId?: string;
  /** Published ports of the container on its node: {containerPort: hostPort}. */
  hostPorts?: Record<string, number>;
  /** Rank 0 of a multi-node job: the rendezvous port (MASTER_PORT) its node holds for the job. */
  rendezvousPort?: number;
}
