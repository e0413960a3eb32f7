// A realistic training end to end: a Debian image with python3 and numpy (built by the
// harness), a CSV dataset and a training script uploaded by a user, a job that fits a model for
// a few epochs on a worker; the live SSE follow and the downloaded log hold every line, and
// /output holds the saved weights.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pythonImage } from "../helpers/env";
import { multipart } from "../helpers/multipart";
import { startTestMaster, type TestMaster } from "../helpers/testMaster";
import { attachWorker, testWorkers } from "../helpers/workers";

const TRAIN_PY = `
import argparse, numpy as np
p = argparse.ArgumentParser()
p.add_argument("--epochs", type=int, default=5)
p.add_argument("--lr", type=float, default=0.1)
a = p.parse_args()
data = np.loadtxt("/dataset/points.csv", delimiter=",", skiprows=1)
x, y = data[:, 0], data[:, 1]
w, b = 0.0, 0.0
for epoch in range(1, a.epochs + 1):
    pred = w * x + b
    loss = float(np.mean((pred - y) ** 2))
    w -= a.lr * float(np.mean(2 * (pred - y) * x))
    b -= a.lr * float(np.mean(2 * (pred - y)))
    print(f"epoch {epoch} loss {loss:.6f}", flush=True)
np.save("/output/weights.npy", np.array([w, b]))
try:
    open("/dataset/scribble.txt", "w")
    print("dataset is writable")
except OSError:
    print("dataset is read-only")
print(f"saved w={w:.3f} b={b:.3f}")
`;

import { makeWorkspace } from "../helpers/factories";
import { STORE_TARGETS } from "../helpers/stores";

function csv(): string {
  const rows = ["x,y"];
  for (let i = 0; i < 200; i++) {
    const x = i / 100;
    rows.push(`${x.toFixed(3)},${(3 * x + 2 + Math.sin(i) * 0.05).toFixed(4)}`);
  }
  return `${rows.join("\n")}\n`;
}

describe.each(STORE_TARGETS)("end-to-end training on %s", (target) => {
  let m: TestMaster;
  let alice: string;
  const image = pythonImage;

  beforeAll(async () => {
    m = await startTestMaster(target, { schedulerBackstopSeconds: 0.2 }, { scheduler: true });
    const root = await m.rootToken();
    alice = await m.userWithToken("alice");
    const w = testWorkers()[1];
    if (!w) throw new Error("no worker");
    await attachWorker(m, root, w, "gpu-a100");
    await makeWorkspace(m, root, "ml", { users: ["alice"] });
  });
  afterAll(() => m.close());

  test("a user trains a model on an uploaded CSV and gets its log and weights", async () => {
    expect(
      (
        await m.json("POST", "/api/workspaces/ml/datasets", {
          token: alice,
          body: { name: "points", access: "read-only" },
        })
      ).status,
    ).toBe(201);
    const data = multipart([{ name: "points.csv", data: csv() }]);
    const up = await m.request("POST", "/api/workspaces/ml/datasets/points/files", {
      token: alice,
      raw: data.body,
      headers: { "content-type": data.contentType },
    });
    expect(up.status).toBe(201);
    const tr = await m.json("POST", "/api/workspaces/ml/trainings", {
      token: alice,
      body: { name: "linreg", type: "advanced", gpus: 1, access: "private", image: image() },
    });
    expect(tr.status).toBe(201);
    const code = multipart([{ name: "train.py", data: TRAIN_PY }]);
    const upCode = await m.request("POST", "/api/workspaces/ml/trainings/linreg/files", {
      token: alice,
      raw: code.body,
      headers: { "content-type": code.contentType },
    });
    expect(upCode.status).toBe(201);

    const submit = await m.json("POST", "/api/workspaces/ml/trainings/linreg/jobs", {
      token: alice,
      body: {
        name: "fit",
        dataset: "points",
        command: "python3 /code/train.py",
        parameterSets: [{ epochs: 8, lr: 0.3 }],
      },
    });
    expect(submit.status).toBe(201);
    const id = submit.body.items[0].id as string;

    // Follow live from the start until the job ends.
    const sse = await m.request("GET", `/api/jobs/${id}/log?follow=1`, { token: alice });
    const reader = (sse.body as ReadableStream<Uint8Array>).getReader();
    let stream = "";
    const deadline = Date.now() + 90_000;
    while (!stream.includes("event: end") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      stream += new TextDecoder().decode(value);
    }
    const job = (await m.json("GET", `/api/jobs/${id}`, { token: alice })).body;
    expect(job.status).toBe("succeeded");
    expect(job.exitCode).toBe(0);

    const log = await (await m.request("GET", `/api/jobs/${id}/log`, { token: alice })).text();
    const epochs = log.split("\n").filter((l) => /^epoch \d+ loss [\d.]+$/.test(l));
    expect(epochs.map((l) => l.split(" ")[1])).toEqual(["1", "2", "3", "4", "5", "6", "7", "8"]);
    const losses = epochs.map((l) => Number(l.split(" ")[3]));
    expect(losses[7] as number).toBeLessThan(losses[0] as number);
    for (const line of epochs) expect(stream).toContain(`data: ${line}\n`);
    expect(stream).toContain("data: saved w=");
    expect(log).toContain("dataset is read-only");
    expect(stream).toContain('"status":"succeeded"');

    const weights = join(m.config.dataDir, "workspaces/ml/trainings/linreg/jobs", id, "output/weights.npy");
    expect(existsSync(weights)).toBe(true);
    const bytes = new Uint8Array(await Bun.file(weights).arrayBuffer());
    expect(new TextDecoder().decode(bytes.slice(1, 6))).toBe("NUMPY");
  }, 120_000);
});
