// The list convention of the contract: every list answers {items, total} and honours
// ?limit=&offset= (also the lists kept in memory or on disk: nodes, API keys, access-log days,
// backups); a bad limit is a 400 naming it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { STORE_TARGETS } from "../helpers/stores";
import { ROOT_PASSWORD, seedAttachedNodes, startTestMaster, type TestMaster } from "../helpers/testMaster";

// What names an item (an access-log day's size grows with every request, so not whole items).
type Item = { day?: string; id?: string; accessKey?: string; name?: string; userId?: string };
const keys = (items: Item[]) => items.map((i) => i.day ?? i.id ?? i.accessKey ?? i.name ?? i.userId);

describe.each(STORE_TARGETS)("paging of every list on %s", (target) => {
  let m: TestMaster;
  let root: string;
  beforeAll(async () => {
    m = await startTestMaster(target);
    root = await m.rootToken();
    await seedAttachedNodes(m, [2, 4, 8]);
    for (let i = 0; i < 3; i++) expect((await m.json("POST", "/api/me/keys", { token: root })).status).toBe(201);
    // Access-log lines on three days.
    for (let i = 0; i < 3; i++) {
      await m.json("GET", "/api/me", { token: root });
      m.clock.advance(86_400_000);
      root = await m.login("root", ROOT_PASSWORD); // sessions last HANGAR_SESSION_HOURS
    }
    for (let i = 0; i < 3; i++) {
      const taken = await m.json("POST", "/api/backups", { token: root });
      expect(taken.status).toBeLessThan(300);
      m.clock.advance(1000); // backup file names are per second
    }
  });
  afterAll(() => m.close());

  for (const path of ["/api/nodes", "/api/me/keys", "/api/access-logs", "/api/backups", "/api/users"]) {
    test(`${path}: limit and offset slice the same list, total stays`, async () => {
      const all = await m.json("GET", path, { token: root });
      expect(all.status).toBe(200);
      expect(all.body.total).toBe(all.body.items.length);
      expect(keys(all.body.items).every((k) => typeof k === "string")).toBe(true);
      if (path !== "/api/users") expect(all.body.total).toBeGreaterThanOrEqual(3);
      const first = await m.json("GET", `${path}?limit=1`, { token: root });
      expect(keys(first.body.items)).toEqual(keys(all.body.items.slice(0, 1)));
      expect(first.body.total).toBe(all.body.total);
      const second = await m.json("GET", `${path}?limit=2&offset=1`, { token: root });
      expect(keys(second.body.items)).toEqual(keys(all.body.items.slice(1, 3)));
      const bad = await m.json("GET", `${path}?limit=0`, { token: root });
      expect(bad.status).toBe(400);
      expect(bad.body.error.field).toBe("limit");
    });
  }
});
