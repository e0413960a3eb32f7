// Job logs under load (issue 10, item 9): a job printing many lines keeps a complete log within
// HANGAR_JOB_LOG_MAX_MB (head and tail kept), followers of a big log cost bounded memory and do
// not stall the master, and followers are capped.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { createHandler } from "../../src/app";
import { BUSYBOX_IMAGE } from "../helpers/env";
import { makeTraining, makeWorkspace } from "../helpers/factories";
import { until as poll } from "../helpers/poll";
import { startTestMaster, type TestMaster } from "../helpers/testMaster";
import { attachWorker, testWorkers } from "../helpers/workers";

describe("job logs", () => {
  let m: TestMaster;
  let alice: string;
  const job = async (id: string) => (await m.json("GET", `/api/jobs/${id}`, { token: alice })).body;
  const ended = (id: string) =>
    poll(
      `job ${id}`,
      () => job(id),
      (j) => ["succeeded", "failed"].includes(j.status),
      { timeoutMs: 60_000 },
    );
  const submit = async (name: string, command: string) => {
    const res = await m.json("POST", "/api/workspaces/logs-ws/trainings/t1/jobs", {
      token: alice,
      body: { image: BUSYBOX_IMAGE, name, command, gpus: 1 },
    });
    if (res.status !== 201) throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.items[0] as { id: string };
  };
  const log = async (id: string) => (await m.request("GET", `/api/jobs/${id}/log`, { token: alice })).text();

  beforeAll(async () => {
    m = await startTestMaster(
      "sqlite",
      { schedulerBackstopSeconds: 0.2, jobLogMaxMiB: 1, logFollowersPerJob: 3, logFollowersTotal: 5 },
      { scheduler: true },
    );
    const root = await m.rootToken();
    alice = await m.userWithToken("alice");
    for (const w of testWorkers()) await attachWorker(m, root, w, `w-${w.ip.split(".").pop()}`);
    await makeWorkspace(m, root, "logs-ws", { trainingGpus: 2, users: ["alice"] });
    await makeTraining(m, alice, "logs-ws", "t1");
  });
  afterAll(() => m.close());

  test("a job printing 100,000 lines has every one in its log, in order", async () => {
    const { id } = await submit("many", "seq 1 100000");
    expect((await ended(id)).status).toBe("succeeded");
    const lines = (await log(id)).split("\n").filter((l) => /^\d+$/.test(l));
    expect(lines.length).toBe(100_000);
    expect(lines.every((l, i) => Number(l) === i + 1)).toBe(true);
  }, 90_000);

  test("past HANGAR_JOB_LOG_MAX_MB (1 here) the head and the tail are kept, the middle dropped", async () => {
    const { id } = await submit("noisy", "seq 1 600000"); // ~4.4 MB
    await ended(id);
    const text = await log(id);
    expect(text.length).toBeLessThanOrEqual(1024 * 1024 + 512);
    expect(text).toContain("\n1\n2\n3\n");
    expect(text).toMatch(/\[hangar\] \d+ bytes of this log were dropped/);
    const numbers = text.split("\n").filter((l) => /^\d+$/.test(l));
    expect(numbers.at(-1)).toBe("600000");
    // The tail is whole lines in order up to the end.
    const tail = numbers.slice(-1000);
    expect(tail.every((l, i) => Number(l) === 600000 - 999 + i)).toBe(true);
  }, 90_000);

  test("followers of a 96 MB log: memory bounded, /api/health stays fast, every line arrives", async () => {
    const { id } = await submit("quiet", "echo hi");
    await ended(id);
    // A big stored log (as if the cap were higher), written straight into the job's log file.
    const line = `${"x".repeat(95)}\n`;
    const count = (96 * 1024 * 1024) / line.length;
    writeFileSync(m.deps.logs.file(id), line.repeat(count));
    // Served over real HTTP; the followers are curl processes, so only the master's memory counts.
    const handler = createHandler(m.deps);
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req, srv) => handler(req, srv) });
    const base = `http://127.0.0.1:${server.port}`;
    Bun.gc(true);
    const before = process.memoryUsage.rss();
    let peak = before;
    const latencies: number[] = [];
    let following = true;
    const probe = (async () => {
      while (following) {
        const t0 = performance.now();
        expect((await fetch(`${base}/api/health`)).status).toBe(200);
        latencies.push(performance.now() - t0);
        peak = Math.max(peak, process.memoryUsage.rss());
        await Bun.sleep(25);
      }
    })();
    const follow = async () => {
      const curl = Bun.spawn(
        [
          "sh",
          "-c",
          `curl -sN -H "authorization: Bearer ${alice}" "${base}/api/jobs/${id}/log?follow=1" | grep -c '^data: xxxx'`,
        ],
        { stdout: "pipe" },
      );
      const out = await new Response(curl.stdout).text();
      await curl.exited;
      return Number(out.trim());
    };
    const counts = await Promise.all([follow(), follow(), follow()]);
    following = false;
    await probe;
    server.stop(true);
    latencies.sort((a, b) => a - b);
    const rise = (peak - before) / 1024 / 1024;
    const p50 = latencies[Math.floor(latencies.length / 2)] as number;
    const max = latencies.at(-1) as number;
    console.log(
      `3 followers of 96 MB: RSS +${rise.toFixed(0)} MB, /api/health p50 ${p50.toFixed(1)} ms max ${max.toFixed(1)} ms (${latencies.length} probes)`,
    );
    expect(counts).toEqual([count, count, count]);
    expect(rise).toBeLessThan(200);
    expect(p50).toBeLessThan(100);
    expect(max).toBeLessThan(1000);
  }, 120_000);

  test("followers past the per-job cap get 429", async () => {
    const { id } = await submit("followed", "sleep 30");
    await poll(
      `job ${id}`,
      () => job(id),
      (j) => j.status === "running",
      { timeoutMs: 30_000 },
    );
    const open = [];
    for (let i = 0; i < 3; i++) {
      const res = await m.request("GET", `/api/jobs/${id}/log?follow=1`, { token: alice });
      expect(res.status).toBe(200);
      open.push(res);
    }
    const over = await m.request("GET", `/api/jobs/${id}/log?follow=1`, { token: alice });
    expect(over.status).toBe(429);
    expect((await over.json()).error.message).toContain("log followers");
    await open[0]?.body?.cancel();
    const again = await m.request("GET", `/api/jobs/${id}/log?follow=1`, { token: alice });
    expect(again.status).toBe(200);
    await m.json("POST", `/api/jobs/${id}/cancel`, { token: alice });
    for (const r of [...open.slice(1), again]) await r.body?.cancel();
  }, 60_000);
});
