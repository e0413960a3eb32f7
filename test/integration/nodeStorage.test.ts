// Storage mode detection over real SSH: the harness workers share the master's filesystem, so
// they read the master's probe file at the same path and are `shared`; a node that reads a
// different filesystem is simulated by pointing its read at a path that is not the data dir
// (the script still runs on the worker over SSH). A `shared` node whose share is gone turns
// `error` with the reason on the health rounds and `attached` again when it is back.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { NODE_HEALTH_TIMER } from "../../src/master";
import type { NodeManager } from "../../src/nodes/manager";
import { STORE_TARGETS } from "../helpers/stores";
import { startTestMaster, type TestMaster } from "../helpers/testMaster";
import { attachWorker, type TestWorker, testWorkers } from "../helpers/workers";

for (const target of STORE_TARGETS) {
  describe(`node storage mode on ${target}`, () => {
    let m: TestMaster;
    let root: string;
    let run: NodeManager["run"];
    /** Nodes whose reads go elsewhere than the data dir: their share is "gone". */
    const unshared = new Set<string>();
    const node = async (id: string) => (await m.json("GET", `/api/nodes/${id}`, { token: root })).body;

    beforeAll(async () => {
      m = await startTestMaster(target, { nodeLostAfter: 2 }, { localNode: true });
      root = await m.rootToken();
      run = m.deps.nodes.run.bind(m.deps.nodes);
      m.deps.nodes.run = (address, script, timeoutMs) =>
        run(
          address,
          unshared.has(address.id) ? script.replaceAll(m.config.dataDir, "/hangar-no-share") : script,
          timeoutMs,
        );
    });
    afterAll(() => m.close());

    test("the master's own node is shared", async () => {
      expect(await node("local")).toMatchObject({ status: "attached", storage: "shared" });
    });

    test("a worker that reads the master's probe file at the same path is shared", async () => {
      const id = await attachWorker(m, root, testWorkers()[0] as TestWorker, "w-shared");
      expect(await node(id)).toMatchObject({ status: "attached", storage: "shared" });
    });

    test("a share that disappears turns the node error with the reason; it comes back with the share", async () => {
      const id = (await m.json("GET", "/api/nodes", { token: root })).body.items.find(
        (n: { name: string }) => n.name === "w-shared",
      ).id as string;
      unshared.add(id);
      await m.ticker.tick(NODE_HEALTH_TIMER);
      // One failed round is a blip (nodeLostAfter 2); the second makes it error.
      expect((await node(id)).status).toBe("attached");
      await m.ticker.tick(NODE_HEALTH_TIMER);
      const lost = await node(id);
      expect(lost).toMatchObject({ status: "error", storage: "shared", schedulable: false });
      expect(lost.statusMessage).toBe(
        `shared storage lost: ${m.config.dataDir} on the node is not the master's data dir any more (the master's probe file is not there)`,
      );
      unshared.delete(id);
      await m.ticker.tick(NODE_HEALTH_TIMER);
      expect(await node(id)).toMatchObject({ status: "attached", storage: "shared" });
    });

    test("a worker without the master's data dir connects as staged", async () => {
      const w = testWorkers()[1] as TestWorker;
      // Its id is not known before it is added: every node not yet seen reads elsewhere.
      const seen = new Set((await m.json("GET", "/api/nodes", { token: root })).body.items.map((n: any) => n.id));
      const plain = m.deps.nodes.run;
      m.deps.nodes.run = (address, script, timeoutMs) =>
        plain(
          address,
          seen.has(address.id) ? script : script.replaceAll(m.config.dataDir, "/hangar-no-share"),
          timeoutMs,
        );
      try {
        const id = await attachWorker(m, root, w, "w-staged");
        expect(await node(id)).toMatchObject({ status: "attached", storage: "staged" });
        await m.ticker.tick(NODE_HEALTH_TIMER);
        expect(await node(id)).toMatchObject({ status: "attached", storage: "staged" });
      } finally {
        m.deps.nodes.run = plain;
      }
    });
  });
}
