// Real master and CLI processes for tests that need a separate process (backup, restart).
import { join } from "node:path";
import type { Subprocess } from "bun";
import { clearMustChange } from "./firstLogin";

const ROOT = join(import.meta.dir, "..", "..");

export interface MasterProcess {
  url: string;
  proc: Subprocess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** `wrap`: a command the master runs under (e.g. setpriv, to run it as another user). */
export async function spawnMaster(
  env: Record<string, string>,
  timeoutMs = 20_000,
  wrap: string[] = [],
): Promise<MasterProcess> {
  // HANGAR_PROF=1: the master writes a CPU profile (markdown) to /tmp/prof when it exits.
  const proc = Bun.spawn(
    [...wrap, "bun", ...(process.env.HANGAR_PROF ? ["--cpu-prof-md", "--cpu-prof-dir=/tmp/prof"] : []), "src/main.ts"],
    {
      cwd: ROOT,
      env: { ...process.env, HANGAR_PORT: "0", HANGAR_HOST: "127.0.0.1", ...env },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  let out = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) out += decoder.decode(chunk, { stream: true });
  };
  void collect(proc.stdout as ReadableStream<Uint8Array>);
  void collect(proc.stderr as ReadableStream<Uint8Array>);
  const deadline = Date.now() + timeoutMs;
  let url: string | undefined;
  while (!url) {
    const m = /running at (http:\/\/[^\s]+)/.exec(out);
    if (m) url = m[1];
    else if (proc.exitCode !== null) throw new Error(`master exited ${proc.exitCode}:\n${out}`);
    else if (Date.now() > deadline) {
      proc.kill();
      throw new Error(`master did not start in ${timeoutMs} ms:\n${out}`);
    } else await Bun.sleep(50);
  }
  return {
    url: url as string,
    proc,
    output: () => out,
    async stop(signal = "SIGTERM") {
      proc.kill(signal);
      return proc.exited;
    },
  };
}

export async function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn(["bun", "src/cli.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stdout, stderr] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  return { code, out: stdout + stderr };
}

/**
 * A tiny HTTP client for a master process. A login whose account must change its password first
 * (root's, every admin-made one's) does so through the real route and keeps the password
 * (helpers/firstLogin): the token it answers works for everything.
 */
export function client(base: string) {
  const call = raw(base);
  return async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await call(method, path, token, body);
    if (method === "POST" && path === "/api/auth/login" && res.status === 200 && res.body?.user?.mustChangePassword) {
      const password = (body as { password: string }).password;
      await clearMustChange((m, p, o) => call(m, p, o.token, o.body), res.body.token, password);
      res.body.user.mustChangePassword = false;
    }
    return res;
  };
}

/** The client without the first-login step (to see the flag itself). */
export function raw(base: string) {
  return async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, body: json };
  };
}
