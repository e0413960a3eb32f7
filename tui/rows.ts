// Pure: what each view's table holds (columns, rows, detail lines) from a snapshot. The reducer
// uses it to keep the selection on the same row across refreshes; the screen renders it.
import type { ViewId } from "./keys";
import type { JobRow, NodeRow, Snapshot } from "./source";

export interface Column {
  title: string;
  width: number;
  /** Shares the width left over (at least `width`). */
  flex?: boolean;
  right?: boolean;
  /** Only when the terminal is at least this wide. */
  minScreen?: number;
}

/** good/bad/warn tint the row; the text always says the same (monochrome terminals). */
export type Tone = "good" | "bad" | "warn" | "dim" | undefined;

export interface Row {
  id: string;
  cells: string[];
  tone?: Tone;
}

export interface Table {
  columns: Column[];
  rows: Row[];
}

export const LIVE = new Set(["starting", "running"]);

export function toneOf(status: string): Tone {
  if (status === "running" || status === "attached" || status === "active" || status === "succeeded") return "good";
  if (status === "failed" || status === "error" || status === "lost") return "bad";
  if (status === "pending" || status === "starting" || status === "connecting" || status === "reserved") return "warn";
  if (status === "cancelled" || status === "detached" || status === "expired") return "dim";
  return undefined;
}

/** `████░░░░` for used of total in `width` cells: shape, not colour, says how full. */
export function bar(used: number, total: number, width: number): string {
  if (total <= 0) return "·".repeat(width);
  const full = Math.min(width, Math.round((used / total) * width));
  return "█".repeat(full) + "░".repeat(width - full);
}

export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

export function jobDuration(j: Pick<JobRow, "startedAt" | "finishedAt">, now: number): string {
  if (!j.startedAt) return "-";
  const end = j.finishedAt ? Date.parse(j.finishedAt) : now;
  return duration((end - Date.parse(j.startedAt)) / 1000);
}

const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/0+$/, ""));
const day = (iso: string) => iso.slice(0, 10);
const stamp = (iso: string | null) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : "-");

export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

function gpuModel(n: NodeRow): string {
  const names = [...new Set(n.gpus.map((g) => g.name.replace(/^NVIDIA /, "")))];
  return names.length === 0 ? "-" : names.join(",");
}

function interfaces(n: NodeRow): string {
  const i = n.interfaces;
  return [i.control, i.data, i.infiniband].filter(Boolean).join(",") || "-";
}

/** GPUs live jobs hold per workspace. */
export function workspaceUse(jobs: readonly JobRow[]): Map<string, number> {
  const use = new Map<string, number>();
  for (const j of jobs) if (LIVE.has(j.status)) use.set(j.workspace, (use.get(j.workspace) ?? 0) + j.gpus);
  return use;
}

/** Running jobs per node id. */
function jobsOnNodes(jobs: readonly JobRow[]): Map<string, number> {
  const on = new Map<string, number>();
  for (const j of jobs)
    if (LIVE.has(j.status)) for (const a of j.assignments) on.set(a.nodeId, (on.get(a.nodeId) ?? 0) + 1);
  return on;
}

function nodeNames(s: Snapshot): Map<string, string> {
  return new Map(s.nodes.map((n) => [n.id, n.name]));
}

/** Where a job runs, by node name (a job over several nodes: the first and a count). */
function nodeOf(j: JobRow, names: ReadonlyMap<string, string>): string {
  const ids = [...new Set(j.assignments.map((a) => a.nodeId))];
  const first = ids[0] ?? j.node;
  if (!first) return "-";
  const name = names.get(first) ?? first;
  return ids.length > 1 ? `${name}+${ids.length - 1}` : name;
}

/** The last table built per view: a key press rebuilds nothing when the data and the second are the same. */
const built = new Map<ViewId, { s: Snapshot; second: number; table: Table }>();

/** `now` undefined: any table of this snapshot will do (the reducer needs the rows' ids and text, not the clock). */
export function tableFor(view: ViewId, s: Snapshot, now?: number): Table {
  const hit = built.get(view);
  if (hit && hit.s === s && (now === undefined || hit.second === Math.floor(now / 1000))) return hit.table;
  const at = now ?? Date.now();
  const second = Math.floor(at / 1000);
  const table = buildTable(view, s, at);
  built.set(view, { s, second, table });
  return table;
}

function buildTable(view: ViewId, s: Snapshot, now: number): Table {
  switch (view) {
    case "overview": {
      const on = jobsOnNodes(s.jobs);
      return {
        columns: [
          { title: "NODE", width: 10, flex: true },
          { title: "STATUS", width: 9 },
          { title: "GPUS IN USE", width: 16, flex: true },
          { title: "USE", width: 7, right: true },
          { title: "JOBS", width: 4, right: true },
          { title: "GPU MODEL", width: 14, minScreen: 96 },
        ],
        rows: s.nodes.map((n) => ({
          id: n.id,
          cells: [
            n.name,
            n.status,
            `\u0000bar:${n.gpusInUse}:${n.gpuTotal}`,
            `${num(n.gpusInUse)}/${n.gpuTotal}`,
            String(on.get(n.id) ?? 0),
            gpuModel(n),
          ],
          tone: toneOf(n.status),
        })),
      };
    }
    case "nodes":
      return {
        columns: [
          { title: "NODE", width: 10, flex: true },
          { title: "STATUS", width: 9 },
          { title: "USE", width: 5, right: true },
          { title: "GPUS", width: 18 },
          { title: "IFACES", width: 10, minScreen: 100 },
          { title: "STORAGE", width: 7, minScreen: 100 },
          { title: "IP", width: 15, minScreen: 100 },
          { title: "REASON", width: 10, flex: true },
        ],
        rows: s.nodes.map((n) => ({
          id: n.id,
          cells: [
            n.name,
            n.status,
            `${num(n.gpusInUse)}/${n.gpuTotal}`,
            n.gpuTotal ? `${n.gpuTotal}× ${gpuModel(n)}` : "none",
            interfaces(n),
            n.storage,
            n.ip,
            n.statusMessage ?? (n.schedulable ? "" : "not schedulable"),
          ],
          tone: toneOf(n.status),
        })),
      };
    case "queue":
      return {
        columns: [
          { title: "#", width: 3, right: true },
          { title: "JOB", width: 16 },
          { title: "WORKSPACE", width: 10 },
          { title: "USER", width: 8, minScreen: 100 },
          { title: "GPUS", width: 4, right: true },
          { title: "WAITED", width: 7, right: true },
          { title: "REASON", width: 14, flex: true },
        ],
        rows: s.queue.items.map((q) => ({
          id: q.id,
          cells: [
            String(q.position),
            q.name,
            q.workspace,
            q.createdBy,
            num(q.gpus),
            duration(q.waitingSeconds),
            q.reason ?? (q.queued ? "queued" : "waiting"),
          ],
          tone: q.queued ? "warn" : "dim",
        })),
      };
    case "jobs":
    case "log": {
      const names = nodeNames(s);
      return {
        columns: [
          { title: "JOB", width: 10, flex: true },
          { title: "WORKSPACE", width: 10 },
          { title: "STATUS", width: 9 },
          { title: "NODE", width: 10 },
          { title: "GPUS", width: 4, right: true },
          { title: "TIME", width: 7, right: true },
          { title: "USER", width: 8, minScreen: 96 },
          { title: "CREATED", width: 19, minScreen: 100 },
        ],
        rows: s.jobs.map((j) => ({
          id: j.id,
          cells: [
            j.name,
            j.workspace,
            j.status,
            nodeOf(j, names),
            num(j.gpus),
            jobDuration(j, now),
            j.createdBy,
            stamp(j.createdAt),
          ],
          tone: toneOf(j.status),
        })),
      };
    }
    case "workspaces": {
      const use = workspaceUse(s.jobs);
      return {
        columns: [
          { title: "WORKSPACE", width: 10, flex: true },
          { title: "STATUS", width: 8 },
          { title: "PERIOD", width: 21 },
          { title: "GPUS", width: 7, right: true },
          { title: "DEPL", width: 4, right: true, minScreen: 100 },
          { title: "MEMBERS", width: 7, right: true },
          { title: "MANAGER", width: 10, minScreen: 100 },
        ],
        rows: s.workspaces.map((w) => ({
          id: w.name,
          cells: [
            w.name,
            w.status,
            `${day(w.startsAt)}…${day(w.endsAt)}`,
            `${num(use.get(w.name) ?? 0)}/${w.trainingGpus}`,
            String(w.deploymentGpus),
            String(w.users.length),
            w.manager,
          ],
          tone: toneOf(w.status),
        })),
      };
    }
    case "users":
      return {
        columns: [
          { title: "USER", width: 12, flex: true },
          { title: "TYPE", width: 8 },
          { title: "ACTIVE", width: 11 },
          { title: "2FA", width: 4 },
          { title: "SSH KEY", width: 7, minScreen: 100 },
          { title: "CREATED", width: 10 },
        ],
        rows: s.users.map((u) => ({
          id: u.userId,
          cells: [
            u.userId,
            u.role,
            u.active ? "active" : "deactivated",
            u.totpEnabled ? "on" : "off",
            u.hasSshKey ? "yes" : "no",
            day(u.createdAt),
          ],
          tone: u.active ? undefined : "dim",
        })),
      };
  }
}

/** The rows whose cells contain the filter (case-insensitive). */
export function filterRows(rows: readonly Row[], filter: string): readonly Row[] {
  if (!filter) return rows;
  const f = filter.toLowerCase();
  return rows.filter((r) => r.cells.some((c) => c.toLowerCase().includes(f)));
}

/** The detail pane of the selected row. */
export function detailFor(view: ViewId, s: Snapshot, id: string | null, now: number): string[] {
  if (id === null) return ["nothing selected"];
  switch (view) {
    case "overview":
    case "nodes": {
      const n = s.nodes.find((x) => x.id === id);
      if (!n) return [];
      return [
        `node ${n.name} (${n.id}) ${n.ip}:${n.sshPort} as ${n.sshUser}`,
        `status ${n.status}${n.statusMessage ? `: ${n.statusMessage}` : ""}${n.schedulable ? "" : " · not schedulable"}`,
        `GPUs ${num(n.gpusInUse)}/${n.gpuTotal} in use ${bar(n.gpusInUse, n.gpuTotal, 10)} · ${n.gpuConfig || "-"}${n.nvidiaRuntime ? " · nvidia runtime" : ""}`,
        ...n.gpus.map((g) => `  #${g.index} ${g.name} ${Math.round(g.memoryMiB / 1024)} GiB ${g.uuid}`),
        `CPUs ${n.cpus} · memory ${bytes(n.memoryMiB * 1024 * 1024)} · docker ${n.dockerVersion ?? "-"}`,
        `storage ${n.storage} · interfaces: control ${n.interfaces.control}${n.interfaces.data ? `, data ${n.interfaces.data}` : ""}${n.interfaces.infiniband ? `, infiniband ${n.interfaces.infiniband}` : ""}`,
        ...n.networkInterfaces
          .filter((i) => i.up && !/^(veth|docker|br-|lo$)/.test(i.name))
          .map(
            (i) =>
              `  ${i.name} ${i.up ? "up" : "down"} ${i.speedMbps ? `${i.speedMbps} Mb/s` : ""} ${i.addresses.join(" ")}`,
          ),
        `last seen ${stamp(n.lastSeenAt)}`,
      ];
    }
    case "queue": {
      const q = s.queue.items.find((x) => x.id === id);
      if (!q) return [];
      return [
        `#${q.position} ${q.name} (${q.id}) · ${q.kind} in ${q.workspace} by ${q.createdBy}`,
        `${num(q.gpus)} GPU(s)${q.nodes > 1 ? ` over ${q.nodes} nodes` : ""} · waited ${duration(q.waitingSeconds)} · tried ${q.attempts} pass(es)`,
        `reason: ${q.reason ?? "-"}${q.reasonCode ? ` (${q.reasonCode})` : ""}`,
        `submitted ${stamp(q.createdAt)} · queued ${stamp(q.queuedAt)} · policy ${s.queue.policy}`,
      ];
    }
    case "jobs":
    case "log": {
      const j = s.jobs.find((x) => x.id === id);
      if (!j) return [];
      return [
        `${j.name} (${j.id}) in ${j.workspace} by ${j.createdBy}`,
        `status ${j.status}${j.statusReason ? `: ${j.statusReason}` : ""}${j.exitCode !== null ? ` · exit ${j.exitCode}` : ""}`,
        `${num(j.gpus)} GPU(s) on ${j.assignments.map((a) => `${nodeNames(s).get(a.nodeId) ?? a.nodeId}[${a.fraction ?? a.gpuUuids.length}]`).join(" ") || "-"} · time ${jobDuration(j, now)}`,
        `image ${j.image}${j.dataset ? ` · dataset ${j.dataset}` : ""}`,
        `command: ${j.command.replace(/\s+/g, " ")}`,
        `created ${stamp(j.createdAt)} · started ${stamp(j.startedAt)} · finished ${stamp(j.finishedAt)}`,
      ];
    }
    case "workspaces": {
      const w = s.workspaces.find((x) => x.name === id);
      if (!w) return [];
      const use = workspaceUse(s.jobs).get(w.name) ?? 0;
      return [
        `${w.name} (${w.status}) · manager ${w.manager}${w.description ? ` · ${w.description}` : ""}`,
        `period ${stamp(w.startsAt)} → ${stamp(w.endsAt)}`,
        `training GPUs ${num(use)}/${w.trainingGpus} in use ${bar(use, w.trainingGpus, 10)} · deployment GPUs ${w.deploymentGpus}`,
        `members (${w.users.length}): ${w.users.join(", ") || "-"}`,
      ];
    }
    case "users": {
      const u = s.users.find((x) => x.userId === id);
      if (!u) return [];
      return [
        `${u.userId} · ${u.role} · ${u.active ? "active" : "deactivated"}`,
        `2FA ${u.totpEnabled ? "on" : "off"} · SSH key ${u.hasSshKey ? "set" : "none"}${u.mustChangePassword ? " · must change password" : ""}`,
        `created ${stamp(u.createdAt)} · updated ${stamp(u.updatedAt)}`,
      ];
    }
  }
}
