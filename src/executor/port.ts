// The executor port: what the rest of Hangar asks of a node's container engine — run, stop,
// remove, list, inspect, follow the log, wait, exec into, published ports, and images (pull,
// build, load, save, copy). Owned by its callers (jobs, scheduler, SSH gateway, images, nodes);
// `DockerExecutor` (Docker on the master, Docker over SSH on workers) is behind it, and no
// engine type crosses it: errors come as EngineError, streams as plain Node streams.
import type { Readable, Writable } from "node:stream";
import type { ContainerSpec } from "./spec";

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
  /** The engine's state word: created, running, exited… */
  state: string;
  labels: Record<string, string>;
}

export interface ContainerInfo extends ManagedContainer {
  /** The exit code once it has exited; null while it has not. */
  exitCode: number | null;
  /** Published ports: {containerPort: hostPort}. */
  ports: Record<string, number>;
}

export interface ExecOptions {
  cmd: string[];
  /** A terminal of this type and size (all output then comes on stdout), or none. */
  tty: { term: string; rows: number; cols: number } | null;
  workdir?: string;
}

/** A command running in a container (as `docker exec -i`). */
export interface ExecSession {
  stdin: Writable;
  /** With a terminal, everything comes here and stderr ends at once. */
  stdout: Readable;
  stderr: Readable;
  /** The terminal's new size (no-op without one). */
  resize(rows: number, cols: number): void;
  /** Drops the connection to the command (its client went away). */
  close(): void;
  /** Resolves once the output has ended, with the command's exit code (null: unknown). */
  readonly exited: Promise<number | null>;
}

export interface ImageEngine {
  pull(ref: string): Promise<void>;
  /** Builds `files` (relative to `contextDir`, the Dockerfile among them) as `tag`. */
  build(contextDir: string, files: string[], tag: string): Promise<void>;
  /** Loads a `docker save` tar (file or stream); returns the first image it names (or its ID). */
  loadFile(tar: string | Readable): Promise<string>;
  /** Loads a `docker save` stream (from another engine's `save`). */
  load(tar: Readable): Promise<void>;
  /** The image as a `docker save` tar stream; the caller destroys it when done. */
  save(ref: string): Promise<Readable>;
  tag(ref: string, repo: string, tag: string): Promise<void>;
  /** Null when the engine has no such image. */
  inspect(ref: string): Promise<{ id: string; size: number } | null>;
  remove(ref: string): Promise<void>;
}

export interface Executor {
  /** The node this engine belongs to; every container gets it as the `hangar.node` label. */
  readonly nodeId: string;
  readonly images: ImageEngine;
  /** Answers when the engine is reachable. */
  ping(): Promise<void>;
  /** Creates, attaches (before start, so no output is lost) and starts a container. */
  run(spec: ContainerSpec): Promise<RunningContainer>;
  /**
   * Creates and starts a container without attaching to it (as `docker run -d`): its output
   * stays in the engine's log, read with `follow`; its end is awaited with `waitExit`.
   * Throws EngineError "no_such_image" when the node lacks the image, "conflict" when the name is taken.
   */
  start(spec: ContainerSpec): Promise<{ id: string; notes: string[] }>;
  /** Stops a container (SIGTERM, then SIGKILL after `graceSeconds`). Missing or stopped is fine. */
  stop(id: string, graceSeconds?: number): Promise<void>;
  /** Removes a container, running or not. Missing is fine. */
  remove(id: string): Promise<void>;
  /** Waits for a container (running or already exited) to end; resolves with its exit code. */
  waitExit(id: string): Promise<number>;
  /**
   * Follows a container's output (stdout and stderr in arrival order) from the engine's log,
   * after `since` (an RFC 3339 timestamp with nanoseconds, exclusive), in batches: `text` is one
   * or more whole lines (each ending in `\n`) and `ts` the last one's timestamp, so a follower
   * that restarts resumes without gaps or repeats, and a container printing fast costs a few
   * calls per batch, not per line.
   */
  follow(id: string, since: string | null): AsyncGenerator<{ ts: string; text: string }>;
  /** The node ports a container's published ports got: {containerPort: hostPort}. */
  publishedPorts(id: string): Promise<Record<string, number>>;
  /** Null when there is no such container. */
  inspect(id: string): Promise<ContainerInfo | null>;
  /** Hangar's containers of this node, optionally only those with these label values. */
  list(labels?: Record<string, string>): Promise<ManagedContainer[]>;
  /** Runs a command in a running container, piped both ways. */
  exec(id: string, options: ExecOptions): Promise<ExecSession>;
}

export type EngineErrorReason = "no_such_image" | "not_found" | "conflict" | "other";

/** An engine refused or failed a request; the message is the engine's own. */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly reason: EngineErrorReason,
    /** The engine's HTTP status, when it answered. */
    readonly status: number | null = null,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "EngineError";
  }
}

/** An error's words for a log or a status reason. */
export function engineMessage(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return (typeof message === "string" ? message : String(err)).trim();
}
