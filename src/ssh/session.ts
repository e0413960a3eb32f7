// One SSH connection to a worker (ssh2 Client): connect with host-key pinning, run commands,
// and open stream-local channels (to the worker's Docker socket).
import type { Duplex } from "node:stream";
import { Client, type ClientChannel } from "ssh2";
import { fingerprint } from "./keys";

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  /** Pinned host key fingerprint; null on a first connect (the seen one is reported back). */
  expectedFingerprint: string | null;
  timeoutMs?: number;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A command's stdin/stdout as a stream, and its end (SshSession.openExec). */
export interface ExecStream {
  stream: Duplex;
  done: Promise<{ code: number; stderr: string }>;
}

export class SshError extends Error {
  constructor(
    message: string,
    readonly reason: "unreachable" | "auth" | "host_key_changed" | "timeout" | "closed",
  ) {
    super(message);
  }
}

export class SshSession {
  private closed = false;

  private constructor(
    private readonly client: Client,
    readonly hostFingerprint: string,
    readonly target: SshTarget,
  ) {
    client.on("close", () => {
      this.closed = true;
    });
    client.on("error", () => {
      this.closed = true;
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  static connect(target: SshTarget): Promise<SshSession> {
    const where = `${target.username}@${target.host}:${target.port}`;
    const timeoutMs = target.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const client = new Client();
      let seen: string | null = null;
      let mismatch = false;
      let settled = false;
      const fail = (err: SshError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.end();
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new SshError(`ssh ${where}: no answer within ${timeoutMs / 1000} s`, "timeout")),
        timeoutMs,
      );
      client.on("ready", () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(new SshSession(client, seen as string, target));
      });
      client.on("error", (err: Error & { level?: string; code?: string }) => {
        if (mismatch)
          return fail(
            new SshError(
              `ssh ${where}: host key changed: expected ${target.expectedFingerprint}, the host offered ${seen}; ` +
                "if the worker was reinstalled, delete and re-add the node",
              "host_key_changed",
            ),
          );
        if (err.level === "client-authentication")
          return fail(
            new SshError(
              `ssh ${where}: the worker refused the master's key (add the key from GET /api/nodes/master-key to ${target.username}'s authorized_keys)`,
              "auth",
            ),
          );
        const reason = err.code === "ECONNREFUSED" ? "connection refused" : err.message;
        fail(new SshError(`ssh ${where}: ${reason}`, "unreachable"));
      });
      client.connect({
        host: target.host,
        port: target.port,
        username: target.username,
        privateKey: target.privateKey,
        readyTimeout: timeoutMs,
        keepaliveInterval: 5000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          seen = fingerprint(key);
          mismatch = target.expectedFingerprint !== null && seen !== target.expectedFingerprint;
          return !mismatch;
        },
      });
    });
  }

  /** Runs a command; resolves with its exit code and output (never rejects on a non-zero exit). */
  exec(command: string, options: { timeoutMs?: number; stdin?: string } = {}): Promise<ExecResult> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new SshError(`ssh ${this.target.host}: connection closed`, "closed"));
      this.client.exec(command, (err, channel) => {
        if (err) return reject(new SshError(`ssh ${this.target.host}: exec failed: ${err.message}`, "closed"));
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        const timer = setTimeout(() => {
          channel.close();
          reject(
            new SshError(
              `ssh ${this.target.host}: '${command.slice(0, 60)}' ran past ${timeoutMs / 1000} s`,
              "timeout",
            ),
          );
        }, timeoutMs);
        channel.on("data", (d: Buffer) => out.push(d));
        channel.stderr.on("data", (d: Buffer) => errs.push(d));
        let exitCode: number | null = null;
        channel.on("exit", (code: number | null) => {
          exitCode = code ?? 255; // null: ended by a signal
        });
        // A channel whose connection drops closes without an exit status: that is an error,
        // not a hang until the timeout.
        channel.on("close", () => {
          clearTimeout(timer);
          if (exitCode === null)
            reject(new SshError(`ssh ${this.target.host}: connection closed while running a command`, "closed"));
          else
            resolve({
              code: exitCode,
              stdout: Buffer.concat(out).toString("utf8"),
              stderr: Buffer.concat(errs).toString("utf8"),
            });
        });
        if (options.stdin !== undefined) channel.end(options.stdin);
        else channel.end();
      });
    });
  }

  /**
   * Runs a command with its stdin and stdout as one stream (e.g. a tar going either way over
   * this connection); `done` settles when the channel closes: the exit code and the end of
   * stderr, or an SshError when the connection dropped first.
   */
  openExec(command: string): Promise<ExecStream> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new SshError(`ssh ${this.target.host}: connection closed`, "closed"));
      this.client.exec(command, (err, channel) => {
        if (err) return reject(new SshError(`ssh ${this.target.host}: exec failed: ${err.message}`, "closed"));
        const errs: Buffer[] = [];
        let errBytes = 0;
        channel.stderr.on("data", (d: Buffer) => {
          if (errBytes < 8192) errs.push(d);
          errBytes += d.length;
        });
        let exitCode: number | null = null;
        channel.on("exit", (code: number | null) => {
          exitCode = code ?? 255;
        });
        const done = new Promise<{ code: number; stderr: string }>((ok, fail) => {
          channel.on("close", () => {
            if (exitCode === null)
              fail(new SshError(`ssh ${this.target.host}: connection closed while running a command`, "closed"));
            else ok({ code: exitCode, stderr: Buffer.concat(errs).toString("utf8").trim() });
          });
        });
        done.catch(() => {});
        resolve({ stream: channel, done });
      });
    });
  }

  /** A channel to a unix socket on the worker (e.g. /var/run/docker.sock). */
  openSocket(path: string): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new SshError(`ssh ${this.target.host}: connection closed`, "closed"));
      this.client.openssh_forwardOutStreamLocal(path, (err: Error | undefined, channel: ClientChannel) => {
        if (err) reject(new SshError(`ssh ${this.target.host}: cannot open ${path}: ${err.message}`, "closed"));
        else resolve(channel);
      });
    });
  }

  /** A direct-tcpip channel to `host:port` as the worker sees it (e.g. its loopback). */
  openTcp(host: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new SshError(`ssh ${this.target.host}: connection closed`, "closed"));
      this.client.forwardOut("127.0.0.1", 0, host, port, (err: Error | undefined, channel: ClientChannel) => {
        if (err) reject(new SshError(`ssh ${this.target.host}: cannot open ${host}:${port}: ${err.message}`, "closed"));
        else resolve(channel);
      });
    });
  }

  close(): void {
    this.closed = true;
    this.client.end();
  }
}
