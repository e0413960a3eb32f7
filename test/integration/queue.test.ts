// The admin's cluster-wide routes the terminal dashboard reads (GET /api/queue, GET /api/jobs)
// and the master console's local admin token.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { issueLocalAdminToken, readToken } from "../../src/auth/localAdmin";
import { dataLayout } from "../../src/lib/layout";
import { BUSYBOX_IMAGE } from "../helpers/env";
import { makeTraining, makeWorkspace } from "../helpers/factories";
import { STORE_TARGETS } from "../helpers/stores";
import { seedAttachedNodes, startTestMaster, type TestMaster } from "../helpers/testMaster";

describe.each(STORE_TARGETS)("queue and jobs across workspaces on %s", (target) => {
  let m: TestMaster;
  let root: string;
  let user: string;
  const ids: string[] = [];

  beforeAll(async () => {
    m = await startTestMaster(target);
    root = await m.rootToken();
    user = await m.userWithToken("q-user");
    await seedAttachedNodes(m, [2]);
    for (const ws of ["qa", "qb"]) {
      await makeWorkspace(m, root, ws);
      await makeTraining(m, root, ws, "t", { access: "public" });
    }
    for (const [ws, name] of [
      ["qa", "first"],
      ["qb", "second"],
      ["qa", "third"],
    ] as const) {
      const res = await m.json("POST", `/api/workspaces/${ws}/trainings/t/jobs`, {
        token: root,
        body: { name, image: BUSYBOX_IMAGE, command: "true" },
      });
      expect(res.status).toBe(201);
      ids.push(res.body.items[0].id);
      m.clock.advance(1000);
    }
  });
  afterAll(() => m.close());

  test("the queue lists every pending job with its reason and wait, for admins only", async () => {
    const res = await m.json("GET", "/api/queue", { token: root });
    expect(res.status).toBe(200);
    expect(res.body.policy).toBe("fifo");
    expect(res.body.items.map((q: { name: string }) => q.name)).toEqual(["first", "second", "third"]);
    expect(res.body.items.map((q: { position: number }) => q.position)).toEqual([1, 2, 3]);
    expect(res.body.items[0]).toMatchObject({ workspace: "qa", createdBy: "root", gpus: 1, queued: true });
    expect(res.body.items[0].reason).toBeString();
    // Submitted 1 s apart, the clock 1 s past the last: waits of 3, 2 and 1 s.
    expect(res.body.items.map((q: { waitingSeconds: number }) => q.waitingSeconds)).toEqual([3, 2, 1]);
    expect((await m.json("GET", "/api/queue", { token: user })).status).toBe(403);
  });

  test("jobs of every workspace, newest first, filtered by state; admins only", async () => {
    const all = await m.json("GET", "/api/jobs", { token: root });
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(3);
    expect(all.body.items.map((j: { name: string }) => j.name)).toEqual(["third", "second", "first"]);
    expect(new Set(all.body.items.map((j: { workspace: string }) => j.workspace))).toEqual(new Set(["qa", "qb"]));
    await m.json("POST", `/api/jobs/${ids[1]}/cancel`, { token: root });
    const pending = await m.json("GET", "/api/jobs?status=pending,running", { token: root });
    expect(pending.body.items.map((j: { name: string }) => j.name)).toEqual(["third", "first"]);
    const bad = await m.json("GET", "/api/jobs?status=done", { token: root });
    expect(bad.status).toBe(400);
    expect((await m.json("GET", "/api/jobs", { token: user })).status).toBe(403);
    expect((await m.json("GET", "/api/queue", { token: root })).body.total).toBe(2);
  });

  test("the local admin token: 0600, an admin session; issuing again revokes the previous one", async () => {
    const file = dataLayout(m.config.dataDir).localAdminTokenFile;
    expect(readToken(file)).toBeNull(); // test masters have no console
    const start = await issueLocalAdminToken(m.deps);
    expect(start?.userId).toBe("root");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const first = readToken(file) as string;
    const me = await m.json("GET", "/api/me", { token: first });
    expect(me.body).toMatchObject({ userId: "root", role: "admin" });
    const next = await issueLocalAdminToken(m.deps);
    const second = readToken(file) as string;
    expect(second).not.toBe(first);
    expect((await m.json("GET", "/api/me", { token: first })).status).toBe(401);
    expect((await m.json("GET", "/api/me", { token: second })).status).toBe(200);
    await next?.revoke();
    expect((await m.json("GET", "/api/me", { token: second })).status).toBe(401);
    expect(readToken(file)).toBeNull();
  });
});
