// Docker image operations on the master's engine and copying images to nodes.
import { createReadStream } from "node:fs";
import type Docker from "dockerode";

interface ProgressEvent {
  error?: string;
  errorDetail?: { message?: string };
  stream?: string;
  status?: string;
}

/** Waits for a Docker progress stream; rejects with Docker's own message on an error event. */
export function followProgress(docker: Docker, stream: NodeJS.ReadableStream): Promise<ProgressEvent[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: ProgressEvent[]) => {
      if (err) return reject(err);
      const failed = output.find((e) => e.error || e.errorDetail);
      if (failed) return reject(new Error(failed.errorDetail?.message ?? failed.error ?? "docker reported an error"));
      resolve(output);
    });
  });
}

export function dockerMessage(err: unknown): string {
  const e = err as { json?: { message?: string }; reason?: string; message?: string };
  return (e.json?.message ?? e.message ?? e.reason ?? String(err)).trim();
}

export async function pull(docker: Docker, ref: string): Promise<void> {
  await followProgress(docker, await docker.pull(ref));
}

export async function build(docker: Docker, contextDir: string, files: string[], tag: string): Promise<void> {
  const stream = await docker.buildImage({ context: contextDir, src: files }, { t: tag, rm: true, forcerm: true });
  await followProgress(docker, stream);
}

/** Loads a `docker save` tar; returns the first image it names. */
export async function loadTar(docker: Docker, tarPath: string): Promise<string> {
  const out = await followProgress(docker, await docker.loadImage(createReadStream(tarPath)));
  const text = out.map((e) => e.stream ?? "").join("");
  const named = /Loaded image: (\S+)/.exec(text)?.[1] ?? /Loaded image ID: (\S+)/.exec(text)?.[1];
  if (!named) throw new Error(`docker load named no image: ${text.trim() || "empty output"}`);
  return named;
}

export async function inspectImage(docker: Docker, ref: string): Promise<{ id: string; size: number } | null> {
  try {
    const info = await docker.getImage(ref).inspect();
    return { id: info.Id, size: info.Size };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return null;
    throw err;
  }
}

/**
 * Makes `ref` present on a node's engine. A pullable reference is pulled there first;
 * otherwise (or if that fails: offline labs have no registry) the master's copy is streamed
 * with `docker save` into the node's `docker load`. Returns what was done, for the job log.
 */
export async function ensureOnNode(
  master: Docker,
  node: Docker,
  ref: string,
  pullable: boolean,
  say: (line: string) => void = () => {},
): Promise<"present" | "pulled" | "copied"> {
  if (await inspectImage(node, ref)) return "present";
  if (pullable) {
    say(`image ${ref} is not on the node: pulling it there`);
    try {
      await pull(node, ref);
      return "pulled";
    } catch (err) {
      say(`pull on the node failed (${dockerMessage(err)}): copying the master's image instead`);
    }
  } else say(`image ${ref} is not on the node: copying it from the master (docker save | docker load)`);
  const saved = (await master.getImage(ref).get()) as NodeJS.ReadableStream & { destroy(): void };
  try {
    await followProgress(node, await node.loadImage(saved));
  } finally {
    saved.destroy(); // a failed load would leave the master's `docker save` stream open
  }
  if (!(await inspectImage(node, ref))) throw new Error(`image ${ref} still missing on the node after docker load`);
  return "copied";
}
