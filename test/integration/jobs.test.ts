// Trainings and jobs end to end on the real Docker Engine and the worker stand-ins: a sweep runs
// in order, workspace GPU shares hold jobs pending with the reason, a job too big for any node
// does not block a small one, logs are stored and followed, cancel frees the GPUs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";
import { createHandler } from "../../src/app";
import { nodeExecutor } from "../../src/nodes/service";
import { BUSYBOX_IMAGE } from "../helpers/env";
import { eventSeq } from "../helpers/events";
import { makeTraining, makeWorkspace, OPEN_PERIOD } from "../helpers/factories";
import { until as poll } from "../helpers/poll";
import { STORE_TARGETS } from "../helpers/stores";
import { startTestMaster, type TestMaster } from "../helpers/testMaster";
import { attachWorker, testWorkers } from "../helpers/workers";

const IMAGE = BUSYBOX_IMAGE;

for (const target of STORE_TARGETS) {
  describe(`jobs on ${target}`, () => {
    let m: TestMaster;
    let root: string;
    let alice: string;

    const job = async (id: string) => (await m.json("GET", `/api/jobs/${id}`, { token: alice })).body;
    const until = (id: string, ok: (j: any) => boolean, ms = 30_000) =>
      poll(`job ${id}`, () => job(id), ok, { timeoutMs: ms });
    const submit = async (ws: string, tr: string, body: Record<string, unknown>) => {
      const res = await m.json("POST", `/api/workspaces/${ws}/trainings/${tr}/jobs`, {
        token: alice,
        body: { image: IMAGE, ...body },
      });
      if (res.status !== 201) throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.items as { id: string; name: string }[];
    };

    beforeAll(async () => {
      m = await startTestMaster(
        target,
        { schedulerBackstopSeconds: 0.2, schedulerMaxAttempts: 2 },
        { scheduler: true },
      );
      root = await m.rootToken();
      alice = await m.userWithToken("alice");
      for (const w of testWorkers()) {
        await attachWorker(m, root, w, `w-${w.ip.split(".").pop()}`);
      }
      for (const [name, gpus] of [
        ["sweep-ws", 1],
        ["tight-ws", 2],
      ] as const) {
        await makeWorkspace(m, root, name, { trainingGpus: gpus, users: ["alice"] });
        await makeTraining(m, alice, name, "t1");
      }
    });
    afterAll(() => m.close());

    test("a sweep of 3 parameter sets runs as 3 jobs, in order, each log showing its parameters", async () => {
      const jobs = await submit("sweep-ws", "t1", {
        name: "sweep",
        command: `sh -c 'echo "lr=$HANGAR_PARAM_LR args: $*"; sleep 0.3' job`,
        parameterSets: [{ lr: "0.1" }, { lr: "0.01" }, { lr: 0.001 }],
      });
      expect(jobs.map((j) => j.name)).toEqual(["sweep-1", "sweep-2", "sweep-3"]);
      const second = await job(jobs[1]?.id as string);
      expect(second.status).toBe("pending");
      expect(second.statusReason).toBe("waiting for sweep-1 to end");
      expect(second.reasonCode).toBe("predecessor");
      const done = [];
      for (const j of jobs) done.push(await until(j.id, (x) => x.status === "succeeded"));
      // Each set starts only after the one before it ended (event order: the clock is frozen).
      for (let i = 1; i < jobs.length; i++)
        expect(await eventSeq(m, jobs[i]?.id as string, "starting")).toBeGreaterThan(
          await eventSeq(m, jobs[i - 1]?.id as string, "succeeded"),
        );
      for (const [i, lr] of ["0.1", "0.01", "0.001"].entries()) {
        const log = await (await m.request("GET", `/api/jobs/${jobs[i]?.id}/log`, { token: alice })).text();
        expect(log).toContain(`lr=${lr} args: --lr ${lr}`);
      }
      expect(done[0]).toMatchObject({ exitCode: 0, parameters: { lr: "0.1" }, gpus: 1, reasonCode: "exited" });
      const events = (await m.json("GET", `/api/jobs/${jobs[0]?.id}/events`, { token: alice })).body.items;
      expect(events.map((e: { to: string }) => e.to)).toEqual(["pending", "starting", "running", "succeeded"]);
    });

    test("with 2 training GPUs, a 2-GPU job runs and a 1-GPU job waits for the workspace, then runs", async () => {
      const [big] = await submit("tight-ws", "t1", { name: "two", command: "sleep 2", gpus: 2 });
      await until(big?.id as string, (j) => j.status === "running");
      const [small] = await submit("tight-ws", "t1", { name: "one", command: "echo small done", gpus: 1 });
      const waiting = await until(small?.id as string, (j) => j.statusReason?.startsWith("workspace"));
      expect(waiting.status).toBe("pending");
      expect(waiting.statusReason).toBe("workspace tight-ws: 2 of 2 training GPUs in use");
      expect(waiting.reasonCode).toBe("workspace");
      const detail = (await m.json("GET", "/api/workspaces/tight-ws", { token: alice })).body;
      expect(detail.gpusInUse.training).toBe(2);
      // The list (the Workspaces table) carries the same figure.
      const listed = (await m.json("GET", "/api/workspaces", { token: alice })).body.items;
      expect(listed.find((w: { name: string }) => w.name === "tight-ws").gpusInUse).toEqual({
        training: 2,
        deployment: 0,
      });
      await until(big?.id as string, (j) => j.status === "succeeded");
      const ran = await until(small?.id as string, (j) => j.status === "succeeded");
      expect(ran.status).toBe("succeeded");
      expect(await eventSeq(m, small?.id as string, "starting")).toBeGreaterThan(
        await eventSeq(m, big?.id as string, "succeeded"),
      );
    });

    test("live follow over SSE holds every line; cancel stops the container and frees the GPUs at once", async () => {
      const [long] = await submit("tight-ws", "t1", {
        name: "long",
        command: `sh -c 'i=0; while [ $i -lt 5 ]; do echo "tick $i"; i=$((i+1)); sleep 0.2; done; sleep 60'`,
        gpus: 2,
      });
      await until(long?.id as string, (j) => j.status === "running");
      const sse = await m.request("GET", `/api/jobs/${long?.id}/log?follow=1`, { token: alice });
      expect(sse.headers.get("content-type")).toContain("text/event-stream");
      const reader = (sse.body as ReadableStream<Uint8Array>).getReader();
      let text = "";
      while (!text.includes("tick 4")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      for (let i = 0; i < 5; i++) expect(text).toContain(`data: tick ${i}`);
      const cancelled = await m.json("POST", `/api/jobs/${long?.id}/cancel`, { token: alice });
      expect(cancelled.body.status).toBe("cancelled");
      expect(cancelled.body.reasonCode).toBe("cancelled");
      expect((await m.json("GET", "/api/workspaces/tight-ws", { token: alice })).body.gpusInUse.training).toBe(0);
      while (!text.includes("event: end")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      expect(text).toContain('"status":"cancelled"');
      const exec = await nodeExecutor(m.deps, cancelled.body.node);
      // Docker removes the stopped container asynchronously: wait briefly for it to go.
      let left = 1;
      for (let i = 0; i < 50 && left > 0; i++) {
        left = (await exec.list({ "hangar.job": long?.id as string })).length;
        if (left) await Bun.sleep(100);
      }
      expect(left).toBe(0);
      expect((await m.json("POST", `/api/jobs/${long?.id}/cancel`, { token: alice })).status).toBe(409);
    });

    test("a job's /output downloads as a tar listing the files it wrote; others get 404", async () => {
      const [j] = await submit("sweep-ws", "t1", {
        name: "writer",
        command: `sh -c 'mkdir -p /output/sub; echo 42 > /output/sub/answer.txt; echo done > /output/result.txt'`,
      });
      await until(j?.id as string, (x) => x.status === "succeeded");
      const res = await m.request("GET", `/api/jobs/${j?.id}/output.tar`, { token: alice });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/x-tar");
      expect(res.headers.get("content-disposition")).toContain('filename="writer-output.tar"');
      const dir = mkdtempSync(join(tmpdir(), "hangar-out-"));
      try {
        writeFileSync(join(dir, "out.tar"), new Uint8Array(await res.arrayBuffer()));
        const list = Bun.spawnSync(["tar", "-tf", join(dir, "out.tar")])
          .stdout.toString()
          .trim()
          .split("\n");
        expect(list.sort()).toEqual(["writer/result.txt", "writer/sub/", "writer/sub/answer.txt"]);
        expect(Bun.spawnSync(["tar", "-xOf", join(dir, "out.tar"), "writer/sub/answer.txt"]).stdout.toString()).toBe(
          "42\n",
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const bob = await m.userWithToken(`bob-${target.slice(0, 2)}`);
      expect((await m.request("GET", `/api/jobs/${j?.id}/output.tar`, { token: bob })).status).toBe(404);
    });

    test("gpu-usage and the dashboard: a 1-GPU job held for 10 minutes shows in the steps it ran", async () => {
      const t0 = m.clock.now().getTime();
      const [j] = await submit("sweep-ws", "t1", { name: "usage", command: "sleep 60" });
      await until(j?.id as string, (x) => x.status === "running");
      // The admin Dashboard counts it, from the API (alice, no admin, may not read it).
      const dash = (await m.json("GET", "/api/dashboard", { token: root })).body;
      expect(dash.nodes).toMatchObject({ total: testWorkers().length, attached: testWorkers().length, error: 0 });
      expect(dash.gpus.total).toBeGreaterThanOrEqual(dash.gpus.inUse);
      expect(dash.gpus).toMatchObject({ inUse: 1, training: 1, deployment: 0 });
      expect(dash.workspaces).toEqual({ total: 2, active: 2 });
      expect(dash.jobs).toEqual({ running: 1, pending: 0 });
      expect(dash.storage.dataDirBytes).toBeGreaterThan(0);
      const backup = await m.json("POST", "/api/backups", { token: root });
      expect(backup.status).toBe(201);
      const after = (await m.json("GET", "/api/dashboard", { token: root })).body;
      expect(after.backups.last).toEqual({
        name: backup.body.name,
        takenAt: backup.body.takenAt,
        bytes: backup.body.bytes,
      });
      expect((await m.json("GET", "/api/dashboard", { token: alice })).status).toBe(403);
      m.clock.advance(10 * 60_000); // the job runs for 10 minutes of the master's clock
      expect((await m.json("POST", `/api/jobs/${j?.id}/cancel`, { token: alice })).status).toBe(200);
      m.clock.advance(10 * 60_000);
      const from = new Date(t0 - 5 * 60_000).toISOString();
      const to = new Date(t0 + 20 * 60_000).toISOString();
      const res = await m.json("GET", `/api/workspaces/sweep-ws/gpu-usage?from=${from}&to=${to}&step=300`, {
        token: alice,
      });
      expect(res.status).toBe(200);
      expect(res.body.step).toBe(300);
      // 5-minute steps from t0-5min: before the job, its two steps, then after it ended.
      expect(res.body.points.map((p: { training: number }) => p.training)).toEqual([0, 1, 1, 0, 0]);
      expect(res.body.points.every((p: { deployment: number }) => p.deployment === 0)).toBe(true);
      const bad = await m.json("GET", "/api/workspaces/sweep-ws/gpu-usage?step=0", { token: alice });
      expect(bad.status).toBe(400);
      expect(bad.body.error.field).toBe("step");
      const bob = await m.userWithToken(`carol-${target.slice(0, 2)}`);
      expect((await m.json("GET", "/api/workspaces/sweep-ws/gpu-usage", { token: bob })).status).toBe(404);
    });

    // Through Bun.serve, whose idle timeout (10 s) cuts a silent response: the keepalive
    // comments keep the follow open, and the late line arrives while the job still runs.
    test("a follower over HTTP sees a line printed after 13 s of silence, live", async () => {
      const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: createHandler(m.deps) });
      try {
        const [quiet] = await submit("sweep-ws", "t1", {
          name: "quiet",
          command: `sh -c 'echo first; sleep 13; echo late line; sleep 4'`,
        });
        await until(quiet?.id as string, (j) => j.status === "running");
        const res = await fetch(`http://127.0.0.1:${server.port}/api/jobs/${quiet?.id}/log?follow=1`, {
          headers: { authorization: `Bearer ${alice}` },
        });
        const reader = (res.body as ReadableStream<Uint8Array>).getReader();
        let text = "";
        while (!text.includes("data: late line")) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
        expect(text).toContain("data: first");
        expect(text).toContain(": keepalive");
        expect(text).toContain("data: late line");
        expect(text).not.toContain("event: end");
        // Seen live: the job has not ended yet.
        expect((await job(quiet?.id as string)).status).toBe("running");
        while (!text.includes("event: end")) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
        expect(text).toContain('"status":"succeeded"');
      } finally {
        server.stop(true);
      }
    }, 90_000);

    test("a Hangar container that no live job owns is removed by the orphan sweep", async () => {
      const node = (await m.json("GET", "/api/nodes", { token: root })).body.items[0];
      const exec = await nodeExecutor(m.deps, node.id);
      const run = await exec.run({
        name: `hangar-orphan-${target}-${Date.now()}`,
        image: IMAGE,
        command: ["sleep", "600"],
        labels: { "hangar.job": "long-gone-job" },
      });
      const removed = (await m.scheduler?.sweepOrphans(true)) ?? [];
      expect(removed).toContain(run.id);
      expect((await exec.list()).some((c) => c.id === run.id)).toBe(false);
    });

    test("an exited root-delete helper left by a stopped master is removed; a running one stays", async () => {
      const node = (await m.json("GET", "/api/nodes", { token: root })).body.items[0];
      const exec = await nodeExecutor(m.deps, node.id);
      const labels = { "hangar.purpose": "delete" };
      const stamp = Date.now();
      const exited = await exec.run({ name: `hangar-del-${target}-${stamp}`, image: IMAGE, command: ["true"], labels });
      await exec.waitExit(exited.id);
      const busy = await exec.run({
        name: `hangar-del-${target}-${stamp}-busy`,
        image: IMAGE,
        command: ["sleep", "600"],
        labels,
      });
      try {
        const removed = (await m.scheduler?.sweepOrphans(true)) ?? [];
        expect(removed).toContain(exited.id);
        expect(removed).not.toContain(busy.id);
        expect((await exec.list()).some((c) => c.id === exited.id)).toBe(false);
      } finally {
        await exec.remove(busy.id);
      }
    });

    test("the orphan sweep leaves another master's containers on the same engine alone", async () => {
      const node = (await m.json("GET", "/api/nodes", { token: root })).body.items[0];
      const cluster = (await Bun.file(join(m.config.dataDir, "cluster-id")).text()).trim();
      expect(cluster).toMatch(/^[0-9a-f-]{36}$/);
      const labels = { "hangar.managed": "true", "hangar.node": node.id, "hangar.job": "gone" };
      const name = `hangar-foreign-${target}-${Date.now()}`;
      const foreign = (
        await $`docker run -d --name ${name} ${Object.entries({
          ...labels,
          "hangar.cluster": "another-master",
        }).flatMap(([k, v]) => ["--label", `${k}=${v}`])} ${IMAGE} sleep 600`.text()
      ).trim();
      try {
        const exec = await nodeExecutor(m.deps, node.id);
        const own = await exec.run({ name: `${name}-own`, image: IMAGE, command: ["sleep", "600"], labels });
        expect((await exec.inspect(own.id))?.labels["hangar.cluster"]).toBe(cluster);
        const removed = (await m.scheduler?.sweepOrphans(true)) ?? [];
        expect(removed).toContain(own.id);
        expect(removed).not.toContain(foreign);
        expect((await $`docker inspect -f {{.State.Running}} ${foreign}`.text()).trim()).toBe("true");
      } finally {
        await $`docker rm -f ${foreign}`.quiet().nothrow();
      }
    });

    test("bad job input names the field", async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ name: "x", command: "true", gpus: 3 }, "gpus"],
        [{ name: "x", command: "true", gpus: 0.3 }, "gpus"],
        [{ name: "x", command: "true", gpuOptions: ["warp-drive"] }, "gpuOptions"],
        [{ name: "x", command: "true", gpuOptions: ["unified-memory"] }, "gpuOptions"],
        [{ name: "x", command: "true", dataset: "nope" }, "dataset"],
        [{ name: "Bad Name", command: "true" }, "name"],
        [{ name: "x", command: "true", parameterSets: [{ "bad key": 1 }] }, "parameterSets[0]"],
      ];
      for (const [body, field] of cases) {
        const res = await m.json("POST", "/api/workspaces/tight-ws/trainings/t1/jobs", {
          token: alice,
          body: { image: IMAGE, ...body },
        });
        expect(`${res.status} ${res.body.error?.field}`).toBe(`400 ${field}`);
      }
    });
    test("a job asking more GPUs than any node has stays pending with that reason and does not block a small job", async () => {
      // The cluster has 6 GPUs: end the other workspaces' periods to reserve 5 for this one.
      for (const ws of ["sweep-ws", "tight-ws"])
        await m.json("PATCH", `/api/workspaces/${ws}`, { token: root, body: { endsAt: "2021-01-01T00:00:00Z" } });
      const ws = await m.json("POST", "/api/workspaces", {
        token: root,
        body: { name: "big-ws", ...OPEN_PERIOD, trainingGpus: 5, deploymentGpus: 0, manager: "root", users: ["alice"] },
      });
      expect(ws.status).toBe(201);
      await m.json("POST", "/api/workspaces/big-ws/trainings", {
        token: alice,
        body: { name: "t1", type: "advanced", gpus: 1, access: "private" },
      });
      const [huge] = await submit("big-ws", "t1", { name: "huge", command: "echo never", gpus: 5 });
      const [tiny] = await submit("big-ws", "t1", { name: "tiny", command: "echo tiny ran", gpus: 1 });
      await until(tiny?.id as string, (j) => j.status === "succeeded");
      const stuck = await job(huge?.id as string);
      expect(stuck.status).toBe("pending");
      expect(stuck.statusReason).toContain("5");
      expect(stuck.statusReason).toMatch(/no .*node/i);
      expect(stuck.reasonCode).toBe("capacity");
      await m.json("POST", `/api/jobs/${huge?.id}/cancel`, { token: alice });
    });
  });
}
