// Effects of the node layer: one SSH session per worker (reused, keepalive on), the Docker
// engine of each node as an Executor, probes, and the health loop.
import type { Config } from "../config";
import { type NodeStatus, nextHealth, type ProbeOutcome } from "../domain/nodeHealth";
import { dockerExecutor, dockerImages } from "../executor/executor";
import type { Executor, ImageEngine } from "../executor/port";
import { forwardTcpPort, forwardUnixSocket, type SocketForward, type TcpForward } from "../executor/socketForward";
import type { Clock } from "../lib/clock";
import { clusterId } from "../lib/cluster";
import { dataLayout } from "../lib/layout";
import type { Logger } from "../lib/logger";
import type { MasterKey } from "../ssh/keys";
import { type ExecStream, SshSession } from "../ssh/session";
import { type NodeFacts, parseProbeOutput } from "./facts";
import { MpsDaemons } from "./mpsDaemons";
import { PROBE_SCRIPT, shCommand } from "./probeScript";

export const LOCAL_NODE_ID = "local";
export const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";

export interface NodeAddress {
  id: string;
  ip: string;
  sshPort: number;
  sshUser: string;
  hostKeyFingerprint: string | null;
  /** Docker Engine socket on the node. */
  dockerSocket: string;
  /** What the last stored probe said (the runtime until this process has checked the node). */
  nvidiaRuntime?: boolean;
}

export interface ProbeReport {
  facts: NodeFacts;
  hostKeyFingerprint: string | null;
}

interface Conn {
  address: NodeAddress;
  session: SshSession | null;
  connecting: Promise<SshSession> | null;
  /** Shared by concurrent first users, so the socket is made once. */
  forward: Promise<SocketForward> | null;
  /** Published container ports on the worker's loopback → local forwarded ports, by host port. */
  ports: Map<number, Promise<TcpForward>>;
  executor: Executor;
  runtime: { nvidiaRuntime: boolean };
}

export class NodeManager {
  private conns = new Map<string, Conn>();
  private failures = new Map<string, number>();
  private images: ImageEngine | null = null;
  /** The MPS control daemons of fractional GPUs, run through `run`. */
  readonly mps = new MpsDaemons((address, script) => this.run(address, script));

  constructor(
    private readonly config: Config,
    private readonly masterKey: MasterKey,
    private readonly logger: Logger,
    readonly clock: Clock,
  ) {}

  /** "Get Info": connect (first connect: the host key is reported, to be pinned), probe, close. */
  async probeAddress(address: Omit<NodeAddress, "id">): Promise<ProbeReport> {
    const session = await SshSession.connect(this.sshTarget(address));
    try {
      const out = await session.exec(remoteProbe(address.dockerSocket), { timeoutMs: PROBE_TIMEOUT_MS });
      return { facts: parseProbeOutput(out.stdout), hostKeyFingerprint: session.hostFingerprint };
    } finally {
      session.close();
    }
  }

  /**
   * Runs a POSIX sh script on a node: locally on the master, through the node's pooled SSH
   * session on a worker. Resolves with the exit code and output (stdout, then stderr).
   */
  async run(address: NodeAddress, script: string, timeoutMs = 30_000): Promise<{ code: number; output: string }> {
    if (address.id === LOCAL_NODE_ID) {
      const proc = Bun.spawn(["sh", "-c", script], { stdout: "pipe", stderr: "pipe" });
      const timer = setTimeout(() => proc.kill(), timeoutMs);
      const [stdout, stderr, code] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      clearTimeout(timer);
      return { code, output: stdout + stderr };
    }
    const session = await this.session(address);
    const out = await session.exec(shCommand(script), { timeoutMs });
    return { code: out.code, output: out.stdout + out.stderr };
  }

  /** Runs a POSIX sh script on a worker with its stdin/stdout as a stream, over the node's pooled SSH session. */
  async stream(address: NodeAddress, script: string): Promise<ExecStream> {
    if (address.id === LOCAL_NODE_ID) throw new Error("the master's own node needs no stream: it shares its files");
    return (await this.session(address)).openExec(shCommand(script));
  }

  /** Probes a known node through its pooled connection (or locally for the master). */
  async probe(address: NodeAddress): Promise<ProbeReport> {
    if (address.id === LOCAL_NODE_ID)
      return { facts: await probeLocally(address.dockerSocket), hostKeyFingerprint: null };
    const session = await this.session(address);
    const out = await session.exec(remoteProbe(address.dockerSocket), { timeoutMs: PROBE_TIMEOUT_MS });
    return { facts: parseProbeOutput(out.stdout), hostKeyFingerprint: session.hostFingerprint };
  }

  /**
   * The full check behind connect and each health probe: SSH answers, Docker answers (through the
   * very channel jobs use), nvidia-smi works where installed. Returns facts when reachable.
   */
  async check(address: NodeAddress): Promise<{ outcome: ProbeOutcome; report: ProbeReport | null }> {
    let report: ProbeReport;
    try {
      report = await this.probe(address);
    } catch (err) {
      return { outcome: { ok: false, reason: reasonOf(err, "worker connection error") }, report: null };
    }
    const { facts } = report;
    this.connFor(address).runtime.nvidiaRuntime = facts.nvidiaRuntime;
    if (!facts.dockerVersion)
      return { outcome: { ok: false, reason: `docker unavailable: ${facts.dockerError ?? "no answer"}` }, report };
    try {
      await (await this.executor(address)).ping();
    } catch (err) {
      // The connection dropping mid-check shows up here as a broken Docker channel: say so.
      if (address.id !== LOCAL_NODE_ID && !this.conns.get(address.id)?.session?.isOpen)
        return {
          outcome: {
            ok: false,
            reason: `worker connection error: ssh ${address.ip}:${address.sshPort} connection closed`,
          },
          report,
        };
      return {
        outcome: { ok: false, reason: `docker unavailable through SSH: ${reasonOf(err, "no answer")}` },
        report,
      };
    }
    if (facts.gpuError && !facts.gpuToolMissing)
      return { outcome: { ok: false, reason: `nvidia-smi failed: ${facts.gpuError}` }, report };
    const warnings: string[] = [];
    if (facts.gpuToolMissing) warnings.push("no NVIDIA GPU: nvidia-smi is not installed");
    else if (facts.gpus.length > 0 && !facts.nvidiaRuntime)
      warnings.push("Docker has no nvidia runtime: GPUs are passed to containers by environment only");
    return { outcome: { ok: true, warning: warnings.join("; ") || null }, report };
  }

  /** Applies a check to a node's health (pure decision in domain/nodeHealth). */
  health(
    node: { id: string; desired: "attached" | "detached"; status: NodeStatus; statusMessage: string | null },
    outcome: ProbeOutcome,
  ) {
    const result = nextHealth({
      desired: node.desired,
      status: node.status,
      statusMessage: node.statusMessage,
      failuresInRow: this.failures.get(node.id) ?? 0,
      lostAfter: this.config.nodeLostAfter,
      probe: outcome,
    });
    this.failures.set(node.id, result.failuresInRow);
    return result;
  }

  /** Forgets a node: closes its session and forwarded socket. Its containers keep running. */
  async forget(id: string): Promise<void> {
    const conn = this.conns.get(id);
    this.conns.delete(id);
    this.failures.delete(id);
    if (!conn) return;
    conn.session?.close();
    await (await conn.forward?.catch(() => null))?.close();
    for (const port of conn.ports.values()) await (await port.catch(() => null))?.close();
  }

  /**
   * A local port reaching `hostPort` on the node's loopback (where containers publish): the port
   * itself on the master's own node, else a port forwarded over the node's SSH session.
   */
  async servicePort(address: NodeAddress, hostPort: number): Promise<number> {
    if (address.id === LOCAL_NODE_ID) return hostPort;
    const conn = this.connFor(address);
    let forward = conn.ports.get(hostPort);
    if (!forward) {
      forward = forwardTcpPort(
        async () => (await this.session(conn.address)).openTcp("127.0.0.1", hostPort),
        (err) => this.logger.debug("service channel error", { node: conn.address.id, err: err.message }),
      );
      conn.ports.set(hostPort, forward);
      forward.catch(() => conn.ports.delete(hostPort));
    }
    return (await forward).port;
  }

  async close(): Promise<void> {
    for (const id of [...this.conns.keys()]) await this.forget(id);
  }

  private connFor(address: NodeAddress): Conn {
    let conn = this.conns.get(address.id);
    if (conn) {
      conn.address = address;
      return conn;
    }
    // Until the first check in this process, the stored fact: after a master restart, jobs placed
    // before the first health round still get their GPUs through the nvidia runtime.
    const runtime = { nvidiaRuntime: address.nvidiaRuntime ?? false };
    // The master's engine directly; a worker's through a local socket forwarded over its SSH session.
    const socketPath = address.id === LOCAL_NODE_ID ? address.dockerSocket : this.forwardPath(address.id);
    conn = {
      address,
      session: null,
      connecting: null,
      forward: null,
      ports: new Map(),
      runtime,
      executor: dockerExecutor(address.id, socketPath, () => runtime, this.cluster()),
    };
    this.conns.set(address.id, conn);
    return conn;
  }

  /** The node's container executor, with its Docker channel ready. */
  async executor(address: NodeAddress): Promise<Executor> {
    const conn = this.connFor(address);
    if (address.id !== LOCAL_NODE_ID) await this.ensureForward(conn);
    return conn.executor;
  }

  /** The master's own engine (HANGAR_DOCKER_SOCKET), where images are pulled, built and loaded. */
  masterImages(): ImageEngine {
    this.images ??= dockerImages(this.config.dockerSocket, this.cluster());
    return this.images;
  }

  private masterEngine: Executor | null = null;
  /** The master's own engine as an executor, node row or not (the master's helper containers). */
  masterExecutor(): Executor {
    this.masterEngine ??= dockerExecutor(
      LOCAL_NODE_ID,
      this.config.dockerSocket,
      () => ({ nvidiaRuntime: false }),
      this.cluster(),
    );
    return this.masterEngine;
  }

  private clusterIdValue: string | null = null;
  /** This master's cluster id (the hangar.cluster label), made once in the data dir. */
  cluster(): string {
    this.clusterIdValue ??= clusterId(this.config.dataDir);
    return this.clusterIdValue;
  }

  private forwardPath(id: string): string {
    return dataLayout(this.config.dataDir).dockerForward(id);
  }

  private async ensureForward(conn: Conn): Promise<void> {
    conn.forward ??= forwardUnixSocket(
      this.forwardPath(conn.address.id),
      async () => (await this.session(conn.address)).openSocket(conn.address.dockerSocket),
      (err) => this.logger.debug("docker channel error", { node: conn.address.id, err: err.message }),
    ).catch((err) => {
      conn.forward = null;
      throw err;
    });
    await conn.forward;
  }

  /** The node's SSH session, reconnecting when the last one closed. Concurrent callers share one attempt. */
  private async session(address: NodeAddress): Promise<SshSession> {
    const conn = this.connFor(address);
    if (conn.session?.isOpen) return conn.session;
    if (!conn.connecting) {
      conn.connecting = SshSession.connect(this.sshTarget(address)).then(
        (s) => {
          conn.session = s;
          conn.connecting = null;
          return s;
        },
        (err) => {
          conn.connecting = null;
          throw err;
        },
      );
    }
    return conn.connecting;
  }

  private sshTarget(a: Omit<NodeAddress, "id">) {
    return {
      host: a.ip,
      port: a.sshPort,
      username: a.sshUser,
      privateKey: this.masterKey.privateKey,
      expectedFingerprint: a.hostKeyFingerprint,
      timeoutMs: 10_000,
    };
  }
}

/** The probe with the node's Docker socket (validated to be a plain absolute path). */
function probeCommand(dockerSocket: string): string {
  return `export DOCKER_HOST='unix://${dockerSocket}'\n${PROBE_SCRIPT}`;
}

/** Over SSH the command goes to the user's login shell (maybe zsh or fish): run it with sh. */
const remoteProbe = (dockerSocket: string) => shCommand(probeCommand(dockerSocket));
const PROBE_TIMEOUT_MS = 30_000;

async function probeLocally(dockerSocket: string): Promise<NodeFacts> {
  const proc = Bun.spawn(["sh", "-c", probeCommand(dockerSocket)], { stdout: "pipe", stderr: "pipe" });
  const [stdout] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return parseProbeOutput(stdout);
}

export function reasonOf(err: unknown, fallback: string): string {
  if (err instanceof Error) return err.message || fallback;
  return fallback;
}
