// Pure: how the ranks of a multi-node job find each other. Their containers use the host's
// network (NCCL and Gloo open connections on ports of their own choosing, which no port mapping
// can foresee), so each rank talks on its node's chosen interface; rank 0's node holds the
// rendezvous (MASTER_ADDR:MASTER_PORT), on a port no other job on that node listens on.
import type { InterfaceChoice, NetInterface } from "../domain/nodeFacts";

/** The ports rendezvous are placed on (torchrun's default, 29500, first). */
export const RENDEZVOUS_PORTS = { first: 29500, last: 29999 } as const;

/** Where the ranks on a node talk to the others. */
export interface Interconnect {
  /** What other nodes connect to (MASTER_ADDR when the node holds rank 0). */
  address: string;
  /** The interface that holds it (NCCL_SOCKET_IFNAME / GLOO_SOCKET_IFNAME), when known. */
  interface: string | null;
  /** Which setting gave it: the data (10 GbE) interface, the InfiniBand one (IPoIB), or the node's SSH address. */
  via: "data" | "infiniband" | "ssh";
}

const ipv4 = (cidr: string): string | null => (cidr.includes(":") ? null : (cidr.split("/")[0] ?? null));

/**
 * The node's interconnect: the admin's data (10 GbE) interface, else its InfiniBand interface,
 * each only when it is up and has an IPv4 address; else the node's SSH address, on the interface
 * that holds it (`lo` for a loopback address: the facts leave `lo` out) or none when no known
 * interface does (NCCL and Gloo then pick one themselves).
 */
export function interconnect(node: {
  ip: string;
  interfaces: Partial<InterfaceChoice>;
  networkInterfaces: NetInterface[];
}): Interconnect {
  const byName = new Map(node.networkInterfaces.map((i) => [i.name, i]));
  for (const via of ["data", "infiniband"] as const) {
    const name = node.interfaces[via];
    const iface = name ? byName.get(name) : undefined;
    const address = iface?.up ? iface.addresses.map(ipv4).find((a) => a !== null) : undefined;
    if (iface && address) return { address, interface: iface.name, via };
  }
  const holder = node.networkInterfaces.find((i) => i.addresses.some((a) => a.split("/")[0] === node.ip));
  return { address: node.ip, interface: holder?.name ?? (isLoopback(node.ip) ? "lo" : null), via: "ssh" };
}

function isLoopback(ip: string): boolean {
  return ip === "::1" || ip === "localhost" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip);
}

/**
 * The rendezvous port of a job: the first port of `range` that is not `taken`, starting at a
 * place that depends on `seed` (the job id) so that jobs launched at once rarely try the same
 * one. Null when every port is taken.
 */
export function pickRendezvousPort(
  taken: Iterable<number>,
  seed: string,
  range: { first: number; last: number } = RENDEZVOUS_PORTS,
): number | null {
  const used = new Set(taken);
  const size = range.last - range.first + 1;
  let h = 0;
  for (const ch of seed) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  for (let i = 0; i < size; i++) {
    const port = range.first + ((h + i) % size);
    if (!used.has(port)) return port;
  }
  return null;
}

/** The script that lists a node's TCP sockets (parsed by listeningPorts); needs only /proc. */
export const LISTENING_PORTS_SCRIPT = "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null; true";

/** The TCP ports in state LISTEN in /proc/net/tcp{,6} text (`local_address` is ADDR:PORT in hex, `st` 0A). */
export function listeningPorts(procNetTcp: string): Set<number> {
  const ports = new Set<number>();
  for (const line of procNetTcp.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols[3] !== "0A") continue;
    const port = Number.parseInt(cols[1]?.split(":").pop() ?? "", 16);
    if (Number.isInteger(port) && port > 0) ports.add(port);
  }
  return ports;
}

/**
 * A multi-node job's end when rank `rank` (on node `node`) ended first with a failure: the reason
 * names it, and the ranks then stopped because of it.
 */
export function rankEndReason(rank: number, node: string, exitCode: number, stopped: number[]): string {
  const others = stopped.length === 0 ? "" : `; stopped rank${stopped.length > 1 ? "s" : ""} ${stopped.join(", ")}`;
  return `rank ${rank} on node ${node} exited ${exitCode}${others}`;
}
