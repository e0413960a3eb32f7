// An in-process master for API tests, built by startMaster (the one composition root) with a
// manual clock, a silent logger, no listener, no backups, no node `local` and no default image:
// real store (SQLite or PostgreSQL), real app, driven through its handler with
// new Request(…) like an HTTP client. Its timers wait to be stepped (`ticker.tick(name)`), except
// the scheduler's backstop, which runs on real time (tests set schedulerBackstopSeconds).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "bun";
import { type Config, loadConfig } from "../../src/config";
import type { Deps } from "../../src/deps";
import { ManualClock } from "../../src/lib/clock";
import { createLogger } from "../../src/lib/logger";
import { ManualTicker } from "../../src/lib/ticker";
import { startMaster } from "../../src/master";
import { SCHEDULER_TIMER, type SchedulerLoop } from "../../src/scheduler/loop";
import { clearMustChange } from "./firstLogin";
import { freshPgDatabase, type StoreTarget } from "./stores";

export const ROOT_PASSWORD = "rootPass1!";

export interface TestMaster {
  deps: Deps;
  clock: ManualClock;
  /** Steps the node health rounds and the notebook idle check (NODE_HEALTH_TIMER, NOTEBOOK_IDLE_TIMER). */
  ticker: ManualTicker;
  config: Config;
  request(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; raw?: BodyInit; headers?: HeadersInit; ip?: string },
  ): Promise<Response>;
  /** `ip`: the peer address the server reports for this request (default: none, "unknown"). */
  json<T = any>(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; ip?: string },
  ): Promise<{ status: number; body: T }>;
  login(userId: string, password: string, otp?: string): Promise<string>;
  rootToken(): Promise<string>;
  /** Creates a user as root and returns a session token for them. */
  userWithToken(userId: string, role?: string, password?: string): Promise<string>;
  scheduler: SchedulerLoop | null;
  close(): Promise<void>;
}

export async function startTestMaster(
  target: StoreTarget,
  overrides: Partial<Config> = {},
  /** localNode: register the master as node `local` through the test machine's Docker (default false). */
  options: { scheduler?: boolean; localNode?: boolean } = {},
): Promise<TestMaster> {
  const dataDir = mkdtempSync(join(tmpdir(), "hangar-test-"));
  const pg = target === "postgres" ? await freshPgDatabase() : null;
  const config = loadConfig({}, [], {
    dataDir,
    rootPassword: ROOT_PASSWORD,
    databaseUrl: pg?.url,
    // Notebooks and deployments on ports the system picks: test masters run side by side.
    appsPorts: "any",
    ...overrides,
  });
  const clock = new ManualClock(new Date());
  const ticker = new ManualTicker([SCHEDULER_TIMER]);
  const master = await startMaster(config, {
    clock,
    // Errors only: an unexpected 500 then shows its cause in the test output.
    logger: createLogger("error"),
    ticker,
    serve: false,
    scheduler: options.scheduler ?? false,
    backups: false,
    localNode: options.localNode ?? false,
    localAdmin: false,
    defaultImage: false,
    accessLogFlushMs: 10,
  });
  const { deps, handler } = master;
  let root: string | undefined;

  const request: TestMaster["request"] = (method, path, options = {}) => {
    const headers = new Headers(options.headers);
    if (options.token) headers.set("authorization", `Bearer ${options.token}`);
    let body: BodyInit | undefined = options.raw;
    if (options.body !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(options.body);
    }
    const peer = options.ip;
    const server = peer
      ? ({ requestIP: () => ({ address: peer, family: "IPv4", port: 40000 }) } as unknown as Server<unknown>)
      : undefined;
    return handler(new Request(`http://localhost${path}`, { method, headers, body }), server);
  };
  const json: TestMaster["json"] = async (method, path, options) => {
    const res = await request(method, path, options);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const login: TestMaster["login"] = async (userId, password, otp) => {
    const res = await json("POST", "/api/auth/login", { body: { userId, password, otp } });
    if (res.status !== 200) throw new Error(`login ${userId}: ${res.status} ${JSON.stringify(res.body)}`);
    const token = res.body.token as string;
    if (res.body.user.mustChangePassword) await clearMustChange(json, token, password);
    return token;
  };
  const rootToken = async () => {
    root ??= await login("root", ROOT_PASSWORD);
    return root;
  };
  return {
    deps,
    clock,
    ticker,
    config,
    request,
    json,
    login,
    rootToken,
    async userWithToken(userId, role = "user", password = "userPass1!") {
      const res = await json("POST", "/api/users", { token: await rootToken(), body: { userId, password, role } });
      if (res.status !== 201) throw new Error(`create ${userId}: ${res.status} ${JSON.stringify(res.body)}`);
      return login(userId, password);
    },
    scheduler: master.scheduler,
    async close() {
      await master.stop();
      await pg?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
/** Node rows as the node layer would store them for attached workers with these GPU counts. */
export async function seedAttachedNodes(m: TestMaster, gpuCounts: number[]): Promise<void> {
  const now = m.clock.now().toISOString();
  await m.deps.store.tx(async (db) => {
    for (const [i, n] of gpuCounts.entries())
      await db.insert(m.deps.store.t.nodes).values({
        id: `seed-${i}`,
        name: `seed-${i}`,
        ip: `127.0.1.${i + 1}`,
        sshPort: 22,
        sshUser: "root",
        desired: "attached",
        status: "attached",
        interfaces: { control: "eth0" },
        networkInterfaces: [],
        gpus: Array.from({ length: n }, (_, g) => ({
          index: g,
          uuid: `GPU-seed${i}-${g}`,
          name: "NVIDIA A100-SXM4-80GB",
          memoryMiB: 81920,
        })),
        cpus: 64,
        memoryMiB: 512_000,
        createdAt: now,
        updatedAt: now,
      });
  });
}
