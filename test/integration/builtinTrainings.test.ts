// Built-in model trainings over the API: each catalogue model runs its shipped script on its
// shipped test dataset in the harness's python image, on a worker; the log shows progress.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BUILTIN_MODELS } from "../../src/builtin/catalogue";
import { pythonImage } from "../helpers/env";
import { makeWorkspace } from "../helpers/factories";
import { multipart } from "../helpers/multipart";
import { STORE_TARGETS } from "../helpers/stores";
import { startTestMaster, type TestMaster } from "../helpers/testMaster";
import { attachWorker, testWorkers } from "../helpers/workers";

const TESTDATA = join(import.meta.dir, "../../src/builtin/testdata");

describe.each(STORE_TARGETS)("built-in model trainings on %s", (target) => {
  let m: TestMaster;
  let alice: string;
  const image = pythonImage;

  beforeAll(async () => {
    m = await startTestMaster(target, { schedulerBackstopSeconds: 0.2 }, { scheduler: true });
    const root = await m.rootToken();
    alice = await m.userWithToken("alice");
    const w = testWorkers()[0];
    if (!w) throw new Error("no worker");
    await attachWorker(m, root, w, "bi-worker");
    await makeWorkspace(m, root, "zoo", { users: ["alice"] });
  });
  afterAll(() => m.close());

  test("the catalogue is served", async () => {
    const res = await m.json("GET", "/api/builtin-models", { token: alice });
    expect(res.body.items.map((i: { id: string }) => i.id).sort()).toEqual(
      ["image-classification", "tabular-regression", "text-classification"].sort(),
    );
  });

  for (const model of BUILTIN_MODELS) {
    test(`${model.id} trains end to end and its log shows the progress`, async () => {
      const ds = model.id.slice(0, 20).replace(/-$/, "");
      expect(
        (
          await m.json("POST", "/api/workspaces/zoo/datasets", {
            token: alice,
            body: { name: ds, access: "read-only" },
          })
        ).status,
      ).toBe(201);
      const dir = join(TESTDATA, model.id);
      const files = readdirSync(dir).map((name) => ({ name, data: new Uint8Array(readFileSync(join(dir, name))) }));
      const body = multipart(files);
      const up = await m.request("POST", `/api/workspaces/zoo/datasets/${ds}/files`, {
        token: alice,
        raw: body.body,
        headers: { "content-type": body.contentType },
      });
      expect(up.status).toBe(201);
      const trName = `bi-${model.id.split("-")[0]}`;
      const tr = await m.json("POST", "/api/workspaces/zoo/trainings", {
        token: alice,
        body: { name: trName, type: "builtin", builtinModel: model.id, gpus: 1, access: "public", image: image() },
      });
      expect(tr.status).toBe(201);
      const bad = await m.json("POST", `/api/workspaces/zoo/trainings/${trName}/jobs`, {
        token: alice,
        body: { name: "bad", dataset: ds, parameterSets: [{ bogus: 1 }] },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.field).toBe("parameterSets[0].bogus");
      const res = await m.json("POST", `/api/workspaces/zoo/trainings/${trName}/jobs`, {
        token: alice,
        body: { name: "run", dataset: ds, gpuOptions: ["unified-memory"], parameterSets: [{ epochs: 5 }] },
      });
      expect(res.status).toBe(201);
      const id = res.body.items[0].id as string;
      expect(res.body.items[0].parameters.epochs).toBe("5");
      let job: any;
      for (let i = 0; i < 600; i++) {
        job = (await m.json("GET", `/api/jobs/${id}`, { token: alice })).body;
        if (["succeeded", "failed", "cancelled", "lost"].includes(job.status)) break;
        await Bun.sleep(100);
      }
      const log = await (await m.request("GET", `/api/jobs/${id}/log`, { token: alice })).text();
      expect(`${job.status}\n${log}`).toStartWith("succeeded\n");
      const epochs = log.split("\n").filter((l) => /^epoch \d+ loss [\d.]+/.test(l));
      expect(epochs.map((l) => l.split(" ")[1])).toEqual(["1", "2", "3", "4", "5"]);
      expect(log).toMatch(/(accuracy|rmse) [\d.]+/);
    }, 90_000);
  }
});
