// The idle rule after a master restart: use is tracked in memory, so a running notebook that
// the new master has not seen used counts from the master's start, not from its own. The
// master's idle timer is stepped with the test ticker, the time moved with the test clock.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { NOTEBOOK_IDLE_TIMER } from "../../src/master";
import { stopIdleNotebooks } from "../../src/notebooks/service";
import { BUSYBOX_IMAGE } from "../helpers/env";
import { makeWorkspace } from "../helpers/factories";
import { STORE_TARGETS } from "../helpers/stores";
import { seedAttachedNodes, startTestMaster, type TestMaster } from "../helpers/testMaster";

describe.each(STORE_TARGETS)("notebook idle timeout on %s", (target) => {
  let m: TestMaster;
  let jobId: string;
  const HOUR = 3_600_000;

  beforeAll(async () => {
    m = await startTestMaster(target);
    const root = await m.rootToken();
    await seedAttachedNodes(m, [2]);
    await makeWorkspace(m, root, "nb");
    const tr = await m.json("POST", "/api/workspaces/nb/trainings", {
      token: root,
      body: {
        name: "lab",
        type: "notebook",
        gpus: 1,
        access: "public",
        image: BUSYBOX_IMAGE,
        idleTimeoutSeconds: 600,
      },
    });
    expect(tr.status).toBe(201);
    expect((await m.json("POST", "/api/workspaces/nb/trainings/lab/start", { token: root })).status).toBe(200);
    const [job] = await m.deps.store.db.select().from(m.deps.store.t.jobs);
    jobId = (job as { id: string }).id;
    // It has been running for two hours (started under the previous master).
    const startedAt = new Date(m.clock.now().getTime() - 2 * HOUR).toISOString();
    await m.deps.store.tx((db) =>
      db.update(m.deps.store.t.jobs).set({ status: "running", startedAt }).where(eq(m.deps.store.t.jobs.id, jobId)),
    );
  });
  afterAll(() => m.close());

  test("a master that started a minute ago does not stop it; one that has run past the timeout does", async () => {
    const now = m.clock.now().getTime();
    const noUseSeen = () => undefined;
    expect(await stopIdleNotebooks(m.deps, noUseSeen, now - 60_000)).toEqual([]);
    expect((await m.json("GET", `/api/jobs/${jobId}`, { token: await m.rootToken() })).body.status).toBe("running");
    expect(await stopIdleNotebooks(m.deps, noUseSeen, now - HOUR)).toEqual([jobId]);
    expect((await m.json("GET", `/api/jobs/${jobId}`, { token: await m.rootToken() })).body.status).toBe("cancelled");
  });

  test("the master's idle timer: unused since the master started or since its last use, it is stopped", async () => {
    const root = await m.rootToken();
    const tr = await m.json("POST", "/api/workspaces/nb/trainings", {
      token: root,
      body: {
        name: "lab2",
        type: "notebook",
        gpus: 1,
        access: "public",
        image: BUSYBOX_IMAGE,
        idleTimeoutSeconds: 600,
      },
    });
    expect(tr.status).toBe(201);
    expect((await m.json("POST", "/api/workspaces/nb/trainings/lab2/start", { token: root })).status).toBe(200);
    const [job] = await m.deps.store.db
      .select()
      .from(m.deps.store.t.jobs)
      .where(eq(m.deps.store.t.jobs.status, "pending"));
    const id = (job as { id: string }).id;
    const startedAt = new Date(m.clock.now().getTime() - 2 * HOUR).toISOString();
    await m.deps.store.tx((db) =>
      db.update(m.deps.store.t.jobs).set({ status: "running", startedAt }).where(eq(m.deps.store.t.jobs.id, id)),
    );
    const status = async () => (await m.json("GET", `/api/jobs/${id}`, { token: root })).body.status;
    const MIN = 60_000;

    m.clock.advance(9 * MIN); // 9 min since the master started
    await m.ticker.tick(NOTEBOOK_IDLE_TIMER);
    expect(await status()).toBe("running");
    m.deps.notebookUse.used(id, m.clock.now().getTime()); // used through the proxy
    m.clock.advance(9 * MIN); // 18 min since the start, 9 since the use
    await m.ticker.tick(NOTEBOOK_IDLE_TIMER);
    expect(await status()).toBe("running");
    m.clock.advance(MIN + 1); // past 10 min since the use
    await m.ticker.tick(NOTEBOOK_IDLE_TIMER);
    expect(await status()).toBe("cancelled");
  });
});
