// Workspaces over the API on SQLite and PostgreSQL: create/edit/list/detail, reservations,
// roles, expiry.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { multipart } from "../helpers/multipart";
import { STORE_TARGETS } from "../helpers/stores";
import { seedAttachedNodes, startTestMaster, type TestMaster } from "../helpers/testMaster";

const YEAR = { startsAt: "2026-01-01T00:00:00Z", endsAt: "2027-01-01T00:00:00Z" };

for (const target of STORE_TARGETS) {
  describe(`workspaces on ${target}`, () => {
    let m: TestMaster;
    let root: string;
    let boss: string;
    let alice: string;
    let bob: string;
    beforeAll(async () => {
      m = await startTestMaster(target);
      m.clock.set(new Date("2026-06-01T00:00:00Z"));
      root = await m.rootToken();
      await seedAttachedNodes(m, [2, 4]); // the cluster has 6 GPUs
      boss = await m.userWithToken("boss", "manager");
      alice = await m.userWithToken("alice");
      bob = await m.userWithToken("bob");
    });
    afterAll(() => m.close());

    const ws = (name: string, extra: Record<string, unknown> = {}) => ({
      name,
      description: `the ${name} lab`,
      ...YEAR,
      trainingGpus: 2,
      deploymentGpus: 0,
      manager: "boss",
      users: ["alice"],
      ...extra,
    });

    test("an admin creates a workspace; it is active in its period", async () => {
      const res = await m.json("POST", "/api/workspaces", { token: root, body: ws("vision") });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        name: "vision",
        status: "active",
        trainingGpus: 2,
        manager: "boss",
        users: ["alice"],
      });
      const detail = await m.json("GET", "/api/workspaces/vision", { token: root });
      expect(detail.body).toMatchObject({
        gpusInUse: { training: 0, deployment: 0 },
        counts: { trainings: 0, deployments: 0, images: 0, datasets: 0 },
        recentTasks: [],
      });
      expect((await m.json("POST", "/api/workspaces", { token: root, body: ws("vision") })).status).toBe(409);
    });

    test("the part of a period already past is not checked against reservations", async () => {
      // On the clock's 2026-06-01, archive's whole period is past: its 6 GPUs would clash with
      // vision's 2 only in the past, which nothing can overbook any more.
      const past = await m.json("POST", "/api/workspaces", {
        token: root,
        body: ws("archive", { trainingGpus: 6, startsAt: "2025-01-01T00:00:00Z", endsAt: "2026-05-01T00:00:00Z" }),
      });
      expect(past.status).toBe(201);
      expect(past.body.status).toBe("expired");
    });

    test("bad input names the field and stores nothing", async () => {
      const cases: [Record<string, unknown>, string][] = [
        [ws("Bad Name"), "name"],
        [ws("x--y"), "name"],
        [ws("late", { endsAt: "2025-01-01T00:00:00Z" }), "endsAt"],
        [ws("when", { startsAt: "someday" }), "startsAt"],
        [ws("ghost", { manager: "nobody" }), "manager"],
        [ws("crowd", { users: ["alice", "nobody"] }), "users"],
        [ws("neg", { trainingGpus: -1 }), "trainingGpus"],
        [ws("frac", { trainingGpus: 1.5 }), "trainingGpus"],
      ];
      for (const [body, field] of cases) {
        const res = await m.json("POST", "/api/workspaces", { token: root, body });
        expect(`${body.name} ${res.status} ${res.body.error?.field}`).toBe(`${body.name} 400 ${field}`);
      }
      expect((await m.json("GET", "/api/workspaces", { token: root })).body.total).toBe(2);
    });

    test("over-reservation in an overlapping period is a 409 naming the clash and the figures", async () => {
      expect(
        (await m.json("POST", "/api/workspaces", { token: root, body: ws("nlp", { trainingGpus: 3 }) })).status,
      ).toBe(201);
      const over = await m.json("POST", "/api/workspaces", {
        token: root,
        body: ws("speech", {
          trainingGpus: 1,
          deploymentGpus: 1,
          startsAt: "2026-08-01T00:00:00Z",
          endsAt: "2026-09-01T00:00:00Z",
        }),
      });
      expect(over.status).toBe(409);
      expect(over.body.error.code).toBe("gpu_overbooked");
      expect(over.body.error.message).toContain("nlp");
      expect(over.body.error.message).toContain("vision");
      expect(over.body.error.message).toContain("5 of the cluster's 6 GPUs");
      // After the others' period ends the GPUs are free again.
      const later = await m.json("POST", "/api/workspaces", {
        token: root,
        body: ws("speech", { trainingGpus: 6, startsAt: "2027-01-01T00:00:00Z", endsAt: "2027-06-01T00:00:00Z" }),
      });
      expect(later.status).toBe(201);
      expect(later.body.status).toBe("reserved");
      // Editing into a clash is refused too.
      const grow = await m.json("PATCH", "/api/workspaces/vision", { token: root, body: { trainingGpus: 4 } });
      expect(grow.status).toBe(409);
    });

    test("members see only their workspaces; others get 404", async () => {
      const list = await m.json("GET", "/api/workspaces", { token: alice });
      expect(list.body.items.map((w: { name: string }) => w.name)).toEqual(["archive", "nlp", "speech", "vision"]);
      expect((await m.json("GET", "/api/workspaces", { token: bob })).body.total).toBe(0);
      expect((await m.json("GET", "/api/workspaces/vision", { token: bob })).status).toBe(404);
      expect((await m.json("GET", "/api/workspaces/vision", { token: alice })).status).toBe(200);
      expect((await m.json("GET", "/api/workspaces", { token: boss })).body.total).toBe(4);
    });

    test("the manager edits description and users, not GPUs or the period; members edit nothing", async () => {
      const ok = await m.json("PATCH", "/api/workspaces/vision", {
        token: boss,
        body: { description: "new", users: ["alice", "bob"] },
      });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ description: "new", users: ["alice", "bob"] });
      const gpus = await m.json("PATCH", "/api/workspaces/vision", { token: boss, body: { trainingGpus: 1 } });
      expect(gpus.status).toBe(403);
      expect(gpus.body.error.message).toContain("trainingGpus");
      expect(
        (await m.json("PATCH", "/api/workspaces/vision", { token: alice, body: { description: "x" } })).status,
      ).toBe(403);
      expect((await m.json("POST", "/api/workspaces", { token: boss, body: ws("mine") })).status).toBe(403);
    });

    test("a workspace whose period is moved into the past is expired: readable, nothing new", async () => {
      const early = await m.json("POST", "/api/workspaces/nlp/datasets", { token: alice, body: { name: "early" } });
      expect(early.status).toBe(201);
      const res = await m.json("PATCH", "/api/workspaces/nlp", {
        token: root,
        body: { startsAt: "2025-01-01T00:00:00Z", endsAt: "2025-12-31T00:00:00Z" },
      });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe("expired");
      expect((await m.json("GET", "/api/workspaces/nlp", { token: alice })).status).toBe(200);
      const ds = await m.json("POST", "/api/workspaces/nlp/datasets", { token: alice, body: { name: "late" } });
      expect(ds.status).toBe(409);
      expect(ds.body.error.code).toBe("workspace_expired");
      expect(ds.body.error.message).toContain("expired at 2025-12-31");
      const parts = multipart([{ name: "late.csv", data: "a,b\n" }]);
      const upload = await m.request("POST", "/api/workspaces/nlp/datasets/early/files", {
        token: alice,
        raw: parts.body,
        headers: { "content-type": parts.contentType },
      });
      expect(upload.status).toBe(409);
      const body = await upload.json();
      expect(body.error.code).toBe("workspace_expired");
      expect(body.error.message).toContain("uploading files is not possible");
      expect((await m.json("GET", "/api/workspaces/nlp/datasets/early/files", { token: alice })).body.total).toBe(0);
    });

    test("user IDs for the Users picker: admins and workspace managers read IDs only; others 403", async () => {
      const ids = async (token: string, query = "limit=500") => m.json("GET", `/api/user-ids?${query}`, { token });
      // bob manages no workspace yet and has the plain user role.
      expect((await ids(bob)).status).toBe(403);
      expect((await ids(alice)).status).toBe(403);
      const created = await m.json("POST", "/api/workspaces", {
        token: root,
        body: ws("bobs", { trainingGpus: 0, manager: "bob", users: [] }),
      });
      expect(created.status).toBe(201);
      await m.userWithToken("zed");
      expect((await m.json("PATCH", "/api/users/zed", { token: root, body: { active: false } })).status).toBe(200);
      for (const token of [root, boss, bob]) {
        const res = await ids(token);
        expect(res.status).toBe(200);
        const got = res.body.items.map((u: { userId: string }) => u.userId);
        expect(got).toEqual(["alice", "bob", "boss", "root"]); // zed is deactivated
        for (const u of res.body.items) expect(Object.keys(u)).toEqual(["userId"]);
      }
      expect((await ids(bob, "q=bo")).body.items).toEqual([{ userId: "bob" }, { userId: "boss" }]);
      expect((await ids(bob, "limit=1&offset=1")).body).toEqual({ items: [{ userId: "bob" }], total: 4 });
    });
  });
}
