// Image isolation on the real Docker Engine (issue 10 items 1 and 7): a member's `docker save`
// tar whose RepoTags name another workspace's image and the global default cannot retag them
// (the victim's job still runs the victim's image, by its immutable ID), and a job may use only
// images released to its workspace or globally, named by ID, Hangar name or reference.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";
import { ensureDefaultImage } from "../../src/images/service";
import { BUSYBOX_IMAGE } from "../helpers/env";
import { makeTraining, makeWorkspace } from "../helpers/factories";
import { multipart } from "../helpers/multipart";
import { until } from "../helpers/poll";
import { STORE_TARGETS } from "../helpers/stores";
import { startTestMaster, type TestMaster } from "../helpers/testMaster";
import { attachWorker, testWorkers } from "../helpers/workers";

const imageId = async (ref: string) => (await $`docker image inspect -f {{.Id}} ${ref}`.text()).trim();

for (const target of STORE_TARGETS) {
  describe(`image isolation on ${target}`, () => {
    let m: TestMaster;
    let root: string;
    let alice: string;
    let mallory: string;
    const dir = mkdtempSync(join(tmpdir(), "hangar-hijack-"));
    const suffix = `${target}-${process.pid}`;
    // A private copy of busybox plays the global default, so a failure cannot retag the suite's.
    const defaultRef = `hangar-test/default-${suffix}:latest`;
    const attackerRef = `hangar-test/attacker-${suffix}:latest`;

    const waitImage = (token: string, id: string) =>
      until(
        `image ${id}`,
        async () => (await m.json("GET", `/api/images/${id}`, { token })).body,
        (i) => i.status !== "pending",
        { timeoutMs: 60_000 },
      );
    const runJob = async (token: string, ws: string, body: Record<string, unknown>) => {
      const res = await m.json("POST", `/api/workspaces/${ws}/trainings/t/jobs`, { token, body });
      if (res.status !== 201) return { status: res.status, body: res.body, log: "" };
      const id = res.body.items[0].id as string;
      const done = await until(
        `job ${id}`,
        async () => (await m.json("GET", `/api/jobs/${id}`, { token })).body,
        (j) => ["succeeded", "failed", "cancelled"].includes(j.status),
        { timeoutMs: 60_000 },
      );
      const log = await (await m.request("GET", `/api/jobs/${id}/log`, { token })).text();
      return { status: 201, body: done, log };
    };

    beforeAll(async () => {
      await $`docker tag ${BUSYBOX_IMAGE} ${defaultRef}`;
      m = await startTestMaster(
        target,
        { defaultImage: defaultRef, schedulerBackstopSeconds: 0.2, schedulerMaxAttempts: 2 },
        { scheduler: true },
      );
      root = await m.rootToken();
      alice = await m.userWithToken("alice");
      mallory = await m.userWithToken("mallory");
      await ensureDefaultImage(m.deps, { wait: true });
      const w = testWorkers()[0];
      if (!w) throw new Error("no test worker");
      await attachWorker(m, root, w, "w1");
      await makeWorkspace(m, root, "victim-ws", { users: ["alice"] });
      await makeWorkspace(m, root, "evil-ws", { users: ["mallory"] });
      await makeTraining(m, alice, "victim-ws", "t");
      await makeTraining(m, mallory, "evil-ws", "t");
    });
    afterAll(async () => {
      await m.close();
      await $`docker rmi -f ${defaultRef} ${attackerRef}`.nothrow().quiet();
      rmSync(dir, { recursive: true, force: true });
    });

    let victim: { id: string; reference: string; name: string; status: string };
    let evil: { id: string };

    test("a tar naming another workspace's image and the default image retags neither", async () => {
      const built = await m.json("POST", "/api/images", {
        token: alice,
        body: {
          name: "victim-img",
          source: { type: "build", dockerfile: `FROM ${BUSYBOX_IMAGE}\nRUN echo victim > /who\n` },
          release: "workspace",
          workspaces: ["victim-ws"],
        },
      });
      expect(built.status).toBe(201);
      victim = await waitImage(alice, built.body.id);
      expect(victim.status).toBe("ready");
      const victimId = await imageId(victim.reference);
      const defaultId = await imageId(defaultRef);

      // The attacker's image, saved, with manifest.json and repositories naming the victims.
      await $`printf 'FROM ${BUSYBOX_IMAGE}\nRUN echo attacker > /who\n' | docker build -q -t ${attackerRef} -`.quiet();
      const x = join(dir, "x");
      await $`mkdir -p ${x} && docker save ${attackerRef} | tar -xf - -C ${x}`;
      const manifest = await Bun.file(join(x, "manifest.json")).json();
      manifest[0].RepoTags = [victim.reference, defaultRef];
      await Bun.write(join(x, "manifest.json"), JSON.stringify(manifest));
      const layer = Object.values(Object.values(await Bun.file(join(x, "repositories")).json())[0] as object)[0];
      const [vRepo, vTag] = victim.reference.split(":");
      const [dRepo, dTag] = defaultRef.split(":");
      await Bun.write(
        join(x, "repositories"),
        JSON.stringify({
          [vRepo as string]: { [vTag as string]: layer },
          [dRepo as string]: { [dTag as string]: layer },
        }),
      );
      await $`tar -cf ${join(dir, "evil.tar")} -C ${x} .`;
      await $`docker rmi ${attackerRef}`.quiet();

      const created = await m.json("POST", "/api/images", {
        token: mallory,
        body: { name: "evil", source: { type: "tar" }, release: "workspace", workspaces: ["evil-ws"] },
      });
      const tar = multipart([
        { field: "file", name: "evil.tar", data: new Uint8Array(await Bun.file(join(dir, "evil.tar")).arrayBuffer()) },
      ]);
      const up = await m.request("POST", `/api/images/${created.body.id}/upload`, {
        token: mallory,
        raw: tar.body,
        headers: { "content-type": tar.contentType },
      });
      expect(up.status).toBe(200);
      evil = await waitImage(mallory, created.body.id);
      expect(evil).toMatchObject({ status: "ready", reference: `hangar-image/${created.body.id}:latest` });
      expect(await imageId(victim.reference)).toBe(victimId);
      expect(await imageId(defaultRef)).toBe(defaultId);
      // The attacker's own image is what it loaded, under its own tag only.
      expect((await $`docker run --rm hangar-image/${created.body.id}:latest cat /who`.text()).trim()).toBe("attacker");

      // The victim's job, naming its image by its Hangar name, runs the victim's image.
      const job = await runJob(alice, "victim-ws", { name: "who", image: "victim-img", command: "cat /who" });
      expect(job.body.status).toBe("succeeded");
      expect(job.log).toContain("victim");
      expect(job.body.image).toBe(victimId); // pinned by the immutable image ID
      // A job with no image runs the default's ID.
      const def = await runJob(alice, "victim-ws", { name: "def", command: "sh -c 'test ! -e /who && echo clean'" });
      expect(def.body.image).toBe(defaultId);
      expect(def.log).toContain("clean");
    });

    test("a job may use only images released to its workspace or globally", async () => {
      for (const image of [evil.id, `hangar-image/${evil.id}:latest`, "evil"]) {
        const res = await runJob(alice, "victim-ws", { name: "steal", image, command: "true" });
        expect(`${res.status} ${res.body.error?.field}`).toBe("400 image");
      }
      for (const image of [victim.id, victim.reference, "victim-img"]) {
        const res = await runJob(mallory, "evil-ws", { name: "steal", image, command: "true" });
        expect(`${res.status} ${res.body.error?.field}`).toBe("400 image");
      }
      // A name Hangar does not know is refused, not pulled from a public registry.
      for (const image of ["no-such-image", "library/hello-world:latest"]) {
        const res = await runJob(mallory, "evil-ws", { name: "unknown", image, command: "true" });
        expect(`${res.status} ${res.body.error?.field}`).toBe("400 image");
        expect(res.body.error.message).toContain(image);
      }
      const own = await runJob(mallory, "evil-ws", { name: "own", image: "evil", command: "cat /who" });
      expect(own.log).toContain("attacker");
      const global = await runJob(mallory, "evil-ws", { name: "glob", image: "default", command: "true" });
      expect(global.body.status).toBe("succeeded");
    });
  });
}
