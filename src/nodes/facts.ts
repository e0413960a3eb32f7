// Pure parsers of what a node reports: the probe script's sections, nvidia-smi's CSV, `ip -j addr`.

export type InterfaceKind = "1GbE" | "10GbE" | "25GbE" | "40GbE" | "100GbE" | "InfiniBand" | "virtual" | "unknown";

export interface NetInterface {
  name: string;
  /** With prefix length, e.g. "10.0.0.5/24". */
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

export interface NodeFacts {
  hostname: string;
  interfaces: NetInterface[];
  gpus: Gpu[];
  cpus: number;
  memoryMiB: number;
  dockerVersion: string | null;
  dockerError: string | null;
  nvidiaRuntime: boolean;
  /** nvidia-smi ran and failed (driver not loaded …). */
  gpuError: string | null;
  /** nvidia-smi is not installed: a node without NVIDIA GPUs. */
  gpuToolMissing: boolean;
  warnings: string[];
}

interface Section {
  body: string;
  exit: number | null;
}

export function splitSections(stdout: string): Map<string, Section> {
  const sections = new Map<string, Section>();
  const re = /^@@hangar:([a-z]+)@@\n([\s\S]*?)\n?@@hangar:\1:exit=(\d+)@@$/gm;
  for (const m of stdout.matchAll(re))
    sections.set(m[1] as string, { body: (m[2] as string).trim(), exit: Number(m[3]) });
  return sections;
}

/** `nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits`. */
export function parseNvidiaSmiCsv(text: string, warnings: string[] = []): Gpu[] {
  const gpus: Gpu[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const parts = line.split(",").map((p) => p.trim());
    const [index, uuid, name, mem] = [parts[0], parts[1], parts.slice(2, -1).join(", "), parts[parts.length - 1]];
    const i = Number(index);
    const m = Number(mem);
    if (
      parts.length < 4 ||
      !Number.isInteger(i) ||
      !/^GPU-[0-9a-fA-F-]+$/.test(uuid ?? "") ||
      !name ||
      !Number.isFinite(m)
    ) {
      warnings.push(`unreadable nvidia-smi line: ${line.slice(0, 120)}`);
      continue;
    }
    gpus.push({ index: i, uuid: uuid as string, name, memoryMiB: m });
  }
  return gpus;
}

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

interface IpAddrEntry {
  ifname?: string;
  operstate?: string;
  flags?: string[];
  link_type?: string;
  address?: string;
  addr_info?: { local?: string; prefixlen?: number }[];
}

interface LinkFacts {
  speed: number | null;
  type: string;
  physical: boolean;
}

function parseLinks(body: string): Map<string, LinkFacts> {
  const links = new Map<string, LinkFacts>();
  for (const line of body.split("\n")) {
    const [name, speed, type, physical] = line.split("\t");
    if (!name) continue;
    const s = Number(speed);
    links.set(name, {
      speed: speed && Number.isFinite(s) && s > 0 ? s : null,
      type: type ?? "",
      physical: physical === "1",
    });
  }
  return links;
}

/** InfiniBand ports: netdev name → rate in Mb/s (from "100 Gb/sec (4X EDR)"). */
function parseInfiniband(body: string): { byNetdev: Map<string, number | null>; any: boolean } {
  const byNetdev = new Map<string, number | null>();
  let any = false;
  for (const line of body.split("\n")) {
    const [dev, rate, , linkLayer, nets] = line.split("\t");
    if (!dev) continue;
    if (linkLayer && linkLayer.trim() !== "InfiniBand") continue;
    any = true;
    const gb = Number(/([\d.]+)\s*Gb\/sec/.exec(rate ?? "")?.[1]);
    for (const n of (nets ?? "").split(",").filter(Boolean)) byNetdev.set(n, Number.isFinite(gb) ? gb * 1000 : null);
  }
  return { byNetdev, any };
}

function parseInterfaces(
  ipBody: string,
  links: Map<string, LinkFacts>,
  ib: Map<string, number | null>,
  warnings: string[],
) {
  let entries: IpAddrEntry[] = [];
  try {
    entries = JSON.parse(ipBody) as IpAddrEntry[];
  } catch {
    warnings.push("could not read `ip -j addr`; interfaces from /sys only");
    entries = [...links.keys()].map((ifname) => ({ ifname }));
  }
  const out: NetInterface[] = [];
  for (const e of entries) {
    const name = e.ifname;
    if (!name || name === "lo") continue;
    const link = links.get(name);
    const isIb = ib.has(name) || e.link_type === "infiniband" || link?.type === "32";
    const speed = isIb ? (ib.get(name) ?? link?.speed ?? null) : (link?.speed ?? null);
    const kind: InterfaceKind = isIb ? "InfiniBand" : link && !link.physical ? "virtual" : kindBySpeed(speed);
    out.push({
      name,
      addresses: (e.addr_info ?? [])
        .filter((a) => a.local)
        .map((a) => `${a.local}/${a.prefixlen ?? ""}`.replace(/\/$/, "")),
      speedMbps: speed,
      kind,
      up: e.operstate === "UP" || (e.flags ?? []).includes("UP"),
      mac: e.address ?? null,
    });
  }
  return out;
}

export function parseProbeOutput(stdout: string): NodeFacts {
  const warnings: string[] = [];
  const s = splitSections(stdout);
  const body = (name: string) => s.get(name)?.body ?? "";
  const ok = (name: string) => s.get(name)?.exit === 0;
  if (s.size === 0) warnings.push("the probe printed nothing readable");

  const ib = parseInfiniband(body("infiniband"));
  const interfaces = parseInterfaces(body("ip"), parseLinks(body("links")), ib.byNetdev, warnings);
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(body("meminfo"))?.[1] ?? 0);
  const dockerOk = ok("docker") && /^\d+\.\d+/.test(body("docker"));
  let nvidiaRuntime = false;
  if (ok("runtimes")) {
    try {
      nvidiaRuntime = "nvidia" in (JSON.parse(body("runtimes")) as Record<string, unknown>);
    } catch {
      warnings.push("could not read Docker's runtimes");
    }
  }
  const gpuExit = s.get("gpus")?.exit ?? 127;
  const gpuToolMissing = gpuExit === 127;
  const gpus = gpuExit === 0 ? parseNvidiaSmiCsv(body("gpus"), warnings) : [];
  return {
    hostname: body("hostname").split("\n")[0] ?? "",
    interfaces,
    gpus,
    cpus: Number(body("cpus")) || 0,
    memoryMiB: Math.round(memKb / 1024),
    dockerVersion: dockerOk ? body("docker") : null,
    dockerError: dockerOk ? null : body("docker") || "docker did not answer",
    nvidiaRuntime,
    gpuError: gpuExit === 0 || gpuToolMissing ? null : body("gpus").split("\n")[0] || `nvidia-smi exited ${gpuExit}`,
    gpuToolMissing,
    warnings,
  };
}
