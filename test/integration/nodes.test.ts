// Nodes over the API against the sshd worker stand-ins and the real Docker Engine:
// Get Info, add, connect, run containers through the executor, loss and recovery, host keys.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Docker from "dockerode";
import { eq } from "drizzle-orm";
import { nodeExecutor, probeAllNodes } from "../../src/nodes/service";
import { BUSYBOX_IMAGE } from "../helpers/env";
import { STORE_TARGETS } from "../helpers/stores";
import { startTestMaster, type TestMaster } from "../helpers/testMaster";
import { authorize, type TestWorker, testWorkers, workerSshd } from "../helpers/workers";

const IMAGE = BUSYBOX_IMAGE;
// The worker stand-ins share this machine's Docker Engine: what Docker itself recorded.
const engine = new Docker({ socketPath: "/var/run/docker.sock" });

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let out = "";
  for await (const chunk of stream) out += chunk.toString();
  return out;
}

for (const target of STORE_TARGETS) {
  describe(`nodes on ${target}`, () => {
    let m: TestMaster;
    let root: string;
    let workers: TestWorker[];
    const ids: Record<string, string> = {};
    const pinnedKey = async (id: string) => {
      const [row] = await m.deps.store.db.select().from(m.deps.store.t.nodes).where(eq(m.deps.store.t.nodes.id, id));
      return row?.hostKeyFingerprint ?? null;
    };

    beforeAll(async () => {
      m = await startTestMaster(target, { nodeLostAfter: 3 });
      root = await m.rootToken();
      workers = testWorkers();
    });
    afterAll(async () => {
      for (const w of workers) await workerSshd("start", w).catch(() => {});
      await m.deps.nodes.close();
      await m.close();
    });

    test("a worker that does not know the master's key is refused with a clear 400, nothing stored", async () => {
      const w = workers[0] as TestWorker;
      const res = await m.json("POST", "/api/nodes/probe", { token: root, body: { ip: w.ip, sshPort: w.port } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("ssh_auth");
      expect(res.body.error.message).toContain("refused the master's key");
      const add = await m.json("POST", "/api/nodes", { token: root, body: { ip: w.ip, sshPort: w.port } });
      expect(add.status).toBe(400);
      expect((await m.json("GET", "/api/nodes", { token: root })).body.total).toBe(0);
    });

    test("nothing at 127.0.0.9: clear 400 within 10 s, nothing stored", async () => {
      const t0 = Date.now();
      const res = await m.json("POST", "/api/nodes/probe", { token: root, body: { ip: "127.0.0.9" } });
      expect(res.status).toBe(400);
      expect(res.body.error.field).toBe("ip");
      expect(res.body.error.message).toContain("127.0.0.9");
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect((await m.json("POST", "/api/nodes", { token: root, body: { ip: "127.0.0.9" } })).status).toBe(400);
      expect((await m.json("GET", "/api/nodes", { token: root })).body.total).toBe(0);
    });

    test("bad input names the field", async () => {
      for (const [body, field] of [
        [{ ip: "not an ip!" }, "ip"],
        [{ ip: "127.0.0.2", sshPort: 70000 }, "sshPort"],
        [{ ip: "127.0.0.2", sshUser: "bad user" }, "sshUser"],
      ] as const) {
        const res = await m.json("POST", "/api/nodes/probe", { token: root, body });
        expect(res.status).toBe(400);
        expect(res.body.error.field).toBe(field);
      }
    });

    test("Get Info reads interfaces and GPUs as the workers report them", async () => {
      const key = (await m.json("GET", "/api/nodes/master-key", { token: root })).body.publicKey as string;
      expect(key).toMatch(/^ssh-ed25519 /);
      for (const w of workers) authorize(w, key);
      const [a, b] = workers as [TestWorker, TestWorker];
      const pa = await m.json("POST", "/api/nodes/probe", { token: root, body: { ip: a.ip, sshPort: a.port } });
      expect(pa.status).toBe(200);
      expect(pa.body.gpus).toHaveLength(2);
      expect(pa.body.gpus[0]).toMatchObject({ index: 0, name: "NVIDIA GeForce GTX 1080 Ti", memoryMiB: 11264 });
      expect(pa.body.gpus[0].uuid).toMatch(/^GPU-[0-9a-f-]{36}$/);
      expect(pa.body.interfaces.length).toBeGreaterThan(0);
      for (const i of pa.body.interfaces)
        expect(i).toMatchObject({ name: expect.any(String), kind: expect.any(String) });
      expect(pa.body.cpus).toBeGreaterThan(0);
      expect(pa.body.memoryMiB).toBeGreaterThan(0);
      expect(pa.body.dockerVersion).toMatch(/^\d+\./);
      const pb = await m.json("POST", "/api/nodes/probe", { token: root, body: { ip: b.ip, sshPort: b.port } });
      expect(pb.body.gpus).toHaveLength(4);
      expect(pb.body.gpuConfig).toBe("NVIDIA A100-SXM4-80GB x 4");
    });

    test("add and connect both workers: attached with 2 and 4 GPUs", async () => {
      for (const [i, w] of workers.entries()) {
        const added = await m.json("POST", "/api/nodes", {
          token: root,
          body: { ip: w.ip, sshPort: w.port, name: `gpu-${i + 1}` },
        });
        expect(added.status).toBe(201);
        expect(added.body).toMatchObject({ name: `gpu-${i + 1}`, ip: w.ip, status: "detached" });
        expect(added.body.hostKeyFingerprint).toMatch(/^SHA256:/);
        expect(added.body.interfaces.control).toBeTruthy();
        ids[w.ip] = added.body.id;
        const connected = await m.json("POST", `/api/nodes/${added.body.id}/connect`, { token: root });
        expect(connected.status).toBe(200);
        expect(connected.body.status).toBe("attached");
      }
      const dup = await m.json("POST", "/api/nodes", { token: root, body: { ip: workers[0]?.ip } });
      expect(dup.status).toBe(409);
      const list = (await m.json("GET", "/api/nodes", { token: root })).body;
      expect(list.total).toBe(2);
      const byName = Object.fromEntries(list.items.map((n: any) => [n.name, n]));
      expect(byName["gpu-1"]).toMatchObject({ status: "attached", gpuTotal: 2, gpusInUse: 0, schedulable: true });
      expect(byName["gpu-2"]).toMatchObject({ status: "attached", gpuTotal: 4, gpusInUse: 0 });
      expect(byName["gpu-2"].gpuConfig).toBe("NVIDIA A100-SXM4-80GB x 4");
      // No NVIDIA container runtime on the stand-ins: attached, with the reason said.
      expect(byName["gpu-1"].statusMessage).toContain("no nvidia runtime");
      expect(byName["gpu-1"].lastSeenAt).toBeTruthy();
    });

    test("a container runs on each worker through the executor and its output comes back", async () => {
      for (const w of workers) {
        const exec = await nodeExecutor(m.deps, ids[w.ip] as string);
        const run = await exec.run({
          name: `hangar-test-${target}-${w.ip.replaceAll(".", "-")}-${Date.now()}`,
          image: IMAGE,
          command: ["sh", "-c", 'echo "hello from $WHERE"; echo "to stderr" >&2'],
          env: { WHERE: w.ip },
          labels: { "hangar.job": "test" },
          gpus: ["GPU-11111111-2222-3333-4444-555555555555"],
        });
        expect(run.notes[0]).toContain("no NVIDIA GPU runtime");
        const [out, err, exit] = await Promise.all([readAll(run.stdout), readAll(run.stderr), run.wait()]);
        expect(out).toBe(`hello from ${w.ip}\n`);
        expect(err).toBe("to stderr\n");
        expect(exit.exitCode).toBe(0);
        const info = await engine.getContainer(run.id).inspect();
        expect(info.Config.Labels["hangar.node"]).toBe(ids[w.ip] as string);
        expect(info.Config.Env).toContain("NVIDIA_VISIBLE_DEVICES=GPU-11111111-2222-3333-4444-555555555555");
        expect((await exec.list({ "hangar.job": "test" })).map((c) => c.id)).toContain(run.id);
        expect(await exec.inspect(run.id)).toMatchObject({ id: run.id, state: "exited", exitCode: 0 });
        await exec.remove(run.id);
        expect(await exec.inspect(run.id)).toBeNull();
      }
    });

    test("CPU/memory limits reach docker inspect; stdout and stderr arrive separately and complete", async () => {
      const w = workers[1] as TestWorker;
      const exec = await nodeExecutor(m.deps, ids[w.ip] as string);
      const run = await exec.run({
        name: `hangar-test-limits-${target}-${Date.now()}`,
        image: IMAGE,
        command: ["sh", "-c", 'i=0; while [ $i -lt 3000 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done'],
        cpus: 0.5,
        memoryMiB: 64,
      });
      const [out, err, exit] = await Promise.all([readAll(run.stdout), readAll(run.stderr), run.wait()]);
      expect(exit.exitCode).toBe(0);
      const outLines = out.trimEnd().split("\n");
      const errLines = err.trimEnd().split("\n");
      expect(outLines).toHaveLength(3000);
      expect(errLines).toHaveLength(3000);
      expect(outLines.every((l, i) => l === `out ${i}`)).toBe(true);
      expect(errLines.every((l, i) => l === `err ${i}`)).toBe(true);
      const info = await engine.getContainer(run.id).inspect();
      expect(info.HostConfig.NanoCpus).toBe(500_000_000);
      expect(info.HostConfig.Memory).toBe(64 * 1024 * 1024);
      expect(info.HostConfig.MemorySwap).toBe(64 * 1024 * 1024);
      await exec.remove(run.id);
    });

    test("stop ends a running container and remove deletes it", async () => {
      const exec = await nodeExecutor(m.deps, ids[workers[0]?.ip as string] as string);
      const run = await exec.run({
        name: `hangar-test-stop-${target}-${Date.now()}`,
        image: IMAGE,
        command: ["sleep", "60"],
      });
      expect((await exec.list()).find((c) => c.id === run.id)?.state).toBe("running");
      const t0 = Date.now();
      await exec.stop(run.id, 1);
      const { exitCode } = await run.wait();
      expect(exitCode).not.toBe(0);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect((await exec.list()).find((c) => c.id === run.id)?.state).toBe("exited");
      await exec.stop(run.id); // stopping a stopped container is fine
      await exec.remove(run.id);
      expect((await exec.list()).some((c) => c.id === run.id)).toBe(false);
    });

    test("a worker whose sshd stops turns error after HANGAR_NODE_LOST_AFTER probes, and comes back by itself", async () => {
      const w = workers[0] as TestWorker;
      const id = ids[w.ip] as string;
      await workerSshd("stop", w);
      try {
        for (let i = 1; i < m.config.nodeLostAfter; i++) {
          await probeAllNodes(m.deps);
          expect((await m.json("GET", `/api/nodes/${id}`, { token: root })).body.status).toBe("attached");
        }
        await probeAllNodes(m.deps);
        const lost = (await m.json("GET", `/api/nodes/${id}`, { token: root })).body;
        expect(lost.status).toBe("error");
        expect(lost.statusMessage).toMatch(/connection refused|closed|no answer/);
        expect(lost.schedulable).toBe(false);
        // The other worker is unaffected.
        expect((await m.json("GET", `/api/nodes/${ids[workers[1]?.ip as string]}`, { token: root })).body.status).toBe(
          "attached",
        );
      } finally {
        await workerSshd("start", w);
      }
      await probeAllNodes(m.deps);
      const back = (await m.json("GET", `/api/nodes/${id}`, { token: root })).body;
      expect(back.status).toBe("attached");
    });

    test("a changed host key is refused, naming the fingerprints", async () => {
      const w = workers[1] as TestWorker;
      const id = ids[w.ip] as string;
      const real = (await pinnedKey(id)) as string;
      const pinned = "SHA256:0000000000000000000000000000000000000000000";
      // The worker now presents another key than the one pinned at add time.
      await m.deps.store.tx((db) =>
        db.update(m.deps.store.t.nodes).set({ hostKeyFingerprint: pinned }).where(eq(m.deps.store.t.nodes.id, id)),
      );
      await m.deps.nodes.forget(id);
      const res = await m.json("POST", `/api/nodes/${id}/connect`, { token: root });
      expect(res.body.status).toBe("error");
      expect(res.body.statusMessage).toContain("host key changed");
      expect(res.body.statusMessage).toContain(pinned);
      expect(res.body.statusMessage).toContain(real);
      await m.deps.store.tx((db) =>
        db.update(m.deps.store.t.nodes).set({ hostKeyFingerprint: real }).where(eq(m.deps.store.t.nodes.id, id)),
      );
      expect((await m.json("POST", `/api/nodes/${id}/connect`, { token: root })).body.status).toBe("attached");
    });

    test("edit, disconnect and delete", async () => {
      const id = ids[workers[0]?.ip as string] as string;
      const bad = await m.json("PATCH", `/api/nodes/${id}`, { token: root, body: { interfaces: { data: "nope0" } } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.field).toBe("interfaces.data");
      const renamed = await m.json("PATCH", `/api/nodes/${id}`, { token: root, body: { name: "gpu-one" } });
      expect(renamed.body.name).toBe("gpu-one");
      const off = await m.json("POST", `/api/nodes/${id}/disconnect`, { token: root });
      expect(off.body).toMatchObject({ status: "detached", schedulable: false });
      await probeAllNodes(m.deps);
      expect((await m.json("GET", `/api/nodes/${id}`, { token: root })).body.status).toBe("detached");
      expect((await m.request("DELETE", `/api/nodes/${id}`, { token: root })).status).toBe(204);
      expect((await m.json("GET", `/api/nodes/${id}`, { token: root })).status).toBe(404);
      expect((await m.json("GET", "/api/nodes", { token: root })).body.total).toBe(1);
    });
  });
}
