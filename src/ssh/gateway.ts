// The SSH gateway (docs/product.md#trainings-and-jobs): `ssh USER@MASTER -p PORT` into a running job's container.
// Each running job gets a port from HANGAR_SSH_PORTS; a connection is accepted with the user's
// registered public key (or the training's generated key) when the user may access the
// training, and shell (pty, window resize), exec and sftp are bridged into the container with
// docker exec through the node's executor, so it works for workers too. Everything else is
// refused and written to the access log.
import { timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { eq } from "drizzle-orm";
import { type Connection, type ParsedKey, type PseudoTtyInfo, Server, type ServerChannel, utils } from "ssh2";
import type { Principal } from "../auth/cache";
import type { Deps } from "../deps";
import { dataLayout } from "../lib/layout";
import { nodeExecutor } from "../nodes/service";
import { trainingFor } from "../trainings/service";
import { loadOrCreateKeyPair } from "./keys";
import { type SftpRoot, serveSftp } from "./sftp";

/** Rejected authentication attempts one connection gets (OpenSSH's MaxAuthTries default). */
const MAX_AUTH_FAILURES = 6;

interface Target {
  jobId: string;
  server: Server;
  port: number;
  /** Open connections: ended when the job stops (the listening socket's close waits for them). */
  clients: Set<Connection>;
}

/**
 * The gateway's host key (<data>/ssh/gateway_host_ed25519). Kept as it is when it exists: a new
 * one would make every client's known_hosts entry fail (earlier versions wrote no .pub file).
 */
function gatewayHostKey(dataDir: string): string {
  const path = dataLayout(dataDir).gatewayHostKeyFile;
  if (existsSync(path)) return readFileSync(path, "utf8");
  return loadOrCreateKeyPair(path, "hangar-gateway").privateKey;
}

export class SshGateway {
  private targets = new Map<string, Target>();
  private hostKey: string;

  constructor(
    private readonly deps: Deps,
    private readonly roots: (jobId: string) => Promise<SftpRoot[]>,
  ) {
    this.hostKey = gatewayHostKey(deps.config.dataDir);
  }

  /** Opens ports for running jobs and closes those of jobs that stopped. */
  async sync(): Promise<void> {
    const { store } = this.deps;
    const running = await store.db
      .select({ id: store.t.jobs.id })
      .from(store.t.jobs)
      .where(eq(store.t.jobs.status, "running"));
    const want = new Set(running.map((r) => r.id));
    for (const [id, t] of this.targets) if (!want.has(id)) await this.closeTarget(id, t);
    for (const id of want)
      if (!this.targets.has(id))
        await this.open(id).catch((err) => this.deps.logger.warn("ssh port", { job: id, err }));
  }

  async close(): Promise<void> {
    for (const [id, t] of this.targets) await this.closeTarget(id, t);
  }

  private async closeTarget(id: string, t: Target): Promise<void> {
    this.targets.delete(id);
    this.deps.sshPorts.delete(id);
    const closed = new Promise<void>((resolve) => t.server.close(() => resolve()));
    for (const client of t.clients) client.end();
    await closed;
  }

  private usedPorts(): Set<number> {
    return new Set([...this.targets.values()].map((t) => t.port));
  }

  private async open(jobId: string): Promise<void> {
    const [min, max] = this.deps.config.sshPorts;
    const used = this.usedPorts();
    for (let port = min; port <= max; port++) {
      if (used.has(port)) continue;
      const clients = new Set<Connection>();
      const server = new Server({ hostKeys: [this.hostKey] }, (client) => {
        clients.add(client);
        client.on("close", () => clients.delete(client));
        this.onClient(jobId, port, client);
      });
      const ok = await new Promise<boolean>((resolve) => {
        server.once("error", () => resolve(false));
        server.listen(port, this.deps.config.sshHost, () => resolve(true));
      });
      if (ok) {
        this.targets.set(jobId, { jobId, server, port, clients });
        this.deps.sshPorts.set(jobId, port);
        return;
      }
    }
    throw new Error(`no free SSH port in ${min}-${max}`);
  }

  private log(user: string | null, ip: string | null, what: string, status: number): void {
    this.deps.accessLog.write({ time: this.deps.clock.now(), user, ip, method: "SSH", path: what, status, ms: 0 });
  }

  private onClient(jobId: string, port: number, client: Connection): void {
    let principal: Principal | null = null;
    let ip: string | null = null;
    // biome-ignore lint/suspicious/noExplicitAny: ssh2's connection info is untyped here
    const sock = (client as any)._sock as { remoteAddress?: string } | undefined;
    ip = sock?.remoteAddress ?? null;
    // Rejected attempts per connection: past MAX_AUTH_FAILURES the connection is ended (a
    // client offering key after key, or guessing, gets no more tries on this socket).
    let failures = 0;
    const reject = (ctx: import("ssh2").AuthContext, reason?: string) => {
      if (reason) this.log(ctx.username, ip, `:${port} refused: ${reason}`, 401);
      if (ctx.method !== "none" && ++failures >= MAX_AUTH_FAILURES) {
        this.log(ctx.username, ip, `:${port} refused: ${failures} failed authentication attempts`, 429);
        ctx.reject();
        client.end();
        return;
      }
      ctx.reject(["publickey"]);
    };
    client.on("authentication", (ctx) => {
      if (ctx.method !== "publickey")
        return reject(ctx, ctx.method !== "none" ? `${ctx.method} authentication` : undefined);
      void this.authorize(jobId, ctx.username, ctx.key.algo, ctx.key.data).then(
        (result) => {
          if (!result.ok) return reject(ctx, result.reason);
          if (ctx.signature && result.key.verify(ctx.blob as Buffer, ctx.signature, ctx.hashAlgo) !== true)
            return reject(ctx, "bad signature");
          principal = result.principal;
          ctx.accept();
        },
        () => reject(ctx),
      );
    });
    client.on("ready", () => {
      this.log(principal?.userId ?? null, ip, `:${port} job ${jobId} session`, 200);
      // The SFTP folders are looked up once per connection, before any session is served.
      const roots = this.roots(jobId).catch(() => [] as SftpRoot[]);
      client.on("session", (accept, rejectSession) => {
        // Each new channel re-checks the user (still active, still with access to the
        // training): a connection opened before a deactivation or removal opens nothing more.
        // Accepted once the folders are known; its requests are then handled from the start.
        const userId = principal?.userId ?? "";
        void this.access(jobId, userId).then(async (result) => {
          if (!result.ok) {
            this.log(userId, ip, `:${port} refused: new channel: ${result.reason}`, 403);
            return rejectSession();
          }
          // The folders first, then accept: handlers must be on the session before the client's
          // first request (an `sftp` subsystem request with no listener yet is refused).
          const folders = await roots;
          this.onSession(jobId, accept(), folders);
        });
      });
    });
    client.on("tcpip", (_accept, reject, info) => {
      this.log(
        principal?.userId ?? null,
        ip,
        `:${port} refused: port forwarding to ${info.destIP}:${info.destPort}`,
        403,
      );
      reject();
    });
    client.on("openssh.streamlocal", (_accept, reject, info) => {
      this.log(principal?.userId ?? null, ip, `:${port} refused: socket forwarding to ${info.socketPath}`, 403);
      reject();
    });
    client.on("request", (_accept, reject, name) => {
      this.log(principal?.userId ?? null, ip, `:${port} refused: ${name}`, 403);
      reject?.();
    });
    client.on("error", () => {});
  }

  /** Whether `userId` may use the job now: active, the job running, access to its training. */
  private async access(
    jobId: string,
    userId: string,
  ): Promise<
    | { ok: true; principal: Principal; userKey: string | null; trainingKey: string | null }
    | { ok: false; reason: string }
  > {
    const { store } = this.deps;
    const [user] = await store.db.select().from(store.t.users).where(eq(store.t.users.userId, userId)).limit(1);
    if (!user?.active) return { ok: false, reason: "unknown or deactivated user" };
    const [job] = await store.db.select().from(store.t.jobs).where(eq(store.t.jobs.id, jobId)).limit(1);
    if (job?.status !== "running") return { ok: false, reason: "the job is not running" };
    const [training] = await store.db.select().from(store.t.trainings).where(eq(store.t.trainings.id, job.trainingId));
    if (!training) return { ok: false, reason: "no training" };
    const principal: Principal = {
      userId,
      role: user.role,
      via: "session",
      expiresAt: Number.POSITIVE_INFINITY,
    };
    const allowed = await trainingFor(this.deps, principal, job.workspace, training.name).then(
      () => true,
      () => false,
    );
    if (!allowed) return { ok: false, reason: `no access to training ${training.name}` };
    return { ok: true, principal, userKey: user.sshPublicKey, trainingKey: training.sshPublicKey };
  }

  private async authorize(
    jobId: string,
    userId: string,
    algo: string,
    data: Buffer,
  ): Promise<{ ok: true; principal: Principal; key: ParsedKey } | { ok: false; reason: string }> {
    const access = await this.access(jobId, userId);
    if (!access.ok) return access;
    const { principal } = access;
    for (const candidate of [access.userKey, access.trainingKey]) {
      if (!candidate) continue;
      const parsed = utils.parseKey(candidate);
      if (parsed instanceof Error || Array.isArray(parsed)) continue;
      const blob = parsed.getPublicSSH();
      if (parsed.type === algo && blob.length === data.length && timingSafeEqual(blob, data))
        return { ok: true, principal, key: parsed };
    }
    return { ok: false, reason: "key not registered for this user or training" };
  }

  private onSession(jobId: string, session: import("ssh2").Session, roots: SftpRoot[]): void {
    let pty: PseudoTtyInfo | null = null;
    let resize: ((rows: number, cols: number) => void) | null = null;
    session.on("pty", (accept, _reject, info) => {
      pty = info;
      accept?.();
    });
    session.on("window-change", (accept, _reject, info) => {
      if (pty) pty = { ...pty, rows: info.rows, cols: info.cols };
      resize?.(info.rows, info.cols);
      accept?.();
    });
    session.on("env", (accept) => accept?.());
    session.on("shell", (accept) => {
      const channel = accept();
      const shell = "if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi";
      void this.bridge(
        jobId,
        channel,
        ["sh", "-c", shell],
        pty ?? { term: "xterm", rows: 24, cols: 80, width: 0, height: 0, modes: {} },
        (r) => {
          resize = r;
        },
      );
    });
    session.on("exec", (accept, _reject, info) => {
      const channel = accept();
      void this.bridge(jobId, channel, ["sh", "-c", info.command], pty, (r) => {
        resize = r;
      });
    });
    session.on("sftp", (accept, reject) => {
      if (roots.length === 0) return reject();
      serveSftp(accept(), roots);
    });
  }

  /** docker exec in the job's (first) container, piped both ways; the exit code goes back to the client. */
  private async bridge(
    jobId: string,
    channel: ServerChannel,
    cmd: string[],
    pty: PseudoTtyInfo | null,
    onResize: (resize: (rows: number, cols: number) => void) => void,
  ): Promise<void> {
    try {
      const { store } = this.deps;
      const [job] = await store.db.select().from(store.t.jobs).where(eq(store.t.jobs.id, jobId));
      const assignment = job?.assignments[0];
      if (!assignment?.containerId) throw new Error("the job has no container");
      const exec = await nodeExecutor(this.deps, assignment.nodeId);
      const tty = pty !== null;
      const session = await exec.exec(assignment.containerId, {
        cmd,
        tty: pty ? { term: pty.term || "xterm", rows: pty.rows ?? 24, cols: pty.cols ?? 80 } : null,
        workdir: "/code",
      });
      if (tty) onResize((rows, cols) => session.resize(rows, cols));
      // The channel ends after the exit status, below.
      session.stdout.pipe(channel, { end: false });
      session.stderr.pipe(channel.stderr, { end: false });
      channel.on("data", (d: Buffer) => session.stdin.write(d));
      channel.on("end", () => {
        if (!tty) session.stdin.end();
      });
      channel.on("close", () => session.close());
      channel.exit((await session.exited) ?? 0);
      channel.end();
    } catch (err) {
      channel.stderr.write(`hangar: ${(err as Error).message}\n`);
      channel.exit(255);
      channel.end();
    }
  }
}
