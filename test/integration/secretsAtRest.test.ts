// Secrets at rest: the files that hold them are the master's alone (0600 files, 0700 folders),
// on SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { dayOf } from "../../src/accesslog/writer";
import { dataLayout } from "../../src/lib/layout";
import { STORE_TARGETS } from "../helpers/stores";
import { startTestMaster, type TestMaster } from "../helpers/testMaster";

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

for (const target of STORE_TARGETS) {
  describe(`secrets at rest on ${target}`, () => {
    let m: TestMaster;
    beforeAll(async () => {
      m = await startTestMaster(target);
    });
    afterAll(() => m.close());

    test("database, WAL, backups, access logs and keys are 0600 in 0700 folders", async () => {
      const root = await m.rootToken();
      const backup = await m.json("POST", "/api/backups", { token: root });
      expect(backup.status).toBe(201);
      m.deps.accessLog.flush();
      const layout = dataLayout(m.config.dataDir);
      const day = dayOf(m.clock.now());
      const files = [
        join(dataLayout(m.config.dataDir).backups, backup.body.name),
        layout.accessLogFile(day),
        layout.secretsKeyFile,
        layout.masterKeyFile,
      ];
      if (target === "sqlite") files.push(layout.sqliteFile, `${layout.sqliteFile}-wal`);
      const dirs = [layout.accessLogs, layout.backups, layout.sshDir, layout.staging];
      expect(Object.fromEntries([...files, ...dirs].map((p) => [p, mode(p)]))).toEqual(
        Object.fromEntries([...files.map((p) => [p, "600"]), ...dirs.map((p) => [p, "700"])]),
      );
    });
  });
}
