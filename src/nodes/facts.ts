// Pure parsers of what a node reports: the probe script's sections (probeScript.ts), nvidia-smi's
// CSV, `ip -j addr` (or `ip -o link` + `ip -o addr` where iproute2 predates -j). Nothing throws:
// what cannot be read is skipped and said in `warnings`.

import type { Gpu, InterfaceKind, NetInterface } from "../domain/nodeFacts";

export type { Gpu, InterfaceKind, NetInterface };

export interface NodeFacts {
  hostname: string;
  /** Every interface but `lo`, in the kernel's order. */
  interfaces: NetInterface[];
  gpus: Gpu[];
  cpus: number;
  memoryMiB: number;
  dockerVersion: string | null;
  /** Why there is no dockerVersion: not installed, daemon down, permission denied… */
  dockerError: string | null;
  nvidiaRuntime: boolean;
  /** nvidia-smi is installed and failed (driver not loaded, no devices, timed out…). */
  gpuError: string | null;
  /** nvidia-smi is not installed: a node without NVIDIA GPUs. */
  gpuToolMissing: boolean;
  warnings: string[];
}

export interface Section {
  body: string;
  exit: number;
}

const SECTIONS = ["hostname", "ip", "links", "infiniband", "cpus", "meminfo", "docker", "runtimes", "gpus"];

/** Text outside the markers (a chatty login shell's banner) is ignored. */
export function splitSections(stdout: string): Map<string, Section> {
  const sections = new Map<string, Section>();
  const re = /^@@hangar:([a-z]+)@@\n([\s\S]*?)\n?@@hangar:\1:exit=(\d+)@@$/gm;
  for (const m of stdout.replaceAll("\r\n", "\n").matchAll(re))
    sections.set(m[1] as string, { body: (m[2] as string).trim(), exit: Number(m[3]) });
  return sections;
}

const lines = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

/** A command's message on one line, for a status column. */
const oneLine = (text: string) => lines(text).join(" ").slice(0, 500);

const GPU_UUID = /^GPU-[0-9a-fA-F-]+$/;

/** `nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits`. */
export function parseNvidiaSmiCsv(text: string): { gpus: Gpu[]; warnings: string[] } {
  const gpus: Gpu[] = [];
  const warnings: string[] = [];
  for (const line of lines(text)) {
    const parts = line.split(",").map((p) => p.trim());
    // A name may hold commas; index and UUID lead, memory ends.
    const [index, uuid] = parts;
    const name = parts.slice(2, -1).join(", ");
    const mem = parts.length >= 4 ? parts[parts.length - 1] : undefined;
    if (!/^\d+$/.test(index ?? "") || !GPU_UUID.test(uuid ?? "") || !name || !/^\d+(\.\d+)?$/.test(mem ?? "")) {
      warnings.push(`unreadable nvidia-smi line: ${line.slice(0, 160)}`);
      continue;
    }
    gpus.push({ index: Number(index), uuid: uuid as string, name, memoryMiB: Math.round(Number(mem)) });
  }
  return { gpus, warnings };
}

/** "NVIDIA H100 80GB HBM3 x 8"; models in order of first appearance. */
export function gpuSummary(gpus: Gpu[]): string {
  if (gpus.length === 0) return "no GPU";
  const counts = new Map<string, number>();
  for (const g of gpus) counts.set(g.name, (counts.get(g.name) ?? 0) + 1);
  return [...counts].map(([name, n]) => `${name} x ${n}`).join(", ");
}

export function kindBySpeed(speedMbps: number | null): InterfaceKind {
  if (speedMbps === null) return "unknown";
  if (speedMbps <= 1000) return "1GbE";
  if (speedMbps <= 10_000) return "10GbE";
  if (speedMbps <= 25_000) return "25GbE";
  if (speedMbps <= 40_000) return "40GbE";
  return "100GbE";
}

/** One interface as `ip` reports it, before /sys facts are added. */
interface IpLink {
  name: string;
  up: boolean;
  mac: string | null;
  linkType: string | null;
  addresses: string[];
}

interface IpJsonEntry {
  ifname?: unknown;
  operstate?: unknown;
  flags?: unknown;
  link_type?: unknown;
  address?: unknown;
  addr_info?: unknown;
}

// Carrier is up; an UNKNOWN operstate (drivers that do not report it, tun) falls back on LOWER_UP.
const isUp = (operstate: string, flags: string[]) =>
  operstate === "UP" || (operstate === "UNKNOWN" && flags.includes("LOWER_UP"));

const str = (v: unknown) => (typeof v === "string" ? v : null);

function parseIpJson(body: string): IpLink[] | null {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    return null;
  }
  if (!Array.isArray(data)) return null;
  const out: IpLink[] = [];
  for (const e of data as IpJsonEntry[]) {
    const name = str(e?.ifname);
    if (!name) continue;
    const flags = Array.isArray(e.flags) ? e.flags.filter((f): f is string => typeof f === "string") : [];
    const addrs = Array.isArray(e.addr_info) ? (e.addr_info as { local?: unknown; prefixlen?: unknown }[]) : [];
    out.push({
      name,
      up: isUp(str(e.operstate) ?? "", flags),
      mac: str(e.address) || null,
      linkType: str(e.link_type),
      addresses: addrs
        .filter((a) => typeof a?.local === "string")
        .map((a) => (typeof a.prefixlen === "number" ? `${a.local}/${a.prefixlen}` : String(a.local))),
    });
  }
  return out;
}

// `ip -o link`: "4: eth0@if5: <BROADCAST,UP,LOWER_UP> mtu 1500 … state UP … \    link/ether 02:42:… brd …"
const IP_O_LINK = /^\d+:\s+([^\s:@]+)(?:@\S+)?:\s+<([^>]*)>.*?\bstate\s+(\S+).*?\blink\/(\S+)(?:\s+([0-9a-fA-F:]+))?/;
// `ip -o addr`: "4: eth0    inet 10.0.0.5/24 brd … scope global eth0\       valid_lft …"
const IP_O_ADDR = /^\d+:\s+([^\s@]+)(?:@\S+)?\s+inet6?\s+(\S+)/;

function parseIpOneline(body: string): IpLink[] {
  const byName = new Map<string, IpLink>();
  const get = (name: string) => {
    let link = byName.get(name);
    if (!link) {
      link = { name, up: false, mac: null, linkType: null, addresses: [] };
      byName.set(name, link);
    }
    return link;
  };
  for (const line of lines(body)) {
    const l = IP_O_LINK.exec(line);
    if (l) {
      const link = get(l[1] as string);
      link.up = isUp(l[3] as string, (l[2] as string).split(","));
      link.linkType = l[4] as string;
      link.mac = l[5] ?? null;
      continue;
    }
    const a = IP_O_ADDR.exec(line);
    if (a) get(a[1] as string).addresses.push(a[2] as string);
  }
  return [...byName.values()];
}

/** What /sys/class/net/<if>/ says: speed (Mb/s), ARPHRD type, a device behind it, bond/bridge. */
interface SysLink {
  speed: number | null;
  type: string;
  physical: boolean;
  bond: boolean;
}

function parseSysLinks(body: string): Map<string, SysLink> {
  const links = new Map<string, SysLink>();
  for (const line of body.split("\n")) {
    const [name, speed, type, physical, virt] = line.split("\t").map((p) => p.trim());
    if (!name) continue;
    const s = Number(speed);
    links.set(name, {
      speed: speed && Number.isFinite(s) && s > 0 ? s : null,
      type: type ?? "",
      physical: physical === "1",
      bond: virt === "bond",
    });
  }
  return links;
}

/** IPoIB netdev → its port's rate in Mb/s ("100 Gb/sec (4X EDR)" → 100000); RoCE ports are left out. */
function parseInfiniband(body: string, warnings: string[]): Map<string, number | null> {
  const best = new Map<string, { rate: number | null; active: boolean }>();
  for (const line of lines(body)) {
    const [hca, port, rate, state, linkLayer, nets] = line.split("\t").map((p) => p.trim());
    if (!hca || linkLayer !== "InfiniBand") continue;
    const gb = Number(/([\d.]+)\s*Gb\/sec/.exec(rate ?? "")?.[1]);
    const mbps = Number.isFinite(gb) && gb > 0 ? Math.round(gb * 1000) : null;
    const active = /ACTIVE/.test(state ?? "");
    // A multi-port HCA lists all its netdevs; dev_port (0-based) says which port each belongs to.
    const netdevs = (nets ?? "")
      .split(",")
      .filter(Boolean)
      .map((n) => n.split(":"))
      .filter(([, devPort]) => !devPort || Number(devPort) + 1 === Number(port))
      .map(([name]) => name as string);
    if (netdevs.length === 0) warnings.push(`InfiniBand port ${hca}/${port} has no network interface (no IPoIB)`);
    for (const n of netdevs) {
      const seen = best.get(n);
      if (!seen || (active && !seen.active)) best.set(n, { rate: mbps, active });
    }
  }
  return new Map([...best].map(([n, v]) => [n, v.rate]));
}

function interfacesOf(s: Map<string, Section>, warnings: string[]): NetInterface[] {
  const body = (name: string) => s.get(name)?.body ?? "";
  const sys = parseSysLinks(body("links"));
  const ib = parseInfiniband(body("infiniband"), warnings);
  const ipBody = body("ip");
  let ip = ipBody.startsWith("[") ? parseIpJson(ipBody) : parseIpOneline(ipBody);
  if (!ip || ip.length === 0) {
    warnings.push(`could not read \`ip\` (${oneLine(ipBody).slice(0, 120) || "no output"}); interfaces from /sys only`);
    ip = [...sys.keys()].map((name) => ({ name, up: false, mac: null, linkType: null, addresses: [] }));
  }
  return ip
    .filter((e) => e.name !== "lo")
    .map((e) => {
      const link = sys.get(e.name);
      const isIb = ib.has(e.name) || e.linkType === "infiniband" || link?.type === "32";
      const speed = (isIb ? ib.get(e.name) : null) ?? link?.speed ?? null;
      let kind: InterfaceKind;
      if (isIb) kind = "InfiniBand";
      // A bond has no device of its own but is as real as its slaves.
      else if (link && !link.physical && !link.bond) kind = "virtual";
      else kind = kindBySpeed(speed);
      return { name: e.name, addresses: e.addresses, speedMbps: speed, kind, up: e.up, mac: e.mac };
    });
}

function dockerOf(s: Map<string, Section>, warnings: string[]) {
  const docker = s.get("docker");
  const version = docker?.exit === 0 ? lines(docker.body).find((l) => /^\d+\.\d+\S*$/.test(l)) : undefined;
  if (!version) {
    const why = docker ? oneLine(docker.body) || `docker exited with ${docker.exit}` : "docker did not answer";
    return { dockerVersion: null, dockerError: why, nvidiaRuntime: false };
  }
  const runtimes = s.get("runtimes");
  let nvidiaRuntime = false;
  // `docker info` may print WARNING lines (swap limit…) around the JSON.
  const json = runtimes?.exit === 0 ? lines(runtimes.body).find((l) => l.startsWith("{")) : undefined;
  try {
    if (!json) throw new Error();
    nvidiaRuntime = Object.hasOwn(JSON.parse(json) as object, "nvidia");
  } catch {
    warnings.push(`could not read Docker's runtimes: ${oneLine(runtimes?.body ?? "").slice(0, 160) || "no answer"}`);
  }
  return { dockerVersion: version, dockerError: null, nvidiaRuntime };
}

function gpusOf(s: Map<string, Section>, warnings: string[]) {
  const g = s.get("gpus");
  const none = { gpus: [] as Gpu[], gpuError: null as string | null, gpuToolMissing: false };
  if (!g) return { ...none, gpuError: "the probe did not report GPUs" };
  if (g.exit === 127) return { ...none, gpuToolMissing: true };
  if (g.exit === 124) return { ...none, gpuError: "nvidia-smi timed out" };
  if (g.exit !== 0) return { ...none, gpuError: oneLine(g.body) || `nvidia-smi exited with ${g.exit}` };
  const parsed = parseNvidiaSmiCsv(g.body);
  warnings.push(...parsed.warnings);
  return { ...none, gpus: parsed.gpus };
}

export function parseProbeOutput(stdout: string): NodeFacts {
  const warnings: string[] = [];
  const s = splitSections(stdout);
  if (s.size === 0)
    return {
      hostname: "",
      interfaces: [],
      cpus: 0,
      memoryMiB: 0,
      ...dockerOf(s, warnings),
      ...gpusOf(s, warnings),
      warnings: ["the probe printed nothing readable"],
    };
  for (const name of SECTIONS) if (!s.has(name)) warnings.push(`the probe's ${name} section is missing`);

  const hostSec = s.get("hostname");
  const hostname = hostSec?.exit === 0 ? (lines(hostSec.body)[0] ?? "") : "";
  const cpus = Number(/^\d+$/m.exec(s.get("cpus")?.body ?? "")?.[0] ?? 0);
  const memKb = Number(/^MemTotal:\s+(\d+)\s*kB/m.exec(s.get("meminfo")?.body ?? "")?.[1] ?? 0);
  if (!hostname) warnings.push("no hostname");
  if (!cpus) warnings.push("no CPU count");
  if (!memKb) warnings.push("no MemTotal");
  const interfaces = interfacesOf(s, warnings);
  return {
    hostname,
    interfaces,
    cpus,
    memoryMiB: Math.round(memKb / 1024),
    ...dockerOf(s, warnings),
    ...gpusOf(s, warnings),
    warnings,
  };
}
