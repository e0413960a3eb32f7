// Shared bits of the benchmarks: load generation with wrk, and the closing BENCH line.
import { $ } from "bun";

export async function ensureWrk(): Promise<void> {
  if (Bun.which("wrk")) return;
  console.log("installing wrk (Debian package) for load generation …");
  // An empty package list (fresh machine) needs an update first.
  const install = await $`apt-get install -y -q wrk`.quiet().nothrow();
  if (install.exitCode !== 0) await $`apt-get update -q && apt-get install -y -q wrk`.quiet();
}

/** Requests per second that wrk measures against `url` (one thread, `connections` open). */
export async function wrkRps(
  url: string,
  options: { seconds: number; connections: number; header?: string; cpu?: number },
) {
  const args = ["-t1", `-c${options.connections}`, `-d${options.seconds}s`, "--latency"];
  if (options.header) args.push("-H", options.header);
  const pin = options.cpu === undefined ? [] : ["taskset", "-c", String(options.cpu)];
  const out = await $`${pin} wrk ${args} ${url}`.text();
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const p50 = /^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? "?";
  const p99 = /^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? "?";
  if (!Number.isFinite(rps)) throw new Error(`could not read wrk output:\n${out}`);
  if (non2xx > 0) throw new Error(`${non2xx} responses were not 2xx from ${url}`);
  return { rps, p50, p99 };
}

/**
 * Splits the machine for a server-vs-client run: the server process (all its threads) on CPU 0,
 * the load generator on CPU 1, so neither steals the other's core and rounds vary less.
 * Returns the CPU for wrk, or undefined (no pinning) with fewer than 2 CPUs or no taskset.
 */
export async function pinServer(pid: number): Promise<number | undefined> {
  if (navigator.hardwareConcurrency < 2 || !Bun.which("taskset")) return undefined;
  await $`taskset -a -p -c 0 ${pid}`.quiet();
  return 1;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The closing line of every benchmark, e.g. `BENCH api-ratio value=0.31 goal=>=0.30`. */
export function benchLine(name: string, value: number, goal: string): string {
  return `BENCH ${name} value=${Number(value.toFixed(3))} goal=${goal}`;
}
