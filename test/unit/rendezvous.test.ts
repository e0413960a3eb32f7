import { describe, expect, test } from "bun:test";
import type { NetInterface } from "../../src/domain/nodeFacts";
import {
  interconnect,
  listeningPorts,
  pickRendezvousPort,
  RENDEZVOUS_PORTS,
  rankEndReason,
} from "../../src/jobs/rendezvous";

const iface = (name: string, kind: NetInterface["kind"], addresses: string[], up = true): NetInterface => ({
  name,
  kind,
  addresses,
  up,
  speedMbps: null,
  mac: null,
});
const eno1 = iface("eno1", "1GbE", ["192.168.1.10/24", "fe80::1/64"]);
const ens2 = iface("ens2f0", "10GbE", ["fd00::5/64", "10.1.0.5/24"]);
const ib0 = iface("ib0", "InfiniBand", ["10.9.0.5/16"]);

describe("interconnect: where a node's ranks talk", () => {
  test.each<[string, Parameters<typeof interconnect>[0], ReturnType<typeof interconnect>]>([
    [
      "the data (10 GbE) interface's IPv4 address first",
      {
        ip: "192.168.1.10",
        interfaces: { control: "eno1", data: "ens2f0", infiniband: "ib0" },
        networkInterfaces: [eno1, ens2, ib0],
      },
      { address: "10.1.0.5", interface: "ens2f0", via: "data" },
    ],
    [
      "no data interface: the InfiniBand one (IPoIB)",
      { ip: "192.168.1.10", interfaces: { control: "eno1", infiniband: "ib0" }, networkInterfaces: [eno1, ens2, ib0] },
      { address: "10.9.0.5", interface: "ib0", via: "infiniband" },
    ],
    [
      "a data interface that is down is passed over",
      {
        ip: "192.168.1.10",
        interfaces: { control: "eno1", data: "ens2f0" },
        networkInterfaces: [eno1, { ...ens2, up: false }],
      },
      { address: "192.168.1.10", interface: "eno1", via: "ssh" },
    ],
    [
      "a data interface without IPv4 is passed over",
      {
        ip: "192.168.1.10",
        interfaces: { control: "eno1", data: "ens2f0" },
        networkInterfaces: [eno1, { ...ens2, addresses: ["fd00::5/64"] }],
      },
      { address: "192.168.1.10", interface: "eno1", via: "ssh" },
    ],
    [
      "neither: the SSH address, on the interface holding it",
      { ip: "192.168.1.10", interfaces: { control: "eno1" }, networkInterfaces: [eno1, ens2] },
      { address: "192.168.1.10", interface: "eno1", via: "ssh" },
    ],
    [
      "an SSH address on loopback (facts leave lo out): lo",
      {
        ip: "127.0.0.3",
        interfaces: { control: "eth0" },
        networkInterfaces: [iface("eth0", "unknown", ["192.0.2.2/24"])],
      },
      { address: "127.0.0.3", interface: "lo", via: "ssh" },
    ],
    [
      "an SSH host name no interface holds: no interface",
      { ip: "gpu-3.lab", interfaces: { control: "eno1" }, networkInterfaces: [eno1] },
      { address: "gpu-3.lab", interface: null, via: "ssh" },
    ],
  ])("%s", (_name, node, expected) => {
    expect(interconnect(node)).toEqual(expected);
  });
});

describe("rendezvous port", () => {
  test("a free port of the range, the same for the same job", () => {
    const port = pickRendezvousPort([], "job-a");
    expect(port).toBeGreaterThanOrEqual(RENDEZVOUS_PORTS.first);
    expect(port).toBeLessThanOrEqual(RENDEZVOUS_PORTS.last);
    expect(pickRendezvousPort([], "job-a")).toBe(port);
  });

  test("skips taken ports, wrapping around the end of the range", () => {
    const range = { first: 100, last: 103 };
    const start = pickRendezvousPort([], "j", range) as number;
    const next = (p: number) => (p === 103 ? 100 : p + 1);
    expect(pickRendezvousPort([start], "j", range)).toBe(next(start));
    expect(pickRendezvousPort([start, next(start)], "j", range)).toBe(next(next(start)));
    expect(pickRendezvousPort([100, 101, 102, 103], "j", range)).toBeNull();
  });

  test("jobs launched together mostly start at different ports", () => {
    const ports = new Set(Array.from({ length: 50 }, (_, i) => pickRendezvousPort([], `job-${i}`)));
    expect(ports.size).toBeGreaterThan(40);
  });

  test("listening ports from /proc/net/tcp and tcp6 (state 0A), not connections", () => {
    const text = [
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "   0: 0100007F:7531 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 10 0",
      "   1: 0200007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 10 0",
      "   2: 0100007F:9C40 0100007F:7531 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 10 0",
      "  sl  local_address                         remote_address                        st tx_queue",
      "   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000",
    ].join("\n");
    expect([...listeningPorts(text)].sort((a, b) => a - b)).toEqual([22, 8080, 30001]);
    expect(listeningPorts("")).toEqual(new Set());
  });

  test("the reason of a rank's failure names the rank, its node and the ranks stopped", () => {
    expect(rankEndReason(1, "w-3", 137, [0])).toBe("rank 1 on node w-3 exited 137; stopped rank 0");
    expect(rankEndReason(0, "gpu1", 1, [1, 2])).toBe("rank 0 on node gpu1 exited 1; stopped ranks 1, 2");
    expect(rankEndReason(2, "gpu1", 1, [])).toBe("rank 2 on node gpu1 exited 1");
  });
});
