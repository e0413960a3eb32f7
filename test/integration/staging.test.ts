// `staged` storage on the real worker without the master's filesystem (test/harness/stage-worker.sh:
// sshd and its own Docker Engine in a mount namespace where the master's data dir path is empty):
// a job reads its dataset and writes /output there, the output downloads from the master; a
// second job reuses the cached dataset (no byte moves), a changed dataset moves only the new
// file; /output comes back while the job runs; a copy back cut by stopping the worker's sshd
// resumes when it returns, and the job is not `succeeded` before its output is home. What a job
// changes in /code comes back (merged with the master's changes); the node's cache is trimmed to
// its cap; a job lost while its node was away gets its output back when the node returns.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stagingStats } from "../../src/jobs/staging/state";
import { dataLayout } from "../../src/lib/layout";
import { NODE_HEALTH_TIMER, STAGE_SYNC_TIMER } from "../../src/master";
import type { NodeManager } from "../../src/nodes/manager";
import { nodeExecutor, toAddress } from "../../src/nodes/service";
import { BUSYBOX_IMAGE, requireEnv } from "../helpers/env";
import { makeTraining, makeWorkspace } from "../helpers/factories";
import { multipart } from "../helpers/multipart";
import { until as poll } from "../helpers/poll";
import { STORE_TARGETS } from "../helpers/stores";
import { startTestMaster, type TestMaster } from "../helpers/testMaster";
import { attachWorker, type TestWorker, workerSshd } from "../helpers/workers";

const stagedWorker = (): TestWorker & { socket: string; cache: string } => {
  const ip = requireEnv("HANGAR_TEST_STAGED_WORKER", "test/harness/stage-worker.sh");
  return {
    ip,
    port: Number(process.env.HANGAR_TEST_WORKER_PORT ?? 22),
    authorizedKeys: join(requireEnv("HANGAR_TEST_STATE"), "workers", ip, "authorized_keys"),
    socket: requireEnv("HANGAR_TEST_STAGED_DOCKER_SOCKET", "test/harness/stage-worker.sh"),
    cache: requireEnv("HANGAR_TEST_STAGED_CACHE", "test/harness/stage-worker.sh"),
  };
};

const A_TXT = "hello from the master's dataset\n";
const B_BIN = new Uint8Array(70_000).map((_, i) => (i * 7) % 251);

for (const target of STORE_TARGETS) {
  describe(`staged storage on ${target}`, () => {
    const w = stagedWorker();
    // Each run its own cache folder inside the worker's namespace.
    const cache = `${w.cache}/${target}-${crypto.randomUUID().slice(0, 8)}`;
    let m: TestMaster;
    let root: string;
    let alice: string;
    let nodeId: string;
    let stream: NodeManager["stream"];

    const job = async (id: string) => (await m.json("GET", `/api/jobs/${id}`, { token: alice })).body;
    const until = (id: string, ok: (j: any) => boolean, ms = 60_000) =>
      poll(`job ${id}`, () => job(id), ok, { timeoutMs: ms }).catch(async (err) => {
        throw new Error(`${err.message}\nits log:\n${await log(id)}`);
      });
    const submit = async (body: Record<string, unknown>, training = "t1") => {
      const res = await m.json("POST", `/api/workspaces/st-ws/trainings/${training}/jobs`, {
        token: alice,
        body: { image: BUSYBOX_IMAGE, dataset: "ds", ...body },
      });
      if (res.status !== 201) throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
      return (res.body.items as { id: string }[])[0]?.id as string;
    };
    const log = async (id: string) => (await m.request("GET", `/api/jobs/${id}/log`, { token: alice })).text();
    const outputDir = (id: string, training = "t1") => dataLayout(m.config.dataDir).jobOutput("st-ws", training, id);
    const codeDir = (training: string) => dataLayout(m.config.dataDir).code("st-ws", training);
    /** Ends a job waiting for `/code/<marker>` (its /code is its own copy on the worker). */
    const release = async (id: string, marker: string) => {
      const exec = await nodeExecutor(m.deps, nodeId);
      const [c] = await exec.list({ "hangar.job": id });
      const touch = await exec.exec(c?.id as string, { cmd: ["touch", `/code/${marker}`], tty: null });
      touch.stdin.end();
      await touch.exited;
    };
    const onNode = async (script: string) => {
      const rows = await m.deps.store.db.select().from(m.deps.store.t.nodes);
      const row = rows.find((n) => n.id === nodeId);
      if (!row) throw new Error("no staged node");
      return m.deps.nodes.run(toAddress(row), script);
    };

    beforeAll(async () => {
      m = await startTestMaster(
        target,
        { schedulerBackstopSeconds: 0.2, stageCacheDir: cache, stageSyncSeconds: 3600 },
        { scheduler: true },
      );
      root = await m.rootToken();
      alice = await m.userWithToken("alice");
      nodeId = await attachWorker(m, root, w, "w-staged", { dockerSocket: w.socket });
      stream = m.deps.nodes.stream.bind(m.deps.nodes);
      await makeWorkspace(m, root, "st-ws", { trainingGpus: 2, users: ["alice"] });
      await makeTraining(m, alice, "st-ws", "t1");
      await makeTraining(m, alice, "st-ws", "t2");
      expect(
        (await m.json("POST", "/api/workspaces/st-ws/datasets", { token: alice, body: { name: "ds" } })).status,
      ).toBe(201);
      const up = multipart([
        { name: "a.txt", data: A_TXT },
        { name: "b.bin", data: B_BIN },
      ]);
      const res = await m.request("POST", "/api/workspaces/st-ws/datasets/ds/files?path=sub", {
        token: alice,
        raw: up.body,
        headers: { "content-type": up.contentType },
      });
      expect(res.status).toBe(201);
    });
    afterAll(async () => {
      await onNode(`rm -rf '${cache}'`).catch(() => {});
      await m.close();
    });

    test("the worker that lacks the master's data dir is staged; its job reads the dataset and its output downloads from the master", async () => {
      expect((await m.json("GET", `/api/nodes/${nodeId}`, { token: root })).body).toMatchObject({
        status: "attached",
        storage: "staged",
      });
      // The master's data dir is not there on the worker (nor in its engine's containers).
      expect((await onNode(`test -e '${m.config.dataDir}'`)).code).toBe(1);
      const id = await submit({
        name: "reader",
        command: `sh -c 'cat /dataset/sub/a.txt > /output/copy.txt; mkdir -p /output/sums; md5sum /dataset/sub/b.bin > /output/sums/b.md5; ls /code >/dev/null'`,
      });
      const done = await until(id, (j) => j.status === "succeeded" || j.status === "failed");
      expect(done).toMatchObject({ status: "succeeded", statusReason: "exited 0" });
      const stats = stagingStats(m.deps, id).find((s) => s.target === "/dataset");
      expect(stats).toMatchObject({ node: "w-staged", files: 2, bytes: A_TXT.length + B_BIN.length, cached: false });
      expect(await log(id)).toContain(
        `staged /dataset on node w-staged: 2 files, ${A_TXT.length + B_BIN.length} bytes copied, 0 files reused`,
      );
      // Downloaded from the master: what the job wrote on the worker.
      const res = await m.request("GET", `/api/jobs/${id}/output.tar`, { token: alice });
      expect(res.status).toBe(200);
      const dir = mkdtempSync(join(tmpdir(), "hangar-staged-out-"));
      try {
        writeFileSync(join(dir, "out.tar"), new Uint8Array(await res.arrayBuffer()));
        expect(Bun.spawnSync(["tar", "-xOf", join(dir, "out.tar"), "reader/copy.txt"]).stdout.toString()).toBe(A_TXT);
        const md5 = new Bun.CryptoHasher("md5").update(B_BIN).digest("hex");
        expect(Bun.spawnSync(["tar", "-xOf", join(dir, "out.tar"), "reader/sums/b.md5"]).stdout.toString()).toStartWith(
          md5,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      // The job's folder on the worker is gone; the dataset stays cached.
      expect((await onNode(`test -e '${cache}/jobs/${id}'`)).code).toBe(1);
    });

    test("a second job reuses the cached dataset: no byte moves; a changed dataset moves only the new file", async () => {
      const id = await submit({ name: "again", command: "md5sum /dataset/sub/b.bin" });
      expect((await until(id, (j) => j.status === "succeeded" || j.status === "failed")).status).toBe("succeeded");
      expect(stagingStats(m.deps, id).find((s) => s.target === "/dataset")).toMatchObject({
        files: 0,
        bytes: 0,
        reused: 2,
        cached: true,
      });
      expect(await log(id)).toContain(
        "staged /dataset on node w-staged: 0 files, 0 bytes copied, 2 files reused (cached)",
      );

      const up = multipart([{ name: "c.txt", data: "third\n" }]);
      const res = await m.request("POST", "/api/workspaces/st-ws/datasets/ds/files", {
        token: alice,
        raw: up.body,
        headers: { "content-type": up.contentType },
      });
      expect(res.status).toBe(201);
      const third = await submit({
        name: "changed",
        command: "sh -c 'cat /dataset/c.txt /dataset/sub/a.txt > /output/both.txt'",
      });
      expect((await until(third, (j) => j.status === "succeeded" || j.status === "failed")).status).toBe("succeeded");
      expect(stagingStats(m.deps, third).find((s) => s.target === "/dataset")).toMatchObject({
        files: 1,
        bytes: 6,
        reused: 2,
        cached: false,
      });
      expect(readFileSync(join(outputDir(third), "both.txt"), "utf8")).toBe(`third\n${A_TXT}`);
    });

    test("/output comes back to the master while the job runs", async () => {
      const id = await submit({
        name: "early",
        command: `sh -c 'echo partial > /output/early.txt; while [ ! -e /code/.stop-${target} ]; do sleep 0.2; done'`,
      });
      await until(id, (j) => j.status === "running");
      const early = join(outputDir(id), "early.txt");
      await poll(
        "early output on the master",
        async () => {
          await m.ticker.tick(STAGE_SYNC_TIMER);
          return existsSync(early);
        },
        (x) => x,
        { timeoutMs: 20_000 },
      );
      expect((await job(id)).status).toBe("running");
      expect(readFileSync(early, "utf8")).toBe("partial\n");
      // The job's /code is its own copy on the worker: end it with a docker exec there.
      const exec = await nodeExecutor(m.deps, nodeId);
      const [c] = await exec.list({ "hangar.job": id });
      const touch = await exec.exec(c?.id as string, { cmd: ["touch", `/code/.stop-${target}`], tty: null });
      touch.stdin.end();
      await touch.exited;
      expect((await until(id, (j) => j.status === "succeeded" || j.status === "failed")).status).toBe("succeeded");
    });

    test("a copy back cut by stopping the worker's sshd resumes when it returns; until then the job is not succeeded", async () => {
      let cut = false;
      let cutDone: Promise<void> = Promise.resolve();
      m.deps.nodes.stream = async (address, script) => {
        // The first copy back of /output (a tar from the node): the worker's sshd goes away under it.
        if (!cut && script.includes("-cf -") && script.includes("/jobs/")) {
          cut = true;
          cutDone = workerSshd("stop", w);
          await cutDone;
          await Bun.sleep(300);
        }
        return stream(address, script);
      };
      try {
        const id = await submit({
          name: "cutoff",
          command: "sh -c 'head -c 300000 /dev/urandom > /output/result.bin; md5sum /output/result.bin'",
        });
        const waiting = await until(id, (j) => /failed \(attempt 1\)/.test(j.statusReason ?? ""));
        expect(waiting.status).toBe("running");
        expect(waiting.statusReason).toStartWith(
          "exited 0; copying /output back from node w-staged failed (attempt 1): ",
        );
        expect(existsSync(join(outputDir(id), "result.bin"))).toBe(false);
        await cutDone;
        await workerSshd("start", w);
        const done = await until(id, (j) => j.status !== "running");
        expect(done).toMatchObject({ status: "succeeded", statusReason: "exited 0" });
        const text = await log(id);
        expect(text).toContain("copying /output back from node w-staged failed (attempt 1)");
        expect(text).toMatch(/\/output copied back from node w-staged: 1 files, 300000 bytes/);
        const md5 = new Bun.CryptoHasher("md5").update(readFileSync(join(outputDir(id), "result.bin"))).digest("hex");
        expect(text).toContain(`${md5}  /output/result.bin`);
      } finally {
        m.deps.nodes.stream = stream;
        await workerSshd("start", w);
      }
    });

    test("what a job changes in /code comes back while it runs and at its end; both-changed files keep the master's", async () => {
      const code = codeDir("t2");
      mkdirSync(code, { recursive: true });
      const files: Record<string, string> = {
        "keep.txt": "keep\n",
        "edit.txt": "v1\n",
        "both.ipynb": "{}\n",
        "del.txt": "delete me\n",
        "delkept.txt": "the job deletes me\n",
      };
      const past = new Date(Date.now() - 3600_000);
      for (const [name, text] of Object.entries(files)) {
        writeFileSync(join(code, name), text);
        utimesSync(join(code, name), past, past);
      }
      const go = `.go-${target}`;
      const id = await submit(
        {
          name: "editor",
          command: `sh -c 'echo job >> /code/edit.txt; echo job-nb > /code/both.ipynb; rm /code/del.txt /code/delkept.txt; mkdir -p /code/made; echo x > /code/made/new.txt; while [ ! -e /code/${go} ]; do sleep 0.2; done; echo late > /code/late.txt; echo rw > /dataset/from-${target}.txt'`,
        },
        "t2",
      );
      await until(id, (j) => j.status === "running");
      // Meanwhile on the master (SFTP, another job): the notebook and a file the job deletes change.
      writeFileSync(join(code, "both.ipynb"), '{"cells": []}\n');
      writeFileSync(join(code, "delkept.txt"), "changed on the master\n");
      await poll(
        "the job's new file on the master",
        async () => {
          await m.ticker.tick(STAGE_SYNC_TIMER);
          return existsSync(join(code, "made/new.txt"));
        },
        (x) => x,
        { timeoutMs: 20_000 },
      );
      expect((await job(id)).status).toBe("running");
      expect(readFileSync(join(code, "edit.txt"), "utf8")).toBe("v1\njob\n");
      expect(readFileSync(join(code, "keep.txt"), "utf8")).toBe("keep\n");
      expect(readFileSync(join(code, "both.ipynb"), "utf8")).toBe('{"cells": []}\n');
      expect(readFileSync(join(code, `both.from-${id}.ipynb`), "utf8")).toBe("job-nb\n");
      expect(existsSync(join(code, "del.txt"))).toBe(false);
      expect(readFileSync(join(code, "delkept.txt"), "utf8")).toBe("changed on the master\n");
      expect(await log(id)).toContain(
        `/code/both.ipynb changed on the master and on node w-staged: the master's stays, the node's is kept as /code/both.from-${id}.ipynb`,
      );
      // A second round moves nothing more and logs no second conflict.
      await m.ticker.tick(STAGE_SYNC_TIMER);
      expect((await log(id)).split("changed on the master and on node").length).toBe(2);
      // The API reads the master's copy.
      const read = await m.request("GET", "/api/workspaces/st-ws/trainings/t2/files/both.ipynb", { token: alice });
      expect(read.status).toBe(200);
      expect(await read.text()).toBe('{"cells": []}\n');

      await release(id, go);
      expect((await until(id, (j) => j.status === "succeeded" || j.status === "failed")).status).toBe("succeeded");
      // Written after the last periodic round: it came back before the job's end.
      expect(readFileSync(join(code, "late.txt"), "utf8")).toBe("late\n");
      // The read-write dataset comes back the same way.
      const ds = dataLayout(m.config.dataDir).dataset("st-ws", "ds");
      expect(readFileSync(join(ds, `from-${target}.txt`), "utf8")).toBe("rw\n");
      expect(await log(id)).toMatch(/\/dataset copied back from node w-staged: 1 files, 3 bytes, 0 deleted/);
      expect(readFileSync(join(code, "edit.txt"), "utf8")).toBe("v1\njob\n");
      expect(await log(id)).toMatch(/\/code copied back from node w-staged: \d+ files, \d+ bytes, \d+ deleted/);
      expect((await onNode(`test -e '${cache}/jobs/${id}'`)).code).toBe(1);
    });

    test("the node's cache is trimmed to its cap when a job ends: unused entries go, those a running job mounts stay", async () => {
      const keysOnNode = async () =>
        (await onNode(`cd '${cache}/content' && for f in *.ok; do [ -e "$f" ] && echo "\${f%.ok}"; done; true`)).output
          .split("\n")
          .filter(Boolean)
          .sort();
      expect(
        (await m.json("POST", "/api/workspaces/st-ws/datasets", { token: alice, body: { name: "ds2" } })).status,
      ).toBe(201);
      const up = multipart([{ name: "other.txt", data: "another dataset\n" }]);
      expect(
        (
          await m.request("POST", "/api/workspaces/st-ws/datasets/ds2/files", {
            token: alice,
            raw: up.body,
            headers: { "content-type": up.contentType },
          })
        ).status,
      ).toBe(201);
      // ds2 in the cache, then a job holding ds and t1's code.
      const warm = await submit({ name: "warm", dataset: "ds2", command: "cat /dataset/other.txt" });
      expect((await until(warm, (j) => j.status === "succeeded" || j.status === "failed")).status).toBe("succeeded");
      const stop = `.stop-trim-${target}`;
      const long = await submit({
        name: "holder",
        command: `sh -c 'while [ ! -e /code/${stop} ]; do sleep 0.2; done'`,
      });
      await until(long, (j) => j.status === "running");
      const held = (await onNode(`cat '${cache}/jobs/${long}/keys'`)).output.split("\n").filter(Boolean).sort();
      expect(held.length).toBeGreaterThan(0);
      const before = await keysOnNode();
      for (const k of held) expect(before).toContain(k);
      expect(before.length).toBeGreaterThan(held.length);
      m.config.stageCacheMaxGib = 0;
      try {
        const short = await submit({ name: "other", dataset: "ds2", command: "cat /dataset/other.txt" });
        expect((await until(short, (j) => j.status === "succeeded" || j.status === "failed")).status).toBe("succeeded");
        // Over the cap (0): everything no job folder names is evicted, the running job's inputs stay.
        await poll("the trimmed cache", keysOnNode, (keys) => JSON.stringify(keys) === JSON.stringify(held), {
          timeoutMs: 20_000,
        });
        expect((await onNode(`ls '${cache}/latest' | wc -l`)).output.trim()).toBe(String(held.length));
        await release(long, stop);
        expect((await until(long, (j) => j.status === "succeeded" || j.status === "failed")).status).toBe("succeeded");
        await poll("the emptied cache", keysOnNode, (keys) => keys.length === 0, { timeoutMs: 20_000 });
      } finally {
        m.config.stageCacheMaxGib = 100;
      }
      // The next job stages its inputs again.
      const again = await submit({ name: "restaged", command: "cat /dataset/sub/a.txt" });
      expect((await until(again, (j) => j.status === "succeeded" || j.status === "failed")).status).toBe("succeeded");
      // Nothing left to seed from: every file moves again.
      const restaged = stagingStats(m.deps, again).find((s) => s.target === "/dataset");
      expect(restaged).toMatchObject({ cached: false, reused: 0 });
      expect(restaged?.files).toBeGreaterThan(0);
    });

    test("a job lost while its worker was away gets its output and code back when the worker returns", async () => {
      const code = codeDir("t2");
      const saved = { nodeLostAfter: m.config.nodeLostAfter, jobLostAfterSeconds: m.config.jobLostAfterSeconds };
      m.config.nodeLostAfter = 1;
      m.config.jobLostAfterSeconds = 0;
      try {
        const id = await submit(
          {
            name: "lostone",
            retryOnNodeLoss: false,
            command: `sh -c 'echo before > /output/before.txt; sleep 6; echo after > /output/after.txt; echo lost-edit > /code/lost-${target}.txt'`,
          },
          "t2",
        );
        await until(id, (j) => j.status === "running");
        const t0 = Date.now();
        await workerSshd("stop", w);
        try {
          await m.ticker.tick(NODE_HEALTH_TIMER);
          expect((await m.json("GET", `/api/nodes/${nodeId}`, { token: root })).body.status).toBe("error");
          const lost = await until(id, (j) => j.status === "lost", 20_000);
          expect(lost.statusReason).toBe("node w-staged stopped answering");
          // Nothing comes back while the worker is away.
          await m.ticker.tick(STAGE_SYNC_TIMER);
          expect(existsSync(join(outputDir(id, "t2"), "after.txt"))).toBe(false);
          // The container goes on writing meanwhile.
          await Bun.sleep(Math.max(0, 8000 - (Date.now() - t0)));
        } finally {
          await workerSshd("start", w);
        }
        await m.ticker.tick(NODE_HEALTH_TIMER);
        expect((await m.json("GET", `/api/nodes/${nodeId}`, { token: root })).body.status).toBe("attached");
        await m.ticker.tick(STAGE_SYNC_TIMER);
        expect(readFileSync(join(outputDir(id, "t2"), "after.txt"), "utf8")).toBe("after\n");
        expect(readFileSync(join(outputDir(id, "t2"), "before.txt"), "utf8")).toBe("before\n");
        expect(readFileSync(join(code, `lost-${target}.txt`), "utf8")).toBe("lost-edit\n");
        const text = await log(id);
        expect(text).toContain("node w-staged stopped answering: job lost");
        expect(text).toMatch(
          /\/output copied back from node w-staged, left there by the job \(lost\): 2 files, 13 bytes/,
        );
        expect(text).toContain("/code copied back from node w-staged, left there by the job (lost)");
        expect((await job(id)).status).toBe("lost");
        expect((await onNode(`test -e '${cache}/jobs/${id}'`)).code).toBe(1);
        expect(readdirSync(outputDir(id, "t2")).sort()).toEqual(["after.txt", "before.txt"]);
      } finally {
        Object.assign(m.config, saved);
        await workerSshd("start", w);
      }
    });
  });
}
