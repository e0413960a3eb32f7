// Nodes (docs/product.md#nodes): the master as node `local`, workers added over SSH, connect/disconnect,
// and the periodic health probe. Decisions are in domain/nodeHealth; effects in manager.ts.
import { mkdir, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { dirname } from "node:path";
import { eq } from "drizzle-orm";
import type { Deps } from "../deps";
import { badRequest, conflict, notFound } from "../domain/errors";
import type { ProbeOutcome } from "../domain/nodeHealth";
import { nameProblem } from "../domain/rules";
import { checkStorage, type StorageMode, storageMode, storageProbeScript } from "../domain/storage";
import type { Executor } from "../executor/port";
import { dataLayout } from "../lib/layout";
import { SshError } from "../ssh/session";
import type { Tables } from "../store/store";
import { gpuSummary, type NetInterface, type NodeFacts } from "./facts";
import { DEFAULT_DOCKER_SOCKET, LOCAL_NODE_ID, type NodeAddress, reasonOf } from "./manager";
import type {
  AddNodeBody,
  InterfaceChoice,
  MasterKey,
  Node,
  NodePage,
  PatchNodeBody,
  ProbeNodeBody,
  ProbeResult,
} from "./model";
import type { MpsKey } from "./mps";
import type { MpsStart } from "./mpsDaemons";
import { toNodeView } from "./view";

type NodeRow = Tables["nodes"]["$inferSelect"];

const HOSTNAME =
  /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

function address(input: ProbeNodeBody): Omit<NodeAddress, "id"> {
  const ip = input.ip.trim();
  if (!isIP(ip) && !HOSTNAME.test(ip)) throw badRequest("ip", "ip must be an IPv4/IPv6 address or a host name");
  const sshPort = input.sshPort ?? 22;
  if (!Number.isInteger(sshPort) || sshPort < 1 || sshPort > 65535)
    throw badRequest("sshPort", "sshPort must be an integer from 1 to 65535");
  const sshUser = input.sshUser ?? "root";
  if (!/^[a-z_][a-z0-9_.-]{0,31}$/i.test(sshUser)) throw badRequest("sshUser", "sshUser is not a valid user name");
  const dockerSocket = input.dockerSocket ?? DEFAULT_DOCKER_SOCKET;
  if (!/^\/[A-Za-z0-9._/-]{1,200}$/.test(dockerSocket) || dockerSocket.includes(".."))
    throw badRequest("dockerSocket", "dockerSocket must be an absolute path like /var/run/docker.sock");
  return { ip, sshPort, sshUser, hostKeyFingerprint: null, dockerSocket };
}

/** A node row's SSH and Docker address (what NodeManager takes). */
export const toAddress = (row: NodeRow): NodeAddress => ({
  id: row.id,
  ip: row.ip,
  sshPort: row.sshPort,
  sshUser: row.sshUser,
  hostKeyFingerprint: row.hostKeyFingerprint,
  dockerSocket: row.dockerSocket,
  nvidiaRuntime: row.nvidiaRuntime,
});

/** SSH failures while probing are the caller's input leading nowhere: a 4xx naming the field. */
function probeFailure(err: unknown): never {
  if (err instanceof SshError) {
    const field = err.reason === "auth" ? "sshUser" : "ip";
    throw badRequest(field, err.message, `ssh_${err.reason}`);
  }
  throw err;
}

export function masterPublicKey(deps: Deps): MasterKey {
  return { publicKey: deps.masterKey.publicKey };
}

export async function probeNode(deps: Deps, input: ProbeNodeBody): Promise<ProbeResult> {
  const target = address(input);
  const report = await deps.nodes.probeAddress(target).catch(probeFailure);
  return { ...factsView(report.facts), hostKeyFingerprint: report.hostKeyFingerprint };
}

function factsView(f: NodeFacts): Omit<ProbeResult, "hostKeyFingerprint"> {
  return {
    hostname: f.hostname,
    interfaces: f.interfaces,
    gpus: f.gpus,
    gpuConfig: gpuSummary(f.gpus),
    cpus: f.cpus,
    memoryMiB: f.memoryMiB,
    dockerVersion: f.dockerVersion,
    dockerError: f.dockerError,
    nvidiaRuntime: f.nvidiaRuntime,
    gpuError: f.gpuError,
    warnings: f.warnings,
  };
}

async function rows(deps: Deps): Promise<NodeRow[]> {
  return deps.store.db.select().from(deps.store.t.nodes).orderBy(deps.store.t.nodes.createdAt);
}

async function findRow(deps: Deps, id: string): Promise<NodeRow> {
  const [row] = await deps.store.db.select().from(deps.store.t.nodes).where(eq(deps.store.t.nodes.id, id)).limit(1);
  if (!row) throw notFound(`node ${id}`);
  return row;
}

const view = (deps: Deps, row: NodeRow): Node => toNodeView(row, deps.gpuUsage.onNode(row.id), gpuSummary);

export async function listNodes(deps: Deps): Promise<NodePage> {
  const items = (await rows(deps)).map((r) => view(deps, r));
  return { items, total: items.length };
}

export async function getNode(deps: Deps, id: string): Promise<Node> {
  return view(deps, await findRow(deps, id));
}

function chooseInterfaces(choice: Partial<InterfaceChoice> | undefined, available: NetInterface[]): InterfaceChoice {
  const names = new Set(available.map((i) => i.name));
  const pick = (field: keyof InterfaceChoice, value: string | undefined) => {
    if (value === undefined || value === "") return undefined;
    if (!names.has(value))
      throw badRequest(
        `interfaces.${field}`,
        `node has no interface ${value} (it has ${[...names].join(", ") || "none"})`,
      );
    return value;
  };
  const control = pick("control", choice?.control) ?? defaultControl(available);
  if (!control) throw badRequest("interfaces.control", "choose the control (1 GbE) interface");
  const infiniband = pick("infiniband", choice?.infiniband);
  if (infiniband && available.find((i) => i.name === infiniband)?.kind !== "InfiniBand")
    throw badRequest("interfaces.infiniband", `${infiniband} is not an InfiniBand interface`);
  return { control, data: pick("data", choice?.data), infiniband };
}

/** Without a choice: the first physical interface that is up and has an address. */
function defaultControl(available: NetInterface[]): string | undefined {
  return (
    available.find((i) => i.up && i.addresses.length > 0 && i.kind !== "virtual" && i.kind !== "InfiniBand") ??
    available.find((i) => i.addresses.length > 0)
  )?.name;
}

export async function addNode(deps: Deps, input: AddNodeBody): Promise<Node> {
  const target = address(input);
  if (input.name !== undefined) {
    const problem = nameProblem(input.name, "name");
    if (problem) throw badRequest("name", problem);
  }
  const existing = await rows(deps);
  if (existing.some((r) => r.ip === target.ip && r.sshPort === target.sshPort))
    throw conflict(`a node at ${target.ip}:${target.sshPort} already exists`, "duplicate", "ip");
  // The first connect pins the host key; the facts fill the node until its first health probe.
  const report = await deps.nodes.probeAddress(target).catch(probeFailure);
  const facts = report.facts;
  const name = input.name ?? suggestName(facts.hostname, target.ip);
  if (existing.some((r) => r.name === name)) throw conflict(`a node named ${name} already exists`, "duplicate", "name");
  const interfaces = chooseInterfaces(input.interfaces, facts.interfaces);
  const now = deps.clock.now().toISOString();
  const id = `node-${crypto.randomUUID().slice(0, 8)}`;
  const [row] = await deps.store.tx((db) =>
    db
      .insert(deps.store.t.nodes)
      .values({
        id,
        name,
        ...target,
        hostKeyFingerprint: report.hostKeyFingerprint,
        desired: "detached",
        status: "detached",
        interfaces,
        ...factColumns(facts),
        lastSeenAt: now,
        createdAt: now,
        updatedAt: now,
      })
      .returning(),
  );
  return view(deps, row as NodeRow);
}

function suggestName(hostname: string, ip: string): string {
  const base = hostname
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 20)
    .replace(/-$/, "");
  return base && !nameProblem(base) ? base : `node-${ip.replace(/[^0-9a-z]+/gi, "-")}`.slice(0, 20).replace(/-$/, "");
}

function factColumns(f: NodeFacts) {
  return {
    networkInterfaces: f.interfaces,
    gpus: f.gpus,
    cpus: f.cpus,
    memoryMiB: f.memoryMiB,
    dockerVersion: f.dockerVersion,
    nvidiaRuntime: f.nvidiaRuntime,
    hostname: f.hostname,
  };
}

export async function patchNode(deps: Deps, id: string, input: PatchNodeBody): Promise<Node> {
  const row = await findRow(deps, id);
  if (input.name !== undefined) {
    const problem = nameProblem(input.name, "name");
    if (problem) throw badRequest("name", problem);
    if (id === LOCAL_NODE_ID && input.name !== row.name)
      throw badRequest("name", "the master node keeps the name local");
    const [clash] = await deps.store.db
      .select()
      .from(deps.store.t.nodes)
      .where(eq(deps.store.t.nodes.name, input.name));
    if (clash && clash.id !== id) throw conflict(`a node named ${input.name} already exists`, "duplicate", "name");
  }
  const current = row.interfaces;
  const interfaces = input.interfaces
    ? chooseInterfaces({ ...current, ...input.interfaces }, row.networkInterfaces)
    : current;
  return save(deps, id, { name: input.name ?? row.name, interfaces });
}

async function save(deps: Deps, id: string, set: Partial<NodeRow>): Promise<Node> {
  const [row] = await deps.store.tx((db) =>
    db
      .update(deps.store.t.nodes)
      .set({ ...set, updatedAt: deps.clock.now().toISOString() })
      .where(eq(deps.store.t.nodes.id, id))
      .returning(),
  );
  if (!row) throw notFound(`node ${id}`);
  return view(deps, row);
}

export async function deleteNode(deps: Deps, id: string): Promise<void> {
  const row = await findRow(deps, id);
  if (id === LOCAL_NODE_ID) throw conflict("the master node cannot be deleted; disconnect it instead", "local_node");
  if (deps.gpuUsage.onNode(id) > 0)
    throw conflict(`jobs are running on node ${row.name}; wait for them or cancel them`, "node_busy");
  const running = await (await deps.nodes.executor(toAddress(row)))
    .list()
    .then((cs) => cs.filter((c) => c.state === "running"))
    .catch(() => []);
  if (running.length > 0)
    throw conflict(`${running.length} Hangar container(s) still run on node ${row.name}`, "node_busy");
  await deps.store.tx((db) => db.delete(deps.store.t.nodes).where(eq(deps.store.t.nodes.id, id)));
  await deps.nodes.forget(id);
}

/** Connect: attaching, then the SSH/Docker/GPU checks decide attached or error. */
export async function connectNode(deps: Deps, id: string): Promise<Node> {
  await save(deps, id, { desired: "attached", status: "attaching", statusMessage: "checking SSH, Docker and GPUs" });
  return refreshNode(deps, id);
}

/** Disconnect: no new placements; running containers are left alone. */
export async function disconnectNode(deps: Deps, id: string): Promise<Node> {
  await findRow(deps, id);
  deps.nodes.health({ id, desired: "detached", status: "detached", statusMessage: null }, { ok: true, warning: null });
  return save(deps, id, { desired: "detached", status: "detached", statusMessage: null });
}

/** One health check of a node, applied to the store. */
export async function refreshNode(deps: Deps, id: string): Promise<Node> {
  const row = await findRow(deps, id);
  if (row.desired === "detached") return view(deps, row);
  const { outcome, report } = await deps.nodes.check(toAddress(row));
  if (!outcome.ok) return applyCheck(deps, row, outcome, report?.facts ?? null);
  // Reachable: is the data dir the master's there? (chosen at connect, checked every round)
  const storage = checkStorage({
    chosen: row.storage,
    detected: await detectStorage(deps, row),
    connecting: row.status === "attaching",
    dataDir: deps.config.dataDir,
  });
  const checked: ProbeOutcome = storage.problem ? { ok: false, reason: storage.problem } : outcome;
  return applyCheck(deps, row, checked, report?.facts ?? null, storage.storage);
}

/**
 * The master writes a fresh token in its data dir; the node must read it at the same path. The
 * master itself shares its own filesystem.
 */
async function detectStorage(deps: Deps, row: NodeRow): Promise<StorageMode> {
  if (row.id === LOCAL_NODE_ID) return "shared";
  const path = dataLayout(deps.config.dataDir).storageProbe(row.id);
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex");
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${token}\n`);
  } catch (err) {
    deps.logger.warn("writing the storage probe failed", { node: row.id, err: reasonOf(err, "") });
    return "none";
  }
  const read = await deps.nodes.run(toAddress(row), storageProbeScript(path), 15_000).catch(() => null);
  return storageMode(token, read);
}

async function applyCheck(
  deps: Deps,
  row: NodeRow,
  outcome: ProbeOutcome,
  facts: NodeFacts | null,
  storage?: StorageMode,
) {
  const health = deps.nodes.health(
    {
      id: row.id,
      desired: row.desired,
      status: row.status,
      statusMessage: row.statusMessage,
    },
    outcome,
  );
  const now = deps.clock.now().toISOString();
  return save(deps, row.id, {
    status: health.status,
    statusMessage: health.statusMessage,
    ...(facts ? { ...factColumns(facts), lastSeenAt: now } : {}),
    ...(storage ? { storage } : {}),
  });
}

/** One round of the health loop over every node that should be attached. */
export async function probeAllNodes(deps: Deps): Promise<void> {
  const all = await rows(deps);
  await Promise.all(
    all
      .filter((r) => r.desired === "attached")
      .map((r) =>
        refreshNode(deps, r.id).catch((err) =>
          deps.logger.warn("node probe failed", { node: r.id, err: reasonOf(err, "") }),
        ),
      ),
  );
}

/** The executor of a node (with its Docker channel ready): what jobs run their containers through. */
export async function nodeExecutor(deps: Deps, id: string): Promise<Executor> {
  return deps.nodes.executor(toAddress(await findRow(deps, id)));
}

/** Runs a POSIX sh script on a node (locally on the master): its exit code and output. */
export async function runOnNode(
  deps: Deps,
  id: string,
  script: string,
  timeoutMs?: number,
): Promise<{ code: number; output: string }> {
  return deps.nodes.run(toAddress(await findRow(deps, id)), script, timeoutMs);
}

/** A port on the master's loopback reaching `hostPort` published on the node's loopback. */
export async function nodeServicePort(deps: Deps, id: string, hostPort: number): Promise<number> {
  return deps.nodes.servicePort(toAddress(await findRow(deps, id)), hostPort);
}

/** Makes the MPS control daemon of a fractional job's GPU run on its node (see nodes/mps.ts). */
export async function startMps(deps: Deps, jobId: string, key: MpsKey): Promise<MpsStart> {
  return deps.nodes.mps.ensure(jobId, key, toAddress(await findRow(deps, key.nodeId)));
}

/** On start: the master registers itself as node `local` (attached when its Docker answers). */

export async function registerLocalNode(deps: Deps, ip: string): Promise<Node> {
  const [existing] = await deps.store.db
    .select()
    .from(deps.store.t.nodes)
    .where(eq(deps.store.t.nodes.id, LOCAL_NODE_ID))
    .limit(1);
  if (!existing) {
    const now = deps.clock.now().toISOString();
    await deps.store.tx((db) =>
      db
        .insert(deps.store.t.nodes)
        .values({
          id: LOCAL_NODE_ID,
          name: "local",
          ip,
          sshPort: 0,
          sshUser: "",
          dockerSocket: deps.config.dockerSocket,
          desired: "attached",
          status: "attaching",
          interfaces: { control: "" },
          networkInterfaces: [],
          gpus: [],
          cpus: 0,
          memoryMiB: 0,
          createdAt: now,
          updatedAt: now,
        })
        .onConflictDoNothing(),
    );
  } else if (existing.ip !== ip || existing.dockerSocket !== deps.config.dockerSocket)
    await save(deps, LOCAL_NODE_ID, { ip, dockerSocket: deps.config.dockerSocket });
  const node = await refreshNode(deps, LOCAL_NODE_ID);
  const row = await findRow(deps, LOCAL_NODE_ID);
  const control = defaultControl(row.networkInterfaces);
  if (row.interfaces.control === "" && control) return save(deps, LOCAL_NODE_ID, { interfaces: { control } });
  return node;
}
