// Images over the API with the real Docker Engine: pull from the harness's local registry,
// build from a Dockerfile, load a tar; failures carry Docker's message; workspace release
// hides images from other workspaces; an image is copied to a node whose engine lacks it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";
import Docker from "dockerode";
import { ensureImageOnNode } from "../../src/images/service";
import { startContainer } from "../../src/jobs/runner";
import { nodeExecutor } from "../../src/nodes/service";
import { BUSYBOX_IMAGE, requireEnv } from "../helpers/env";
import { makeWorkspace } from "../helpers/factories";
import { multipart } from "../helpers/multipart";
import { runCli } from "../helpers/processes";
import { STORE_TARGETS } from "../helpers/stores";
import { seedAttachedNodes, startTestMaster, type TestMaster } from "../helpers/testMaster";
import { authorize, type TestWorker, testWorkers } from "../helpers/workers";

const IMAGE = BUSYBOX_IMAGE;

const env = (name: string) => requireEnv(name, "test/harness/extras.sh");

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let out = "";
  for await (const chunk of stream) out += chunk.toString();
  return out;
}

for (const target of STORE_TARGETS) {
  describe(`images on ${target}`, () => {
    let m: TestMaster;
    let root: string;
    let alice: string;
    let carol: string;
    const dir = mkdtempSync(join(tmpdir(), "hangar-images-"));
    const docker = new Docker({ socketPath: "/var/run/docker.sock" });
    const engine2 = new Docker({ socketPath: env("HANGAR_TEST_ENGINE2_SOCKET") });

    const waitDone = async (token: string, id: string) => {
      for (let i = 0; i < 300; i++) {
        const res = await m.json("GET", `/api/images/${id}`, { token });
        if (res.body.status !== "pending") return res.body;
        await Bun.sleep(100);
      }
      throw new Error(`image ${id} still pending`);
    };

    beforeAll(async () => {
      m = await startTestMaster(target, { defaultImage: IMAGE });
      m.clock.set(new Date("2026-06-01T00:00:00Z"));
      root = await m.rootToken();
      await seedAttachedNodes(m, [2]);
      alice = await m.userWithToken("alice");
      carol = await m.userWithToken("carol");
      for (const [name, users] of [
        ["ws-a", ["alice"]],
        ["ws-b", ["carol"]],
      ] as const)
        await makeWorkspace(m, root, name, { users });
      await docker
        .getImage(env("HANGAR_TEST_REGISTRY_IMAGE"))
        .remove({ force: true })
        .catch(() => {});
    });
    afterAll(async () => {
      await m.deps.nodes.close();
      await m.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test("pull from a registry: pending → ready with its size", async () => {
      const res = await m.json("POST", "/api/images", {
        token: root,
        body: {
          name: "bb-pull",
          description: "busybox",
          source: { type: "pull", ref: env("HANGAR_TEST_REGISTRY_IMAGE") },
          release: "global",
        },
      });
      expect(res.status).toBe(201);
      expect(res.body.status).toBe("pending");
      const done = await waitDone(root, res.body.id);
      expect(done).toMatchObject({ status: "ready", statusReason: null, uploader: "root", release: "global" });
      expect(done.sizeBytes).toBeGreaterThan(100_000);
    });

    test("a reference that does not exist ends failed with Docker's message", async () => {
      const res = await m.json("POST", "/api/images", {
        token: root,
        body: {
          name: "missing",
          source: { type: "pull", ref: `${env("HANGAR_TEST_REGISTRY")}/nope/missing:1` },
          release: "global",
        },
      });
      const done = await waitDone(root, res.body.id);
      expect(done.status).toBe("failed");
      expect(done.statusReason).toMatch(/not found|manifest unknown|does not exist/i);
      const bad = await m.json("POST", "/api/images", {
        token: root,
        body: { name: "bad", source: { type: "pull", ref: "Not A Ref!" }, release: "global" },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.field).toBe("source.ref");
    });

    test("bad input names the field", async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ name: "x".repeat(21), source: { type: "tar" }, release: "global" }, "name"],
        [{ name: "ok", description: "d".repeat(201), source: { type: "tar" }, release: "global" }, "description"],
        [{ name: "ok", source: { type: "zip" }, release: "global" }, "source.type"],
        [{ name: "ok", source: { type: "build" }, release: "global" }, "source.dockerfile"],
        [{ name: "ok", source: { type: "tar" }, release: "everyone" }, "release"],
        [{ name: "ok", source: { type: "tar" }, release: "workspace", workspaces: [] }, "workspaces"],
      ];
      for (const [body, field] of cases) {
        const res = await m.json("POST", "/api/images", { token: root, body });
        expect(`${res.status} ${res.body.error?.field}`).toBe(`400 ${field}`);
      }
    });

    test("build from a Dockerfile FROM a local image, with and without an uploaded context", async () => {
      const plain = await m.json("POST", "/api/images", {
        token: alice,
        body: {
          name: "built",
          source: { type: "build", dockerfile: `FROM ${IMAGE}\nRUN echo built > /built.txt\n` },
          release: "workspace",
          workspaces: ["ws-a"],
        },
      });
      expect(plain.status).toBe(201);
      const done = await waitDone(alice, plain.body.id);
      expect(done.status).toBe("ready");
      const out = await $`docker run --rm ${done.reference} cat /built.txt`.text();
      expect(out.trim()).toBe("built");

      await Bun.write(join(dir, "ctx", "hello.txt"), "hello from the context\n");
      await $`tar -cf ${join(dir, "ctx.tar")} -C ${join(dir, "ctx")} hello.txt`;
      const withCtx = await m.json("POST", "/api/images", {
        token: alice,
        body: {
          name: "ctx",
          source: { type: "build", dockerfile: `FROM ${IMAGE}\nCOPY hello.txt /hello.txt\n`, context: "upload" },
          release: "workspace",
          workspaces: ["ws-a"],
        },
      });
      expect(withCtx.body.statusReason).toContain("waiting for the upload");
      const tar = multipart([
        { field: "file", name: "ctx.tar", data: new Uint8Array(await Bun.file(join(dir, "ctx.tar")).arrayBuffer()) },
      ]);
      const up = await m.request("POST", `/api/images/${withCtx.body.id}/upload`, {
        token: alice,
        raw: tar.body,
        headers: { "content-type": tar.contentType },
      });
      expect(up.status).toBe(200);
      const built = await waitDone(alice, withCtx.body.id);
      expect(built.status).toBe("ready");
      expect((await $`docker run --rm ${built.reference} cat /hello.txt`.text()).trim()).toBe("hello from the context");

      const failing = await m.json("POST", "/api/images", {
        token: alice,
        body: {
          name: "broken",
          source: { type: "build", dockerfile: `FROM ${IMAGE}\nRUN exit 3\n` },
          release: "workspace",
          workspaces: ["ws-a"],
        },
      });
      const failed = await waitDone(alice, failing.body.id);
      expect(failed.status).toBe("failed");
      expect(failed.statusReason).toContain("non-zero code: 3");
    });

    test("a build has no network: ADD of a loopback URL is refused, RUN steps see only lo", async () => {
      let hits = 0;
      const server = Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        fetch: () => {
          hits++;
          return new Response("loopback secret\n");
        },
      });
      try {
        const url = `http://127.0.0.1:${server.port}/secret`;
        for (const dockerfile of [
          `FROM ${IMAGE}\nADD ${url} /secret\n`,
          `FROM ${IMAGE}\nadd \\\n# a comment\n  ${url} /secret\n`,
          `FROM ${IMAGE}\nENV U=${url}\nADD $U /secret\n`,
          `FROM ${IMAGE}\nONBUILD ADD ${url} /secret\n`,
        ]) {
          const res = await m.json("POST", "/api/images", {
            token: alice,
            body: { name: "fetch", source: { type: "build", dockerfile }, release: "workspace", workspaces: ["ws-a"] },
          });
          expect(`${res.status} ${res.body.error?.field}`).toBe("400 source.dockerfile");
        }
        const nets = await m.json("POST", "/api/images", {
          token: alice,
          body: {
            name: "nets",
            source: {
              type: "build",
              dockerfile: `FROM ${IMAGE}\nRUN ls /sys/class/net > /nets && echo ${Date.now()} > /nonce\n`,
            },
            release: "workspace",
            workspaces: ["ws-a"],
          },
        });
        const done = await waitDone(alice, nets.body.id);
        expect(done.status).toBe("ready");
        expect((await $`docker run --rm ${done.reference} cat /nets`.text()).trim()).toBe("lo");
        // Built images carry this master's cluster label.
        const cluster = (await Bun.file(join(m.config.dataDir, "cluster-id")).text()).trim();
        expect(
          (
            await $`docker image inspect -f ${'{{index .Config.Labels "hangar.cluster"}}'} ${done.reference}`.text()
          ).trim(),
        ).toBe(cluster);
        expect(hits).toBe(0);
      } finally {
        server.stop(true);
      }
    });

    test("load a docker-save tar uploaded as multipart", async () => {
      await $`docker save -o ${join(dir, "bb.tar")} ${IMAGE}`;
      const res = await m.json("POST", "/api/images", {
        token: alice,
        body: { name: "from-tar", source: { type: "tar" }, release: "workspace", workspaces: ["ws-a"] },
      });
      expect(res.body.status).toBe("pending");
      const tar = multipart([
        { field: "file", name: "bb.tar", data: new Uint8Array(await Bun.file(join(dir, "bb.tar")).arrayBuffer()) },
      ]);
      const up = await m.request("POST", `/api/images/${res.body.id}/upload`, {
        token: alice,
        raw: tar.body,
        headers: { "content-type": tar.contentType },
      });
      expect(up.status).toBe(200);
      const done = await waitDone(alice, res.body.id);
      expect(done.status).toBe("ready");
      expect(done.reference).toBe(`hangar-image/${res.body.id}:latest`);
      const again = await m.request("POST", `/api/images/${res.body.id}/upload`, {
        token: alice,
        raw: tar.body,
        headers: { "content-type": tar.contentType },
      });
      expect(again.status).toBe(409);
    });

    test("workspace-released images are invisible to other workspaces", async () => {
      const mine = (await m.json("GET", "/api/images?workspace=ws-a", { token: alice })).body.items.map(
        (i: { name: string }) => i.name,
      );
      expect(mine).toEqual(expect.arrayContaining(["bb-pull", "built", "ctx", "from-tar"]));
      const theirs = (await m.json("GET", "/api/images", { token: carol })).body.items.map(
        (i: { name: string }) => i.name,
      );
      expect(theirs).toContain("bb-pull");
      expect(theirs).not.toContain("built");
      const built = (await m.json("GET", "/api/images", { token: alice })).body.items.find(
        (i: { name: string }) => i.name === "built",
      );
      expect((await m.json("GET", `/api/images/${built.id}`, { token: carol })).status).toBe(404);
      expect((await m.json("GET", "/api/images?workspace=ws-a", { token: carol })).status).toBe(404);
      expect((await m.request("DELETE", `/api/images/${built.id}`, { token: carol })).status).toBe(404);
      expect((await m.json("GET", "/api/workspaces/ws-a", { token: alice })).body.counts.images).toBeGreaterThanOrEqual(
        5,
      );
    });

    test("an image is copied to a node whose engine lacks it before a container starts there", async () => {
      const w = testWorkers()[1] as TestWorker;
      authorize(w, m.deps.masterKey.publicKey);
      const added = await m.json("POST", "/api/nodes", {
        token: root,
        body: { ip: w.ip, sshPort: w.port, name: `engine2-${target}`, dockerSocket: env("HANGAR_TEST_ENGINE2_SOCKET") },
      });
      expect(added.status).toBe(201);
      expect((await m.json("POST", `/api/nodes/${added.body.id}/connect`, { token: root })).body.status).toBe(
        "attached",
      );
      const images = (await m.json("GET", "/api/images", { token: root })).body.items;
      // Built here, so its image ID is on no other engine (copies go by ID, not by tag).
      const fromTar = images.find((i: { name: string }) => i.name === "built");
      const pulled = images.find((i: { name: string }) => i.name === "bb-pull");
      const builtId = (await m.deps.nodes.masterImages().inspect(fromTar.reference))?.id as string;
      for (const ref of [builtId, fromTar.reference, pulled.reference])
        await engine2
          .getImage(ref)
          .remove({ force: true })
          .catch(() => {});
      const exec = await nodeExecutor(m.deps, added.body.id);
      const log: string[] = [];
      expect(await ensureImageOnNode(m.deps, fromTar.reference, exec, (l) => log.push(l))).toBe("copied");
      expect(log.join("\n")).toContain("copying it from the master");
      // A pulled image whose ID engine2 still holds under another tag is present: it is only tagged.
      const pulledId = (await m.deps.nodes.masterImages().inspect(pulled.reference))?.id as string;
      const hadId = await engine2
        .getImage(pulledId)
        .inspect()
        .then(() => true)
        .catch(() => false);
      expect(await ensureImageOnNode(m.deps, pulled.reference, exec)).toBe(hadId ? "present" : "pulled");
      expect((await engine2.getImage(pulled.reference).inspect()).Id).toBe(pulledId);
      expect(await ensureImageOnNode(m.deps, fromTar.reference, exec)).toBe("present");
      const run = await exec.run({
        name: `hangar-test-e2-${target}-${Date.now()}`,
        image: fromTar.reference,
        command: ["echo", "ran on engine2"],
      });
      const [out, exit] = await Promise.all([readAll(run.stdout), run.wait()]);
      expect(out).toBe("ran on engine2\n");
      expect(exit.exitCode).toBe(0);
      await exec.remove(run.id);
      expect((await engine2.listContainers({ all: true, filters: { id: [run.id] } })).length).toBe(0);
    });

    test("a job container start (detached) fetches a missing image and replaces a leftover of the same name, then runs", async () => {
      const nodes = (await m.json("GET", "/api/nodes", { token: root })).body.items;
      const node = nodes.find((n: { name: string }) => n.name === `engine2-${target}`);
      const exec = await nodeExecutor(m.deps, node.id);
      const images = (await m.json("GET", "/api/images", { token: root })).body.items;
      const fromTar = images.find((i: { name: string }) => i.name === "from-tar");
      await engine2
        .getImage(fromTar.reference)
        .remove({ force: true })
        .catch(() => {});
      const spec = {
        name: `hangar-test-start-${target}-${Date.now()}`,
        image: fromTar.reference,
        command: ["echo", "started"],
      };
      const fetched: string[] = [];
      const fetchImage = () => {
        fetched.push(spec.image);
        return ensureImageOnNode(m.deps, spec.image, exec);
      };
      const first = await startContainer(exec, spec, fetchImage);
      expect(fetched).toEqual([fromTar.reference]); // create said "no such image" once
      const output = async (id: string) => {
        let text = "";
        for await (const batch of exec.follow(id, null)) text += batch.text;
        return text.split("\n").slice(0, -1);
      };
      expect(await exec.waitExit(first.id)).toBe(0);
      expect(await output(first.id)).toEqual(["started"]);
      // The exited container still holds the name: the next start removes it and goes on.
      const second = await startContainer(exec, spec, fetchImage);
      expect(second.id).not.toBe(first.id);
      expect(fetched.length).toBe(1); // the image is there now
      expect(await exec.waitExit(second.id)).toBe(0);
      expect(await output(second.id)).toEqual(["started"]);
      expect((await engine2.listContainers({ all: true, filters: { id: [first.id] } })).length).toBe(0);
      await exec.remove(second.id);
      // Anything else Docker refuses is not retried: a missing image the fetch cannot bring.
      const bad = { ...spec, name: `${spec.name}-bad`, image: "hangar-test/none-such:1" };
      await expect(startContainer(exec, bad, async () => {})).rejects.toThrow(/no such image/i);
    });

    test("the default image is registered and 'hangar images reinit' restores it after a delete", async () => {
      const envFor = {
        HANGAR_DATA_DIR: m.config.dataDir,
        HANGAR_DEFAULT_IMAGE: IMAGE,
        ...(m.config.databaseUrl ? { DATABASE_URL: m.config.databaseUrl } : {}),
      };
      const first = await runCli(["images", "reinit"], envFor);
      expect(first.code).toBe(0);
      expect(first.out).toContain(`default image ${IMAGE} registered again: ready`);
      const def = (await m.json("GET", "/api/images", { token: carol })).body.items.find(
        (i: { name: string }) => i.name === "default",
      );
      expect(def).toMatchObject({ builtin: true, release: "global", status: "ready", reference: IMAGE });
      expect((await m.request("DELETE", `/api/images/${def.id}`, { token: root })).status).toBe(204);
      expect((await m.json("GET", `/api/images/${def.id}`, { token: root })).status).toBe(404);
      const again = await runCli(["images", "reinit"], envFor);
      expect(again.out).toContain("registered again: ready");
      const second = await runCli(["images", "reinit"], envFor);
      expect(second.out).toContain("already registered");
    });
  });
}
