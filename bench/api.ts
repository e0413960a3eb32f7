// bun run bench:api — req/s of an authenticated GET /api/users?limit=50 on the real master
// (a separate process, SQLite store, access log on) against a bare Bun.serve hello-world,
// both driven by the same wrk client in the same run.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqlite } from "../src/store/store";
import { client, spawnMaster } from "../test/helpers/processes";
import { benchLine, ensureWrk, median, pinServer, wrkRps } from "./lib";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 50;

await ensureWrk();
const dataDir = mkdtempSync(join(tmpdir(), "hangar-bench-api-"));

// 60 users, so the page of 50 is full. Inserted directly: hashing 60 argon2id passwords
// through the API would only slow the setup.
const store = openSqlite(join(dataDir, "hangar.db"));
const hash = await Bun.password.hash("benchPass1!");
const now = new Date().toISOString();
await store.tx(async (db) => {
  for (let i = 0; i < 60; i++)
    await db.insert(store.t.users).values({
      userId: `bench-user-${String(i).padStart(2, "0")}`,
      role: "user",
      passwordHash: hash,
      createdAt: now,
      updatedAt: now,
    });
});
await store.close();

const master = await spawnMaster({ HANGAR_DATA_DIR: dataDir, HANGAR_ROOT_PASSWORD: "benchRoot1!" });
const hello = Bun.spawn(["bun", join(import.meta.dir, "hello.ts")], { stdout: "pipe" });
try {
  const helloPort = /listening (\d+)/.exec(await readLine(hello.stdout))?.[1];
  // Both servers on CPU 0, wrk on CPU 1 (where there are two).
  const cpu = await pinServer(master.proc.pid);
  await pinServer(hello.pid);
  const api = client(master.url);
  const login = await api("POST", "/api/auth/login", undefined, { userId: "root", password: "benchRoot1!" });
  const token = login.body.token as string;
  const page = await api("GET", "/api/users?limit=50", token);
  if (page.status !== 200 || page.body.items.length !== 50) throw new Error(`unexpected page: ${page.status}`);

  const ours: number[] = [];
  const anchor: number[] = [];
  const usersUrl = `${master.url}/api/users?limit=50`;
  const helloUrl = `http://127.0.0.1:${helloPort}/`;
  // Warm up both (JIT, caches), then alternate rounds so drift hits both alike.
  await wrkRps(usersUrl, { seconds: 1, connections: CONNECTIONS, header: `Authorization: Bearer ${token}`, cpu });
  await wrkRps(helloUrl, { seconds: 1, connections: CONNECTIONS, cpu });
  for (let r = 0; r < ROUNDS; r++) {
    const a = await wrkRps(usersUrl, {
      seconds: SECONDS,
      connections: CONNECTIONS,
      header: `Authorization: Bearer ${token}`,
      cpu,
    });
    const b = await wrkRps(helloUrl, { seconds: SECONDS, connections: CONNECTIONS, cpu });
    ours.push(a.rps);
    anchor.push(b.rps);
    console.log(
      `round ${r + 1}: GET /api/users?limit=50 ${a.rps.toFixed(0)} req/s (p50 ${a.p50}, p99 ${a.p99}) | hello ${b.rps.toFixed(0)} req/s (p50 ${b.p50}, p99 ${b.p99})`,
    );
  }
  const ratio = median(ours) / median(anchor);
  console.log(`median: hangar ${median(ours).toFixed(0)} req/s, Bun.serve hello ${median(anchor).toFixed(0)} req/s`);
  const pinning = cpu === undefined ? "no CPU pinning" : "servers pinned to CPU 0, wrk to CPU 1";
  console.log(`ratio ${ratio.toFixed(3)} (wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, ${ROUNDS} rounds, ${pinning})`);
  console.log(benchLine("api-ratio", ratio, ">=0.30"));
} finally {
  hello.kill();
  await master.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

async function readLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return new TextDecoder().decode(value);
}
