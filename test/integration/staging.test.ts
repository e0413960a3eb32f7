// `staged` storage on the real worker without the master's filesystem (test/harness/stage-worker.sh:
// sshd and its own Docker Engine in a mount namespace where the master's data dir path is empty):
// a job reads its dataset and writes /output there, the output downloads from the master; a
// second job reuses the cached dataset (no byte moves), a changed dataset moves only the new
// file; /output comes back while the job runs; a copy back cut by stopping the worker's sshd
// resumes when it returns, and the job is not `succeeded` before its output is home.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stagingStats } from "../../src/jobs/staging";
import { dataLayout } from "../../src/lib/layout";
import { STAGE_SYNC_TIMER } from "../../src/master";
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
    const submit = async (body: Record<string, unknown>) => {
      const res = await m.json("POST", "/api/workspaces/st-ws/trainings/t1/jobs", {
        token: alice,
        body: { image: BUSYBOX_IMAGE, dataset: "ds", ...body },
      });
      if (res.status !== 201) throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
      return (res.body.items as { id: string }[])[0]?.id as string;
    };
    const log = async (id: string) => (await m.request("GET", `/api/jobs/${id}/log`, { token: alice })).text();
    const outputDir = (id: string) => dataLayout(m.config.dataDir).jobOutput("st-ws", "t1", id);
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
      await makeWorkspace(m, root, "st-ws", { trainingGpus: 1, users: ["alice"] });
      await makeTraining(m, alice, "st-ws", "t1");
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
  });
}
