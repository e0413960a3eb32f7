// Request and response shapes of /api/nodes.
import { type Static, t } from "elysia";
import { NODE_STATUSES } from "../domain/nodeHealth";
import { STORAGE_MODES } from "../domain/storage";
import { Literals, NAME_MAX, Page, Time } from "../http/schemas";

export const INTERFACE_KINDS = [
  "1GbE",
  "10GbE",
  "25GbE",
  "40GbE",
  "100GbE",
  "InfiniBand",
  "virtual",
  "unknown",
] as const;

export const NetInterface = t.Object({
  name: t.String(),
  addresses: t.Array(t.String(), { description: "with prefix length, e.g. 10.0.0.5/24" }),
  speedMbps: t.Nullable(t.Number()),
  kind: Literals(INTERFACE_KINDS),
  up: t.Boolean(),
  mac: t.Nullable(t.String()),
});

export const Gpu = t.Object({ index: t.Integer(), uuid: t.String(), name: t.String(), memoryMiB: t.Number() });

/** The interfaces the admin chose for a node. */
export const InterfaceChoice = t.Object({
  control: t.String(),
  data: t.Optional(t.String()),
  infiniband: t.Optional(t.String()),
});
export type InterfaceChoice = Static<typeof InterfaceChoice>;

export const Node = t.Object({
  id: t.String(),
  name: t.String(),
  ip: t.String(),
  sshPort: t.Integer(),
  sshUser: t.String(),
  dockerSocket: t.String(),
  status: Literals(NODE_STATUSES),
  statusMessage: t.Nullable(t.String()),
  schedulable: t.Boolean(),
  interfaces: InterfaceChoice,
  networkInterfaces: t.Array(NetInterface),
  gpus: t.Array(Gpu),
  gpuConfig: t.String(),
  gpusInUse: t.Number(),
  gpuTotal: t.Integer(),
  cpus: t.Integer(),
  memoryMiB: t.Number(),
  dockerVersion: t.Nullable(t.String()),
  nvidiaRuntime: t.Boolean(),
  hostname: t.Nullable(t.String()),
  /** shared: reads the master's data dir at the same path; staged: no shared filesystem; none: not detected. */
  storage: Literals(STORAGE_MODES),
  hostKeyFingerprint: t.Nullable(t.String()),
  lastSeenAt: t.Nullable(Time),
  createdAt: Time,
});
export type Node = Static<typeof Node>;

export const NodePage = Page(Node);
export type NodePage = Static<typeof NodePage>;

export const MasterKey = t.Object({ publicKey: t.String({ description: "for a worker's authorized_keys" }) });
export type MasterKey = Static<typeof MasterKey>;

/** What "Get Info" found on a host. */
export const ProbeResult = t.Object({
  hostname: t.String(),
  interfaces: t.Array(NetInterface),
  gpus: t.Array(Gpu),
  gpuConfig: t.String(),
  cpus: t.Integer(),
  memoryMiB: t.Number(),
  dockerVersion: t.Nullable(t.String()),
  dockerError: t.Nullable(t.String()),
  nvidiaRuntime: t.Boolean(),
  gpuError: t.Nullable(t.String()),
  warnings: t.Array(t.String()),
  hostKeyFingerprint: t.Nullable(t.String()),
});
export type ProbeResult = Static<typeof ProbeResult>;

const target = {
  ip: t.String({ maxLength: 253 }),
  sshPort: t.Optional(t.Integer({ description: "default 22" })),
  sshUser: t.Optional(t.String({ maxLength: 32, description: "default root" })),
  dockerSocket: t.Optional(t.String({ maxLength: 256, description: "default /var/run/docker.sock" })),
};
const interfaces = t.Optional(
  t.Object({
    control: t.Optional(t.String({ maxLength: 64 })),
    data: t.Optional(t.String({ maxLength: 64 })),
    infiniband: t.Optional(t.String({ maxLength: 64 })),
  }),
);

export const ProbeNodeBody = t.Object(target);
export type ProbeNodeBody = Static<typeof ProbeNodeBody>;

export const AddNodeBody = t.Object({ ...target, name: t.Optional(t.String({ maxLength: NAME_MAX })), interfaces });
export type AddNodeBody = Static<typeof AddNodeBody>;

export const PatchNodeBody = t.Object({ name: t.Optional(t.String({ maxLength: NAME_MAX })), interfaces });
export type PatchNodeBody = Static<typeof PatchNodeBody>;
