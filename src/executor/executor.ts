// The container executor the scheduler uses: the same code drives the master's Docker (unix
// socket) and a worker's (the forwarded socket of its SSH connection).
import { PassThrough, type Readable } from "node:stream";
import type Docker from "dockerode";
import { buildCreateOptions, type ContainerSpec, MANAGED_LABEL, type NodeRuntime } from "./spec";

export interface RunningContainer {
  id: string;
  /** Demultiplexed output; both end when the container exits. */
  stdout: Readable;
  stderr: Readable;
  /** Explanations for the job log (e.g. GPU runtime missing). */
  notes: string[];
  wait(): Promise<{ exitCode: number }>;
}

export interface ManagedContainer {
  id: string;
  name: string;
  state: string;
  labels: Record<string, string>;
}

export const NODE_LABEL = "hangar.node";

export class DockerExecutor {
  constructor(
    /** The node this engine belongs to; every container gets it as the `hangar.node` label. */
    readonly nodeId: string,
    readonly docker: Docker,
    private readonly runtime: () => NodeRuntime,
  ) {}

  /** Creates, attaches (before start, so no output is lost) and starts a container. */
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
          const r = (await exited) as { StatusCode: number };
          return { exitCode: r.StatusCode };
        },
      };
    } catch (err) {
      await container.remove({ force: true }).catch(() => {});
      throw err;
    }
  }

  /**
   * Creates and starts a container without attaching to it (as `docker run -d`): its output
   * stays in Docker's log, read with `follow`; its end is awaited with `waitExit`.
   */
  async start(spec: ContainerSpec): Promise<{ id: string; notes: string[] }> {
    const { container, notes } = await this.create(spec);
    try {
      await container.start();
    } catch (err) {
      await container.remove({ force: true }).catch(() => {});
      throw err;
    }
    return { id: container.id, notes };
  }

  /** Creates the container with this node's label and runtime (GPU devices or not). */
  private async create(spec: ContainerSpec) {
    const { options, notes } = buildCreateOptions(
      { ...spec, labels: { ...(spec.labels ?? {}), [NODE_LABEL]: this.nodeId } },
      this.runtime(),
    );
    return { container: await this.docker.createContainer(options), notes };
  }

  /** Stops a container (SIGTERM, then SIGKILL after `graceSeconds`). Missing or stopped is fine. */
  async stop(id: string, graceSeconds = 10): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: graceSeconds });
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status !== 304 && status !== 404) throw err;
    }
  }

  /** Waits for a container (running or already exited) to end; resolves with its exit code. */
  async waitExit(id: string): Promise<number> {
    const r = (await this.docker.getContainer(id).wait()) as { StatusCode: number };
    return r.StatusCode;
  }

  /**
   * Follows a container's output (stdout and stderr in arrival order) from Docker's own log,
   * starting after `since` (an RFC 3339 timestamp with nanoseconds, exclusive). Each line comes
   * with its Docker timestamp, so a follower that restarts resumes without gaps or repeats.
   */
  async *follow(id: string, since: string | null): AsyncGenerator<{ ts: string; line: string }> {
    const sinceSec = since ? Math.floor(Date.parse(since) / 1000) : 0;
    const raw = (await this.docker.getContainer(id).logs({
      follow: true,
      stdout: true,
      stderr: true,
      timestamps: true,
      since: sinceSec,
    })) as unknown as Readable;
    const merged = new PassThrough();
    this.docker.modem.demuxStream(raw, merged, merged);
    raw.on("end", () => merged.end());
    raw.on("error", (err) => merged.destroy(err));
    let rest = "";
    for await (const chunk of merged) {
      rest += chunk.toString("utf8");
      let nl = rest.indexOf("\n");
      while (nl >= 0) {
        const entry = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        const space = entry.indexOf(" ");
        const ts = entry.slice(0, space);
        if (!since || ts > since) yield { ts, line: entry.slice(space + 1) };
        nl = rest.indexOf("\n");
      }
    }
    if (rest) {
      const space = rest.indexOf(" ");
      const ts = rest.slice(0, space);
      if (!since || ts > since) yield { ts, line: rest.slice(space + 1) };
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
  }

  /** The node ports Docker gave a container's published ports: {containerPort: hostPort}. */
  async publishedPorts(id: string): Promise<Record<string, number>> {
    const info = await this.docker.getContainer(id).inspect();
    const out: Record<string, number> = {};
    for (const [key, bindings] of Object.entries(info.NetworkSettings.Ports ?? {})) {
      const host = (bindings as { HostPort: string }[] | null)?.[0]?.HostPort;
      if (host) out[key.split("/")[0] as string] = Number(host);
    }
    return out;
  }

  async inspect(id: string) {
    return this.docker.getContainer(id).inspect();
  }

  /** Hangar's containers on this engine, optionally only those with a label value. */
  async list(labels: Record<string, string> = {}): Promise<ManagedContainer[]> {
    const filters = [
      `${MANAGED_LABEL}=true`,
      `${NODE_LABEL}=${this.nodeId}`,
      ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
    ];
    const items = await this.docker.listContainers({ all: true, filters: { label: filters } });
    return items.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? "").replace(/^\//, ""),
      state: c.State,
      labels: c.Labels,
    }));
  }
}
