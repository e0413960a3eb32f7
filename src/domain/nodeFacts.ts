// What a node reports about itself, as stored in the node's JSON columns: its network
// interfaces, its GPUs and the interfaces the admin chose. Plain types, no code.

export type InterfaceKind = "1GbE" | "10GbE" | "25GbE" | "40GbE" | "100GbE" | "InfiniBand" | "virtual" | "unknown";

export interface NetInterface {
  name: string;
  /** With prefix length, e.g. "10.0.0.5/24", "fe80::1/64". */
  addresses: string[];
  speedMbps: number | null;
  kind: InterfaceKind;
  up: boolean;
  mac: string | null;
}

export interface Gpu {
  index: number;
  uuid: string;
  name: string;
  memoryMiB: number;
}

/** Interface names chosen by the admin: control (SSH, Docker), data (between nodes), InfiniBand. */
export interface InterfaceChoice {
  control: string;
  data?: string;
  infiniband?: string;
}
