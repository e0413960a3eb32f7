// Two backups asked for at once (and in the same second): both complete, under two names.

import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { STORE_TARGETS } from "../helpers/stores";
import { startTestMaster, type TestMaster } from "../helpers/testMaster";

describe.each(STORE_TARGETS)("concurrent backups on %s", (target) => {
  let m: TestMaster;
  beforeAll(async () => {
    m = await startTestMaster(target);
  });
  afterAll(() => m.close());

  test("the same second twice: two whole backups, no partial file left", async () => {
    const root = await m.rootToken();
    const [a, b] = await Promise.all([
      m.json("POST", "/api/backups", { token: root }),
      m.json("POST", "/api/backups", { token: root }),
    ]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.name).not.toBe(b.body.name);
    const dir = join(m.config.dataDir, "backup");
    expect(readdirSync(dir).filter((f) => f.endsWith(".partial"))).toEqual([]);
    for (const name of [a.body.name, b.body.name]) {
      expect(existsSync(join(dir, name))).toBe(true);
      if (target === "sqlite") {
        const db = new Database(join(dir, name), { readonly: true });
        expect(db.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
        expect((db.query("SELECT count(*) AS n FROM users").get() as { n: number }).n).toBeGreaterThan(0);
        db.close();
      } else {
        // A whole pg_dump: the users' rows are in it and the dump ran to its end.
        const dump = readFileSync(join(dir, name), "utf8");
        expect(dump).toMatch(/COPY public\.users .* FROM stdin;\nroot\t/);
        expect(dump).toContain("-- PostgreSQL database dump complete");
      }
    }
  });
});
