// The sshd worker stand-ins started by test/harness/up.sh (127.0.0.2, 127.0.0.3, …).
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TestMaster } from "./testMaster";

export interface TestWorker {
  ip: string;
  port: number;
  authorizedKeys: string;
}

export function testWorkers(): TestWorker[] {
  const ips = process.env.HANGAR_TEST_WORKERS;
  const state = process.env.HANGAR_TEST_STATE;
  if (!ips || !state)
    throw new Error(
      "HANGAR_TEST_WORKERS is not set: run the suite with `bun run test` (test/harness/up.sh starts the workers)",
    );
  const port = Number(process.env.HANGAR_TEST_WORKER_PORT ?? 22);
  return ips
    .split(/\s+/)
    .filter(Boolean)
    .map((ip) => ({ ip, port, authorizedKeys: join(state, "workers", ip, "authorized_keys") }));
}

/** Lets `publicKey` log in to the worker (idempotent). */
export function authorize(worker: TestWorker, publicKey: string): void {
  const current = readFileSync(worker.authorizedKeys, "utf8");
  if (!current.includes(publicKey.trim())) appendFileSync(worker.authorizedKeys, `${publicKey.trim()}\n`);
}

/** Stops or starts a worker's sshd through the harness (stop also cuts open connections). */
export async function workerSshd(action: "stop" | "start", worker: TestWorker): Promise<void> {
  const p = Bun.spawn(["bash", "test/harness/worker.sh", action, worker.ip], { stdout: "pipe", stderr: "pipe" });
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`worker.sh ${action} ${worker.ip} failed: ${err}`);
}

/**
 * Adds worker `w` to the test master as node `name` (with the master's key authorized there)
 * and connects it; throws unless it is `attached`. Returns the node id.
 */
export async function attachWorker(
  m: Pick<TestMaster, "json" | "deps">,
  token: string,
  w: TestWorker,
  name: string,
  extra: { dockerSocket?: string } = {},
): Promise<string> {
  authorize(w, m.deps.masterKey.publicKey);
  const added = await m.json("POST", "/api/nodes", { token, body: { ip: w.ip, sshPort: w.port, name, ...extra } });
  if (added.status !== 201) throw new Error(`adding node ${name}: ${added.status} ${JSON.stringify(added.body)}`);
  const connected = await m.json("POST", `/api/nodes/${added.body.id}/connect`, { token });
  if (connected.body.status !== "attached")
    throw new Error(`node ${name} is ${connected.body.status}: ${connected.body.statusMessage}`);
  return added.body.id as string;
}
