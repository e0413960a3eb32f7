// bun run bench:ssh — throughput of copying a 256 MB file with OpenSSH's scp into a running
// job's /code through the master's SSH gateway, against scp to a plain sshd (a worker stand-in)
// on the same machine, in the same run. Needs the test harness (started if missing).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";
import { makeRandomFile } from "../test/helpers/largeUpload";
import { keyPair, SSH_OPTS } from "../test/helpers/ssh";
import { startTestMaster } from "../test/helpers/testMaster";
import { authorize, testWorkers } from "../test/helpers/workers";
import { benchLine, median } from "./lib";

const MIB = Number(process.env.BENCH_SSH_MIB ?? 256);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
await $`bash test/harness/up.sh`.quiet();
const envText = await Bun.file(`${process.env.HANGAR_TEST_STATE ?? "/tmp/hangar-test"}/env`).text();
for (const m of envText.matchAll(/^export (\w+)="(.*)"$/gm)) process.env[m[1] as string] = m[2];
const [w1, w2] = testWorkers();
if (!w1 || !w2) throw new Error("needs two worker stand-ins");

const dir = mkdtempSync(join(tmpdir(), "hangar-bench-ssh-"));
const file = join(dir, "blob.bin");
await makeRandomFile(file, MIB);
const { pub } = await keyPair(dir, "key");
const opts = SSH_OPTS;
const m = await startTestMaster("sqlite", { schedulerBackstopSeconds: 0.2, sshHost: "127.0.0.1" }, { scheduler: true });
try {
  const root = await m.rootToken();
  const alice = await m.userWithToken("alice");
  await m.json("PUT", "/api/me/ssh-key", { token: alice, body: { publicKey: pub } });
  authorize(w1, m.deps.masterKey.publicKey);
  authorize(w2, pub);
  const node = await m.json("POST", "/api/nodes", {
    token: root,
    body: { ip: w1.ip, sshPort: w1.port, name: "bench" },
  });
  await m.json("POST", `/api/nodes/${node.body.id}/connect`, { token: root });
  const period = { startsAt: "2020-01-01T00:00:00Z", endsAt: "2099-01-01T00:00:00Z" };
  await m.json("POST", "/api/workspaces", {
    token: root,
    body: { name: "b", ...period, trainingGpus: 1, deploymentGpus: 0, manager: "root", users: ["alice"] },
  });
  await m.json("POST", "/api/workspaces/b/trainings", {
    token: alice,
    body: { name: "t", type: "advanced", gpus: 1, access: "public" },
  });
  const image = process.env.HANGAR_TEST_IMAGE as string;
  const job = await m.json("POST", "/api/workspaces/b/trainings/t/jobs", {
    token: alice,
    body: { name: "j", image, command: "sleep 3600" },
  });
  let port = 0;
  for (let i = 0; i < 200 && !port; i++) {
    port = (await m.json("GET", `/api/jobs/${job.body.items[0].id}`, { token: alice })).body.sshPort ?? 0;
    if (!port) await Bun.sleep(100);
  }
  if (!port) throw new Error("no gateway port");
  const scp = async (args: string[]) => {
    const t0 = performance.now();
    const r = await $`scp ${opts} -i ${join(dir, "key")} ${args}`.quiet().nothrow();
    if (r.exitCode !== 0)
      throw new Error(`scp ${args.join(" ")} failed (${r.exitCode}): ${r.stderr.toString()}${r.stdout.toString()}`);
    return (performance.now() - t0) / 1000;
  };
  const viaGateway = () => scp(["-P", String(port), file, "alice@127.0.0.1:/code/blob.bin"]);
  const plain = () => scp(["-P", String(w2.port), file, `root@${w2.ip}:${join(dir, "plain.bin")}`]);
  await viaGateway();
  await plain();
  const g: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    g.push(MIB / (await viaGateway()));
    p.push(MIB / (await plain()));
  }
  const a = median(g);
  const b = median(p);
  console.log(
    `scp ${MIB} MiB through the gateway into a job's /code: median ${a.toFixed(0)} MiB/s (${g.map((x) => x.toFixed(0)).join(" ")})`,
  );
  console.log(
    `scp ${MIB} MiB to a plain sshd on this machine:         median ${b.toFixed(0)} MiB/s (${p.map((x) => x.toFixed(0)).join(" ")})`,
  );
  console.log(`ratio ${(a / b).toFixed(3)} over ${ROUNDS} alternating rounds`);
  console.log(benchLine("ssh-ratio", a / b, ">=0.5"));
} finally {
  await m.close();
  rmSync(dir, { recursive: true, force: true });
}
