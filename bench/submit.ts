// bun run bench:submit — median time from submitting a job (POST …/jobs) to its status
// `running`, through the real master (a separate process) placing it on a worker over SSH,
// against a bare `docker run -d` of the same image on the same engine, in the same run.
// Needs the test harness (started if missing).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";
import { client, spawnMaster } from "../test/helpers/processes";
import { authorize, testWorkers } from "../test/helpers/workers";
import { benchLine, median } from "./lib";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
await $`bash test/harness/up.sh`.quiet();
const envText = await Bun.file(`${process.env.HANGAR_TEST_STATE ?? "/tmp/hangar-test"}/env`).text();
for (const m of envText.matchAll(/^export (\w+)="(.*)"$/gm)) process.env[m[1] as string] = m[2];
const image = process.env.HANGAR_TEST_IMAGE as string;
const worker = testWorkers()[1] ?? testWorkers()[0];
if (!worker) throw new Error("no worker stand-in");

const dataDir = mkdtempSync(join(tmpdir(), "hangar-bench-submit-"));
const master = await spawnMaster({
  HANGAR_DATA_DIR: dataDir,
  HANGAR_ROOT_PASSWORD: "benchRoot1!",
  HANGAR_DEFAULT_IMAGE: image,
});
try {
  const api = client(master.url);
  const token = (await api("POST", "/api/auth/login", undefined, { userId: "root", password: "benchRoot1!" })).body
    .token;
  authorize(worker, (await api("GET", "/api/nodes/master-key", token)).body.publicKey);
  const node = await api("POST", "/api/nodes", token, { ip: worker.ip, sshPort: worker.port, name: "bench" });
  await api("POST", `/api/nodes/${node.body.id}/connect`, token);
  const period = { startsAt: "2020-01-01T00:00:00Z", endsAt: "2099-01-01T00:00:00Z" };
  await api("POST", "/api/workspaces", token, {
    name: "bench",
    ...period,
    trainingGpus: 1,
    deploymentGpus: 0,
    manager: "root",
  });
  await api("POST", "/api/workspaces/bench/trainings", token, {
    name: "t",
    type: "advanced",
    gpus: 1,
    access: "public",
  });

  const viaHangar = async () => {
    const t0 = performance.now();
    const res = await api("POST", "/api/workspaces/bench/trainings/t/jobs", token, {
      name: "b",
      image,
      command: "sleep 30",
    });
    const id = res.body.items[0].id as string;
    for (;;) {
      const j = (await api("GET", `/api/jobs/${id}`, token)).body;
      if (j.status === "running") break;
      if (j.status !== "pending" && j.status !== "starting")
        throw new Error(`job ${id} ${j.status}: ${j.statusReason}`);
      await Bun.sleep(5);
    }
    const ms = performance.now() - t0;
    await api("POST", `/api/jobs/${id}/cancel`, token);
    return ms;
  };
  const bare = async () => {
    const t0 = performance.now();
    const id = (await $`docker run -d ${image} sleep 30`.text()).trim();
    const ms = performance.now() - t0;
    await $`docker rm -f ${id}`.quiet();
    return ms;
  };
  await viaHangar();
  await bare();
  const ours: number[] = [];
  const anchor: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    ours.push(await viaHangar());
    anchor.push(await bare());
  }
  const a = median(ours);
  const b = median(anchor);
  console.log(
    `submit → running through Hangar (worker ${worker.ip} over SSH): median ${a.toFixed(1)} ms (${ours.map((x) => x.toFixed(0)).join(" ")})`,
  );
  console.log(
    `bare docker run -d:                                 median ${b.toFixed(1)} ms (${anchor.map((x) => x.toFixed(0)).join(" ")})`,
  );
  console.log(`ratio ${(a / b).toFixed(3)} over ${ROUNDS} alternating rounds`);
  console.log(benchLine("submit-ratio", a / b, "<=1.2"));
} finally {
  await master.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
