// The Docker implementation of the executor port: the same code drives the master's Docker
// (unix socket) and a worker's (the forwarded socket of its SSH connection). dockerode stays in
// this folder: callers get the port's types, and Docker's errors as EngineError.
import { createReadStream } from "node:fs";
import { type Duplex, PassThrough, type Readable } from "node:stream";
import Docker from "dockerode";
import { buildCreateOptions } from "./dockerOptions";
import { logBatches } from "./logBatches";
import {
  type ContainerInfo,
  EngineError,
  type ExecOptions,
  type ExecSession,
  type Executor,
  type ImageEngine,
  type ManagedContainer,
  type RunningContainer,
} from "./port";
import { CLUSTER_LABEL, type ContainerSpec, MANAGED_LABEL, NODE_LABEL, type NodeRuntime } from "./spec";

/** The executor of a node whose Docker Engine answers on `socketPath`. */
export function dockerExecutor(
  nodeId: string,
  socketPath: string,
  runtime: () => NodeRuntime,
  cluster: string,
): Executor {
  return new DockerExecutor(nodeId, new Docker({ socketPath }), runtime, cluster);
}

/** Image work on the Docker Engine at `socketPath` (the master's, where images are prepared). */
export function dockerImages(socketPath: string, cluster: string): ImageEngine {
  return new DockerImages(new Docker({ socketPath }), cluster);
}

/** Docker's error (dockerode's shape) in the port's terms, with Docker's own message. */
function toEngineError(err: unknown): EngineError {
  if (err instanceof EngineError) return err;
  const e = err as { statusCode?: unknown; json?: { message?: unknown } | null; reason?: unknown; message?: unknown };
  const text = [e?.json?.message, e?.message, e?.reason].find((m) => typeof m === "string") as string | undefined;
  const message = (text ?? String(err)).trim();
  const status = typeof e?.statusCode === "number" ? e.statusCode : null;
  const reason =
    status === 404
      ? /no such image/i.test(message)
        ? "no_such_image"
        : "not_found"
      : status === 409
        ? "conflict"
        : "other";
  return new EngineError(message, reason, status, err);
}

async function engine<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw toEngineError(err);
  }
}

const statusOf = (err: unknown) => (err as { statusCode?: number }).statusCode;

class DockerExecutor implements Executor {
  readonly images: ImageEngine;

  constructor(
    readonly nodeId: string,
    private readonly docker: Docker,
    private readonly runtime: () => NodeRuntime,
    private readonly cluster: string,
  ) {
    this.images = new DockerImages(docker, cluster);
  }

  async ping(): Promise<void> {
    await engine(this.docker.ping());
  }

  async run(spec: ContainerSpec): Promise<RunningContainer> {
    const { container, notes } = await this.create(spec);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    try {
      const stream = (await container.attach({ stream: true, stdout: true, stderr: true })) as unknown as Readable;
      if (spec.tty) stream.pipe(stdout);
      else this.docker.modem.demuxStream(stream, stdout, stderr);
      stream.on("end", () => {
        stdout.end();
        stderr.end();
      });
      stream.on("error", (err) => {
        stdout.destroy(err);
        stderr.destroy(err);
      });
      if (spec.tty) stderr.end();
      // Waiting for the *next* exit: a plain wait on a created container returns at once.
      const exited = container.wait({ condition: "next-exit" });
      await container.start();
      return {
        id: container.id,
        stdout,
        stderr,
        notes,
        wait: async () => {
          const r = (await engine(exited)) as { StatusCode: number };
          return { exitCode: r.StatusCode };
        },
      };
    } catch (err) {
      await container.remove({ force: true }).catch(() => {});
      throw toEngineError(err);
    }
  }

  async start(spec: ContainerSpec): Promise<{ id: string; notes: string[] }> {
    const { container, notes } = await this.create(spec);
    try {
      await container.start();
    } catch (err) {
      await container.remove({ force: true }).catch(() => {});
      throw toEngineError(err);
    }
    return { id: container.id, notes };
  }

  /** Creates the container with this node's label and runtime (GPU devices or not). */
  private async create(spec: ContainerSpec) {
    const { options, notes } = buildCreateOptions(
      { ...spec, labels: { ...(spec.labels ?? {}), [NODE_LABEL]: this.nodeId, [CLUSTER_LABEL]: this.cluster } },
      this.runtime(),
    );
    return { container: await engine(this.docker.createContainer(options)), notes };
  }

  async stop(id: string, graceSeconds = 10): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: graceSeconds });
    } catch (err) {
      const status = statusOf(err);
      if (status !== 304 && status !== 404) throw toEngineError(err);
    }
  }

  async waitExit(id: string): Promise<number> {
    const r = (await engine(this.docker.getContainer(id).wait())) as { StatusCode: number };
    return r.StatusCode;
  }

  async *follow(id: string, since: string | null): AsyncGenerator<{ ts: string; text: string }> {
    const sinceSec = since ? Math.floor(Date.parse(since) / 1000) : 0;
    const raw = (await engine(
      this.docker.getContainer(id).logs({
        follow: true,
        stdout: true,
        stderr: true,
        timestamps: true,
        since: sinceSec,
      }),
    )) as unknown as Readable;
    try {
      yield* logBatches(raw, since);
    } catch (err) {
      throw toEngineError(err);
    } finally {
      raw.destroy();
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true });
    } catch (err) {
      if (statusOf(err) !== 404) throw toEngineError(err);
    }
  }

  async publishedPorts(id: string): Promise<Record<string, number>> {
    return portsOf(await engine(this.docker.getContainer(id).inspect()));
  }

  async inspect(id: string): Promise<ContainerInfo | null> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(id).inspect();
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw toEngineError(err);
    }
    return {
      id: info.Id,
      name: info.Name.replace(/^\//, ""),
      state: info.State.Status,
      labels: info.Config.Labels ?? {},
      exitCode: info.State.Running || info.State.Status === "created" ? null : info.State.ExitCode,
      ports: portsOf(info),
    };
  }

  async list(labels: Record<string, string> = {}): Promise<ManagedContainer[]> {
    const filters = [
      `${MANAGED_LABEL}=true`,
      `${NODE_LABEL}=${this.nodeId}`,
      `${CLUSTER_LABEL}=${this.cluster}`,
      ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
    ];
    const items = await engine(this.docker.listContainers({ all: true, filters: { label: filters } }));
    return items.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? "").replace(/^\//, ""),
      state: c.State,
      labels: c.Labels,
    }));
  }

  async exec(id: string, options: ExecOptions): Promise<ExecSession> {
    const { tty } = options;
    const dexec = await engine(
      this.docker.getContainer(id).exec({
        Cmd: options.cmd,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: tty !== null,
        Env: tty ? [`TERM=${tty.term}`] : [],
        WorkingDir: options.workdir,
      }),
    );
    const stream = (await engine(dexec.start({ hijack: true, stdin: true, Tty: tty !== null }))) as unknown as Duplex;
    const ended = new Promise<void>((resolve) => {
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", resolve);
    });
    let stdout: Readable = stream;
    const stderr = new PassThrough();
    if (tty) {
      await dexec.resize({ h: tty.rows, w: tty.cols }).catch(() => {});
      stderr.end();
    } else {
      const out = new PassThrough();
      this.docker.modem.demuxStream(stream, out, stderr);
      stdout = out;
      void ended.then(() => {
        out.end();
        stderr.end();
      });
    }
    return {
      stdin: stream,
      stdout,
      stderr,
      resize: (rows, cols) => {
        if (tty) void dexec.resize({ h: rows, w: cols }).catch(() => {});
      },
      close: () => stream.destroy(),
      exited: ended.then(() =>
        dexec.inspect().then(
          (i) => i.ExitCode ?? null,
          () => null,
        ),
      ),
    };
  }
}

function portsOf(info: Docker.ContainerInspectInfo): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, bindings] of Object.entries(info.NetworkSettings.Ports ?? {})) {
    const host = (bindings as { HostPort: string }[] | null)?.[0]?.HostPort;
    if (host) out[key.split("/")[0] as string] = Number(host);
  }
  return out;
}

interface ProgressEvent {
  error?: string;
  errorDetail?: { message?: string };
  stream?: string;
  status?: string;
}

class DockerImages implements ImageEngine {
  constructor(
    private readonly docker: Docker,
    private readonly cluster: string,
  ) {}

  /** Waits for a Docker progress stream; rejects with Docker's own message on an error event. */
  private progress(stream: NodeJS.ReadableStream): Promise<ProgressEvent[]> {
    return new Promise((resolve, reject) => {
      this.docker.modem.followProgress(stream, (err: Error | null, output: ProgressEvent[]) => {
        if (err) return reject(toEngineError(err));
        const failed = output.find((e) => e.error || e.errorDetail);
        if (failed)
          return reject(
            new EngineError(failed.errorDetail?.message ?? failed.error ?? "docker reported an error", "other"),
          );
        resolve(output);
      });
    });
  }

  async pull(ref: string): Promise<void> {
    await this.progress(await engine(this.docker.pull(ref)));
  }

  async build(contextDir: string, files: string[], tag: string): Promise<void> {
    const stream = await engine(
      // No network for RUN steps: a member's build must not reach the master's services.
      this.docker.buildImage(
        { context: contextDir, src: files },
        { t: tag, rm: true, forcerm: true, networkmode: "none", labels: { [CLUSTER_LABEL]: this.cluster } },
      ),
    );
    await this.progress(stream);
  }

  async loadFile(tar: string | Readable): Promise<string> {
    const stream = typeof tar === "string" ? createReadStream(tar) : tar;
    const out = await this.progress(await engine(this.docker.loadImage(stream)));
    const text = out.map((e) => e.stream ?? "").join("");
    const named = /Loaded image: (\S+)/.exec(text)?.[1] ?? /Loaded image ID: (\S+)/.exec(text)?.[1];
    if (!named) throw new EngineError(`docker load named no image: ${text.trim() || "empty output"}`, "other");
    return named;
  }

  async load(tar: Readable): Promise<void> {
    await this.progress(await engine(this.docker.loadImage(tar)));
  }

  async save(ref: string): Promise<Readable> {
    return (await engine(this.docker.getImage(ref).get())) as unknown as Readable;
  }

  async tag(ref: string, repo: string, tag: string): Promise<void> {
    await engine(this.docker.getImage(ref).tag({ repo, tag }));
  }

  async inspect(ref: string): Promise<{ id: string; size: number } | null> {
    try {
      const info = await this.docker.getImage(ref).inspect();
      return { id: info.Id, size: info.Size };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw toEngineError(err);
    }
  }

  async remove(ref: string): Promise<void> {
    await engine(this.docker.getImage(ref).remove());
  }
}
