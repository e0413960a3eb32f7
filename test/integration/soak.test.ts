// Bounded soak (issue 10): a real master process (SQLite, the real Docker Engine, node `local`)
// under mixed load for HANGAR_SOAK_SECONDS (default 600): logins (the real user's, and a flood of
// wrong passwords on another account that the throttle stops), dataset uploads and deletes, a job
// printing lines as fast as its CPU share lets it for the whole run, followers of its log that
// reconnect, long-lived SSE followers, short jobs followed to their end, list calls; a separate
// process probes /api/health every 100 ms. The master must not crash or answer a 5xx, its resident
// memory must stay under RSS_CEILING_MB (README, Security model: Resource limits) and /api/health
// under HEALTH_P99_MS at the 99th percentile. `bun run soak` runs this file alone at full length.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUSYBOX_IMAGE } from "../helpers/env";
import { OPEN_PERIOD } from "../helpers/factories";
import { multipart } from "../helpers/multipart";
import { until } from "../helpers/poll";
import { client, type MasterProcess, spawnMaster } from "../helpers/processes";

const SECONDS = Number(process.env.HANGAR_SOAK_SECONDS ?? 600);
const FULL_SECONDS = 600;
/** The master's resident memory (peak, VmHWM) must stay under this (README states it). */
const RSS_CEILING_MB = 640;
const HEALTH_P99_MS = 100;

const ROOT_PASSWORD = "soakRoot1!";
const ALICE_PASSWORD = "alicePass1!";
const UPLOAD_MB = 4;
const LOG_JOB =
  'i=0; while :; do echo "soak line $i: the quick brown fox jumps over the lazy dog 0123456789 abcdefghij"; i=$((i+1)); done';

/** VmRSS and VmHWM (peak) of a process, in MiB; null once it is gone. */
function memory(pid: number): { rss: number; peak: number } | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

/** CPU time (user + system) a process has used, in seconds. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Busy and total jiffies of the whole machine (all CPUs), from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const cpu = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  return { busy: total - idle, total };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** Per operation: how many calls, by status (or "error" for a transport failure). */
class Tally {
  readonly ops = new Map<string, Map<string, number>>();
  readonly serverErrors: string[] = [];
  add(op: string, status: number | string, detail = ""): void {
    const by = this.ops.get(op) ?? new Map<string, number>();
    by.set(String(status), (by.get(String(status)) ?? 0) + 1);
    this.ops.set(op, by);
    if (typeof status !== "number" || status >= 500) this.serverErrors.push(`${op}: ${status} ${detail}`.slice(0, 300));
  }
  count(op: string, status?: number): number {
    const by = this.ops.get(op);
    if (!by) return 0;
    if (status !== undefined) return by.get(String(status)) ?? 0;
    return [...by.values()].reduce((a, b) => a + b, 0);
  }
  toString(): string {
    return [...this.ops].map(([op, by]) => `${op} ${[...by].map(([s, n]) => `${s}×${n}`).join(" ")}`).join("; ");
  }
}

describe("soak: a master under mixed load", () => {
  const dir = mkdtempSync(join(tmpdir(), "hangar-soak-"));
  let master: MasterProcess;
  let api: ReturnType<typeof client>;
  let root: string;
  let alice: string;
  let logJob: string;

  beforeAll(async () => {
    if (SECONDS !== FULL_SECONDS)
      console.log(`soak: HANGAR_SOAK_SECONDS=${SECONDS} (the full soak is ${FULL_SECONDS} s)`);
    master = await spawnMaster({
      HANGAR_DATA_DIR: join(dir, "data"),
      HANGAR_ROOT_PASSWORD: ROOT_PASSWORD,
      HANGAR_DEFAULT_IMAGE: BUSYBOX_IMAGE,
      // Uploads are deleted after each round: a leak of quota would show as a 413.
      HANGAR_WORKSPACE_QUOTA_MB: "64",
    });
    api = client(master.url);
    const login = async (userId: string, password: string) => {
      const res = await api("POST", "/api/auth/login", undefined, { userId, password });
      if (res.status !== 200) throw new Error(`login ${userId}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.token as string;
    };
    root = await login("root", ROOT_PASSWORD);
    for (const userId of ["alice", "mallory"]) {
      const res = await api("POST", "/api/users", root, { userId, password: ALICE_PASSWORD, role: "user" });
      expect(res.status).toBe(201);
    }
    alice = await login("alice", ALICE_PASSWORD);
    await until(
      "node local attached",
      async () => (await api("GET", "/api/nodes", root)).body.items,
      (items: { id: string; status: string }[]) => items.some((n) => n.id === "local" && n.status === "attached"),
      { timeoutMs: 30_000 },
    );
    const ws = await api("POST", "/api/workspaces", root, {
      name: "soak",
      ...OPEN_PERIOD,
      trainingGpus: 0,
      deploymentGpus: 0,
      cpus: 1,
      memoryMiB: 1024,
      manager: "root",
      users: ["alice"],
    });
    expect(ws.status).toBe(201);
    const tr = await api("POST", "/api/workspaces/soak/trainings", alice, {
      name: "noisy",
      type: "advanced",
      gpus: 0,
      // A quarter of a core: ~20,000 lines a second, and the machine (2 cores in CI) keeps room
      // for the master, the engine that logs the lines, and the followers.
      cpus: 0.25,
      memoryMiB: 128,
      access: "private",
      owner: "alice",
    });
    expect(tr.status).toBe(201);
    expect((await api("POST", "/api/workspaces/soak/datasets", alice, { name: "data" })).status).toBe(201);
    const sub = await api("POST", "/api/workspaces/soak/trainings/noisy/jobs", alice, {
      name: "log-heavy",
      image: BUSYBOX_IMAGE,
      command: LOG_JOB,
    });
    expect(sub.status).toBe(201);
    logJob = sub.body.items[0].id;
    await until(
      "log job running",
      async () => (await api("GET", `/api/jobs/${logJob}`, alice)).body,
      (j: { status: string }) => j.status === "running",
      { timeoutMs: 60_000, everyMs: 250 },
    );
  }, 120_000);

  afterAll(async () => {
    if (logJob && master?.proc.exitCode === null)
      await api("POST", `/api/jobs/${logJob}/cancel`, alice).catch(() => {});
    await master?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test(
    `${SECONDS} s of logins, uploads, a log-heavy job, followers, SSE and lists: no crash, RSS < ${RSS_CEILING_MB} MiB, /api/health p99 < ${HEALTH_P99_MS} ms`,
    async () => {
      const pid = master.proc.pid;
      const stopAt = Date.now() + SECONDS * 1000;
      const running = () => Date.now() < stopAt && master.proc.exitCode === null;
      const tally = new Tally();
      const base = master.url;
      const auth = { authorization: `Bearer ${alice}` };

      // The prober: its own process, started first, ending on its own at the deadline.
      const prober = Bun.spawn(
        ["bun", join(import.meta.dir, "..", "helpers", "healthProbe.ts"), base, String(SECONDS)],
        {
          stdout: "pipe",
          stderr: "inherit",
        },
      );
      const probeOut = new Response(prober.stdout).text();

      // Resident memory every second.
      const start = memory(pid);
      const cpu0 = cpuSeconds(pid);
      const ownCpu0 = process.cpuUsage();
      const machine0 = machineTicks();
      // The main thread's time on a CPU and waiting for one (ns); NaN once the process is gone.
      const sched = () => {
        try {
          return readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "utf8").trim().split(" ").map(Number);
        } catch {
          return [Number.NaN, Number.NaN];
        }
      };
      const sched0 = sched();
      const rssSamples: number[] = [];
      const sampler = setInterval(() => {
        const m = memory(pid);
        if (m) rssSamples.push(m.rss);
      }, 1000);

      /** One call, counted; returns the status (or "error") and the body text. */
      const call = async (op: string, path: string, init: RequestInit = {}, token = alice) => {
        try {
          const res = await fetch(base + path, {
            ...init,
            headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) },
            signal: AbortSignal.timeout(30_000),
          });
          const text = await res.text();
          tally.add(op, res.status, text);
          return { status: res.status, text };
        } catch (err) {
          tally.add(op, "error", String(err));
          return { status: 0, text: "" };
        }
      };
      const json = (body: unknown): RequestInit => ({
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });

      // Logins: the real user logs in, reads /api/me and logs out, about once a second.
      const logins = async () => {
        while (running()) {
          const res = await call(
            "login alice",
            "/api/auth/login",
            json({ userId: "alice", password: ALICE_PASSWORD }),
            "",
          );
          if (res.status === 200) {
            const token = JSON.parse(res.text).token as string;
            await call("me", "/api/me", {}, token);
            await call("logout", "/api/auth/logout", { method: "POST" }, token);
          }
          await Bun.sleep(1000);
        }
      };
      // Wrong passwords for mallory from the same address, twice a second: the throttle stops them.
      const guesses = async () => {
        let n = 0;
        while (running()) {
          await call(
            "login mallory (wrong)",
            "/api/auth/login",
            json({ userId: "mallory", password: `wrong${n++}!x` }),
            "",
          );
          await Bun.sleep(500);
        }
      };
      // Uploads of UPLOAD_MB, listed and deleted again (the quota is 64 MB).
      const uploads = async () => {
        const data = new Uint8Array(UPLOAD_MB * 1024 * 1024);
        for (let i = 0; i < data.length; i += 4096) data[i] = i % 251;
        let n = 0;
        while (running()) {
          const name = `f${n++}.bin`;
          const { body, contentType } = multipart([{ name, data }]);
          const up = await call("upload", "/api/workspaces/soak/datasets/data/files", {
            method: "POST",
            headers: { "content-type": contentType },
            body,
          });
          await call("list files", "/api/workspaces/soak/datasets/data/files");
          if (up.status === 201 || up.status === 200)
            await call("delete file", `/api/workspaces/soak/datasets/data/files/${name}`, { method: "DELETE" });
          await Bun.sleep(250);
        }
      };
      // Plain list and detail calls.
      const lists = async () => {
        const paths = [
          "/api/workspaces",
          "/api/workspaces/soak",
          "/api/workspaces/soak/datasets",
          "/api/workspaces/soak/trainings",
          "/api/workspaces/soak/trainings/noisy/jobs",
          `/api/jobs/${logJob}`,
          `/api/jobs/${logJob}/events`,
        ];
        let n = 0;
        while (running()) {
          const path = paths[n++ % paths.length] as string;
          await call(`list ${path.replace(logJob, ":id")}`, path);
          if (n % 10 === 0) await call("nodes (root)", "/api/nodes", {}, root);
          await Bun.sleep(200);
        }
      };
      // Followers that reconnect: curl (not this process) reads the log as fast as it comes, stored
      // part first, for 10–30 s, then drops the connection and comes back.
      let followerBytes = 0;
      const follower = async (k: number) => {
        while (running()) {
          const seconds = Math.min(10 + ((k * 7 + followerBytes) % 21), Math.max(1, (stopAt - Date.now()) / 1000));
          const curl = Bun.spawn(
            [
              "curl",
              "-sN",
              "-o",
              "/dev/null",
              "-w",
              "%{http_code} %{size_download}",
              "--max-time",
              seconds.toFixed(1),
              "-H",
              `authorization: Bearer ${alice}`,
              `${base}/api/jobs/${logJob}/log?follow=1`,
            ],
            { stdout: "pipe", stderr: "ignore" },
          );
          const out = (await new Response(curl.stdout).text()).trim();
          await curl.exited;
          const [code, size] = out.split(" ");
          followerBytes += Number(size ?? 0);
          tally.add("follow (reconnecting)", Number(code) || `curl exit ${curl.exitCode}`);
          await Bun.sleep(200);
        }
      };
      // Long-lived SSE followers: one connection for the whole run; lines must keep arriving.
      const sse = { bytes: 0, maxGapMs: 0 };
      const longFollower = async () => {
        const abort = new AbortController();
        const timer = setTimeout(() => abort.abort(), Math.max(0, stopAt - Date.now()));
        try {
          const res = await fetch(`${base}/api/jobs/${logJob}/log?follow=1`, { headers: auth, signal: abort.signal });
          tally.add("follow (whole run)", res.status);
          const reader = (res.body as ReadableStream<Uint8Array>).getReader();
          let last = Date.now();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            const now = Date.now();
            // The stored log comes first; from then on the gap between chunks is measured.
            sse.maxGapMs = Math.max(sse.maxGapMs, now - last);
            last = now;
            sse.bytes += value.length;
          }
          tally.add("follow (whole run) ended early", "error");
        } catch (err) {
          if (!abort.signal.aborted) tally.add("follow (whole run) broke", "error", String(err));
        } finally {
          clearTimeout(timer);
        }
      };
      // Short jobs, one every 15 s, each followed over SSE to its `end` event.
      const shortJobs = async () => {
        let n = 0;
        while (running()) {
          const res = await call(
            "submit short job",
            "/api/workspaces/soak/trainings/noisy/jobs",
            json({ name: `short-${n++}`, image: BUSYBOX_IMAGE, command: "seq 1 2000" }),
          );
          if (res.status === 201) {
            const id = JSON.parse(res.text).items[0].id as string;
            const text = (await call("follow short job", `/api/jobs/${id}/log?follow=1`)).text;
            const ended = /event: end\ndata: \{"status":"succeeded"/.test(text) && text.includes("data: 2000\n");
            tally.add("short job followed to its end", ended ? 200 : "no end", text.slice(-200));
          }
          await Bun.sleep(15_000);
        }
      };

      await Promise.all([
        logins(),
        guesses(),
        uploads(),
        lists(),
        follower(0),
        follower(1),
        follower(2),
        longFollower(),
        longFollower(),
        shortJobs(),
      ]);
      clearInterval(sampler);
      await prober.exited;
      const probe = JSON.parse(await probeOut) as {
        latencies: number[];
        controlLatencies: number[];
        failures: string[];
      };
      const end = memory(pid);
      const cpu = cpuSeconds(pid) - cpu0;
      const ownCpu = process.cpuUsage(ownCpu0);
      const sched1 = sched();
      const ranS = ((sched1[0] ?? 0) - (sched0[0] ?? 0)) / 1e9;
      const waitS = ((sched1[1] ?? 0) - (sched0[1] ?? 0)) / 1e9;
      const machine1 = machineTicks();
      const machineBusy = (machine1.busy - machine0.busy) / (machine1.total - machine0.total);

      // The figures.
      const lat = [...probe.latencies].sort((a, b) => a - b);
      const p50 = percentile(lat, 50);
      const p99 = percentile(lat, 99);
      const maxLat = lat.at(-1) ?? Number.NaN;
      const ctl = [...probe.controlLatencies].sort((a, b) => a - b);
      const rssMax = Math.max(...rssSamples);
      const peak = end?.peak ?? Number.NaN;
      // The highest sample in each tenth of the run: growth over time shows as a rising row.
      const window = Math.max(1, Math.round(SECONDS / 10));
      const byWindow: string[] = [];
      for (let i = 0; i < rssSamples.length; i += window)
        byWindow.push(Math.max(...rssSamples.slice(i, i + window)).toFixed(0));
      const mb = (n: number | undefined) => (n ?? Number.NaN).toFixed(0);
      console.log(
        [
          `soak ${SECONDS} s${SECONDS === FULL_SECONDS ? "" : ` (shortened from ${FULL_SECONDS} s)`}:`,
          `  /api/health: ${lat.length} probes, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${maxLat.toFixed(1)} ms, ${probe.failures.length} failed`,
          `  (a bare Bun server beside it, the machine's share: p50 ${percentile(ctl, 50).toFixed(1)} ms, p99 ${percentile(ctl, 99).toFixed(1)} ms, max ${(ctl.at(-1) ?? Number.NaN).toFixed(1)} ms)`,
          `  master RSS: start ${mb(start?.rss)} MiB, max ${mb(rssMax)} MiB (peak VmHWM ${mb(peak)} MiB), end ${mb(end?.rss)} MiB; ceiling ${RSS_CEILING_MB} MiB`,
          `  master RSS, highest sample of each ${window} s: ${byWindow.join(" ")} MiB`,
          `  followers read ${(followerBytes / 1048576).toFixed(0)} MiB reconnecting, ${(sse.bytes / 1048576).toFixed(0)} MiB whole-run (longest gap ${sse.maxGapMs} ms)`,
          `  the master's main thread ran ${ranS.toFixed(0)} s and waited ${waitS.toFixed(0)} s for a CPU (Linux schedstat)`,
          `  CPU: master ${((cpu / SECONDS) * 100).toFixed(0)}% of one core, this load generator ${(((ownCpu.user + ownCpu.system) / 1e6 / SECONDS) * 100).toFixed(0)}%; the whole machine (${navigator.hardwareConcurrency} cores, shared) ${(machineBusy * 100).toFixed(0)}% busy`,
          `  calls: ${tally}`,
        ].join("\n"),
      );
      if (tally.serverErrors.length || master.proc.exitCode !== null)
        console.log(`master output (tail):\n${master.output().slice(-4000)}`);

      // No crash, no 5xx, no transport failure.
      expect(master.proc.exitCode).toBeNull();
      expect(tally.serverErrors).toEqual([]);
      expect(probe.failures).toEqual([]);
      // Memory and latency bounds.
      expect(peak).toBeLessThan(RSS_CEILING_MB);
      expect(p99).toBeLessThan(HEALTH_P99_MS);
      // Every kind of load actually ran, and did what it should.
      const loginsOk = tally.count("login alice", 200);
      expect(loginsOk).toBe(tally.count("login alice"));
      expect(loginsOk).toBeGreaterThan(SECONDS / 4);
      expect(tally.count("login mallory (wrong)", 401)).toBe(10);
      expect(tally.count("login mallory (wrong)", 429)).toBeGreaterThan(0);
      expect(tally.count("upload", 201) + tally.count("upload", 200)).toBe(tally.count("upload"));
      expect(tally.count("upload")).toBeGreaterThan(SECONDS / 10);
      expect(tally.count("delete file", 204)).toBe(tally.count("delete file"));
      expect(tally.count("follow (reconnecting)", 200)).toBe(tally.count("follow (reconnecting)"));
      expect(tally.count("follow (reconnecting)")).toBeGreaterThan(SECONDS / 15);
      expect(tally.count("follow (whole run)", 200)).toBe(2);
      expect(sse.maxGapMs).toBeLessThan(10_000);
      expect(tally.count("short job followed to its end", 200)).toBe(tally.count("short job followed to its end"));
      expect(tally.count("short job followed to its end")).toBeGreaterThan(0);
      // The log job is still running, and its stored log stays within the cap.
      expect((await api("GET", `/api/jobs/${logJob}`, alice)).body.status).toBe("running");
    },
    (SECONDS + 180) * 1000,
  );
});
