// bun run bench:stage — staging a 1 GiB dataset of 1,000 files to the worker that does not share
// the master's filesystem (test/harness/stage-worker.sh, 127.0.0.4): the first run (everything
// moves, over the node's one SSH connection) against OpenSSH's `scp -r` of the same tree to the
// same sshd, and a second run (the dataset is in the node's cache). Needs the test harness
// (started if missing).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { $ } from "bun";
import { stageMounts } from "../src/jobs/staging/stageIn";
import { stagingStats } from "../src/jobs/staging/state";
import { dataLayout } from "../src/lib/layout";
import { toAddress } from "../src/nodes/service";
import { startTestMaster } from "../test/helpers/testMaster";
import { attachWorker } from "../test/helpers/workers";
import { benchLine } from "./lib";

const FILES = Number(process.env.BENCH_STAGE_FILES ?? 1000);
const TOTAL_MIB = Number(process.env.BENCH_STAGE_MIB ?? 1024);
const state = process.env.HANGAR_TEST_STATE ?? "/tmp/hangar-test";
await $`bash test/harness/up.sh && bash test/harness/extras.sh && bash test/harness/stage-worker.sh`.quiet();
for (const file of ["env", "env.extras"]) {
  const text = await Bun.file(`${state}/${file}`).text();
  for (const m of text.matchAll(/^export (\w+)="(.*)"$/gm)) process.env[m[1] as string] = m[2];
}
const ip = process.env.HANGAR_TEST_STAGED_WORKER as string;
const port = Number(process.env.HANGAR_TEST_WORKER_PORT ?? 22);
const run = crypto.randomUUID().slice(0, 8);
const cache = `${process.env.HANGAR_TEST_STAGED_CACHE}/bench-${run}`;
const scpDest = `${process.env.HANGAR_TEST_STAGED_CACHE}/bench-scp-${run}`;

const m = await startTestMaster("sqlite", { stageCacheDir: cache });
let nodeAddress: ReturnType<typeof toAddress> | null = null;
try {
  const root = await m.rootToken();
  const w = { ip, port, authorizedKeys: join(state, "workers", ip, "authorized_keys") };
  const nodeId = await attachWorker(m, root, w, "bench-staged", {
    dockerSocket: process.env.HANGAR_TEST_STAGED_DOCKER_SOCKET,
  });
  const [row] = (await m.deps.store.db.select().from(m.deps.store.t.nodes)).filter((n) => n.id === nodeId);
  if (row?.storage !== "staged") throw new Error(`node is ${row?.storage}, not staged`);
  nodeAddress = toAddress(row);

  // The dataset, straight into the master's data dir: FILES files in 10 folders.
  const layout = dataLayout(m.config.dataDir);
  const ds = layout.dataset("bench", "big");
  mkdirSync(layout.code("bench", "t"), { recursive: true });
  const perFile = Math.floor((TOTAL_MIB * 1024) / FILES);
  const make = Bun.spawn(
    [
      "bash",
      "-c",
      `set -e; mkdir -p "$1" && cd "$1"; head -c ${TOTAL_MIB}M /dev/urandom | split -a 5 -d -b ${perFile}K - chunk-
      i=0; for f in chunk-*; do mkdir -p part-$((i % 10)); mv "$f" "part-$((i % 10))/$f.bin"; i=$((i + 1)); done`,
      "make-dataset",
      ds,
    ],
    { stderr: "inherit" },
  );
  if ((await make.exited) !== 0) throw new Error("could not write the dataset");
  const count = Number((await $`find ${ds} -type f | wc -l`.text()).trim());
  const bytes = Number(
    (await $`find ${ds} -type f -printf '%s\n'`.text())
      .trim()
      .split("\n")
      .reduce((a, b) => a + Number(b), 0),
  );
  console.log(`dataset: ${count} files, ${(bytes / 2 ** 20).toFixed(0)} MiB in ${ds}`);

  const sources = (jobId: string) => ({
    job: { id: jobId, workspace: "bench", kind: "run" },
    training: "t",
    dataset: { name: "big", readOnly: true },
    builtinModel: null,
    servedJobId: null,
  });
  const stage = async (jobId: string) => {
    const t0 = performance.now();
    await stageMounts(m.deps, { id: jobId }, nodeId, sources(jobId), () => {});
    const seconds = (performance.now() - t0) / 1000;
    const stat = stagingStats(m.deps, jobId).find((s) => s.target === "/dataset");
    return { seconds, stat };
  };

  // OpenSSH scp of the same tree to the same sshd (into the worker's namespace, like our cache).
  const key = process.env.HANGAR_TEST_CLIENT_KEY as string;
  const t1 = performance.now();
  await $`scp -r -q -i ${key} -P ${port} -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR ${ds} root@${ip}:${scpDest}`;
  const scpSeconds = (performance.now() - t1) / 1000;

  const first = await stage("bench-1");
  const second = await stage("bench-2");
  if (first.stat?.bytes !== bytes) throw new Error(`first run moved ${first.stat?.bytes} bytes, not ${bytes}`);
  if (!second.stat?.cached || second.stat.bytes !== 0) throw new Error("the second run was not served from the cache");

  const mibs = (s: number) => (bytes / 2 ** 20 / s).toFixed(0);
  console.log(`scp -r of the same tree: ${scpSeconds.toFixed(2)} s = ${mibs(scpSeconds)} MiB/s`);
  console.log(
    `first staging (${first.stat.files} files, ${first.stat.bytes} bytes moved): ${first.seconds.toFixed(2)} s = ${mibs(first.seconds)} MiB/s`,
  );
  console.log(
    `second staging (cached, ${second.stat.bytes} bytes moved): ${second.seconds.toFixed(3)} s (goal <= 1 s)`,
  );
  console.log(benchLine("stage-ratio", first.seconds / scpSeconds, "<=1.2"));
} finally {
  if (nodeAddress) await m.deps.nodes.run(nodeAddress, `rm -rf '${cache}' '${scpDest}'`, 120_000).catch(() => {});
  await m.close();
}
