// bun run bench:exec — median wall time to run the same short container (create, attach,
// start, wait for exit, remove) through the executor on a worker over SSH, against a bare
// `docker run --rm` of it on the same engine, in the same run. Needs the test harness
// (test/harness/up.sh: Docker, the busybox image, sshd workers); it is started if missing.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";
import { loadConfig } from "../src/config";
import { systemClock } from "../src/lib/clock";
import { silentLogger } from "../src/lib/logger";
import { NodeManager } from "../src/nodes/manager";
import { loadOrCreateMasterKey } from "../src/ssh/keys";
import { authorize, testWorkers } from "../test/helpers/workers";
import { benchLine, median } from "./lib";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);

await $`bash test/harness/up.sh`.quiet();
const env = await Bun.file(`${process.env.HANGAR_TEST_STATE ?? "/tmp/hangar-test"}/env`).text();
for (const m of env.matchAll(/^export (\w+)="(.*)"$/gm)) process.env[m[1] as string] = m[2];
const image = process.env.HANGAR_TEST_IMAGE as string;
const worker = testWorkers()[1] ?? testWorkers()[0];
if (!worker) throw new Error("no worker stand-in");

const dataDir = mkdtempSync(join(tmpdir(), "hangar-bench-exec-"));
const config = loadConfig({}, [], { dataDir });
const key = loadOrCreateMasterKey(dataDir);
authorize(worker, key.publicKey);
const nodes = new NodeManager(config, key, silentLogger, systemClock);
const address = {
  id: "bench-worker",
  ip: worker.ip,
  sshPort: worker.port,
  sshUser: "root",
  hostKeyFingerprint: null,
  dockerSocket: "/var/run/docker.sock",
};

try {
  const exec = await nodes.executor(address);
  const viaExecutor = async (i: number) => {
    const t0 = performance.now();
    const run = await exec.run({ name: `hangar-bench-exec-${process.pid}-${i}`, image, command: ["true"] });
    run.stdout.resume();
    run.stderr.resume();
    const { exitCode } = await run.wait();
    await exec.remove(run.id);
    if (exitCode !== 0) throw new Error(`exit ${exitCode}`);
    return performance.now() - t0;
  };
  const bare = async () => {
    const t0 = performance.now();
    await $`docker run --rm ${image} true`.quiet();
    return performance.now() - t0;
  };
  await viaExecutor(-1);
  await bare();
  const ours: number[] = [];
  const anchor: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    ours.push(await viaExecutor(i));
    anchor.push(await bare());
  }
  const a = median(ours);
  const b = median(anchor);
  console.log(
    `executor on worker ${worker.ip} over SSH: median ${a.toFixed(1)} ms  (all: ${ours.map((x) => x.toFixed(0)).join(" ")})`,
  );
  console.log(
    `bare docker run --rm:                median ${b.toFixed(1)} ms  (all: ${anchor.map((x) => x.toFixed(0)).join(" ")})`,
  );
  console.log(`ratio ${(a / b).toFixed(3)} over ${ROUNDS} alternating rounds`);
  console.log(benchLine("exec-ratio", a / b, "<=1.3"));
} finally {
  await nodes.close();
  rmSync(dataDir, { recursive: true, force: true });
}
