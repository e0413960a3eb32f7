// Manifests and tar streams between the master and a staged node, over the node's SSH connection.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import type { Readable, Writable } from "node:stream";
import type { Deps } from "../../deps";
import { FIND_PRINTF, type Manifest, parseManifest } from "../../domain/staging";
import type { NodeAddress } from "../../nodes/manager";
import { shellQuote } from "../spec";

/** A folder's manifest on the master (missing: empty). */
export async function localManifest(dir: string): Promise<Manifest> {
  const p = spawn("find", [dir, "-mindepth", "1", "-printf", FIND_PRINTF], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const out: Buffer[] = [];
  p.stdout?.on("data", (d: Buffer) => out.push(d));
  await exited(p);
  return parseManifest(Buffer.concat(out).toString("utf8"));
}

const findScript = (dir: string) =>
  `if [ -d ${shellQuote(dir)} ]; then find ${shellQuote(dir)} -mindepth 1 -printf '${FIND_PRINTF}'; fi`;

export async function nodeManifest(deps: Deps, address: NodeAddress, dir: string): Promise<Manifest> {
  const out = await deps.nodes.run(address, findScript(dir), 300_000);
  if (out.code !== 0) throw new Error(`listing ${dir}: ${out.output.trim() || `exit ${out.code}`}`);
  return parseManifest(out.output);
}

function exited(p: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    p.once("error", reject);
    p.once("close", (code) => resolve(code ?? 255));
  });
}

/** The local tar's exit code and the node's end; a failure there kills the local tar. */
function bothEnds<T>(tar: ChildProcess, far: Promise<T>): Promise<[number, T]> {
  return Promise.all([
    exited(tar),
    far.catch((err: unknown) => {
      tar.kill();
      throw err;
    }),
  ]);
}

/**
 * Copies `from` into `to` with backpressure and ends it at the end (stream.pipe between an SSH
 * channel and a child's stdin does not always start flowing under Bun).
 */
function flow(from: Readable, to: Writable): void {
  from.on("data", (d: Buffer) => {
    if (!to.write(d)) {
      from.pause();
      to.once("drain", () => from.resume());
    }
  });
  from.once("end", () => to.end());
}

export const nul = (names: string[]) => Buffer.from(`${names.join("\0")}\0`);

export async function runOn(deps: Deps, address: NodeAddress, script: string, what: string): Promise<string> {
  const out = await deps.nodes.run(address, script, 300_000);
  if (out.code !== 0) throw new Error(`${what}: ${out.output.trim() || `exit ${out.code}`}`);
  return out.output;
}

/** Sends `names` (relative to `from` on the master) into `to` on the node: one tar stream. */
export async function sendTar(
  deps: Deps,
  address: NodeAddress,
  from: string,
  to: string,
  names: string[],
): Promise<void> {
  const remote = await deps.nodes.stream(
    address,
    `mkdir -p ${shellQuote(to)} && exec tar -C ${shellQuote(to)} -xUBf - --no-same-owner`,
  );
  // 1 MiB records: fewer, larger writes into the channel.
  const tar = spawn("tar", ["-C", from, "-b", "2048", "--no-recursion", "--null", "-T", "-", "-cf", "-"], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const errs: Buffer[] = [];
  tar.stderr?.on("data", (d: Buffer) => errs.push(d));
  tar.stdin?.end(nul(names));
  flow(tar.stdout as Readable, remote.stream);
  // The channel closes only once its output is read too.
  remote.stream.resume();
  remote.stream.on("error", () => tar.kill());
  tar.stdout?.on("error", () => {});
  const [code, far] = await bothEnds(tar, remote.done);
  if (far.code !== 0) throw new Error(`unpacking on the node: ${far.stderr || `tar exit ${far.code}`}`);
  // 1: a file changed while it was read (it moves again next time); more: a real failure.
  if (code > 1) throw new Error(`packing ${from}: ${Buffer.concat(errs).toString().trim() || `tar exit ${code}`}`);
}

/** Fetches `names` (relative to `from` on the node) into `to` on the master: one tar stream. */
export async function fetchTar(
  deps: Deps,
  address: NodeAddress,
  from: string,
  to: string,
  names: string[],
): Promise<void> {
  await mkdir(to, { recursive: true });
  const remote = await deps.nodes.stream(address, `exec tar -C ${shellQuote(from)} --no-recursion --null -T - -cf -`);
  const tar = spawn("tar", ["-C", to, "-xf", "-", "--no-same-owner"], { stdio: ["pipe", "ignore", "pipe"] });
  const errs: Buffer[] = [];
  tar.stderr?.on("data", (d: Buffer) => errs.push(d));
  tar.stdin?.on("error", () => {});
  remote.stream.on("error", () => tar.kill());
  flow(remote.stream, tar.stdin as Writable);
  remote.stream.end(nul(names));
  const [code, far] = await bothEnds(tar, remote.done);
  if (far.code > 1) throw new Error(`packing ${from} on the node: ${far.stderr || `tar exit ${far.code}`}`);
  if (code !== 0)
    throw new Error(`unpacking into ${to}: ${Buffer.concat(errs).toString().trim() || `tar exit ${code}`}`);
}
