// bun run bench:upload — one 1 GiB file streamed to the real master over HTTP: the master's
// RSS growth during the upload (sampled from /proc) and MB/s against a plain `cp` of the same
// file in the same run.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeRandomFile, prepareUploads } from "../test/helpers/largeUpload";
import { spawnMaster } from "../test/helpers/processes";
import { benchLine } from "./lib";

const MIB = Number(process.env.BENCH_UPLOAD_MIB ?? 1024);
const dir = mkdtempSync(join(tmpdir(), "hangar-bench-upload-"));
const rssMiB = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) / 1024;
};

try {
  const source = join(dir, "blob.bin");
  await makeRandomFile(source, MIB);

  const t0 = performance.now();
  const cp = Bun.spawn(["cp", source, join(dir, "copy.bin")]);
  await cp.exited;
  const cpSeconds = (performance.now() - t0) / 1000;
  rmSync(join(dir, "copy.bin"));

  const master = await spawnMaster({ HANGAR_DATA_DIR: join(dir, "data"), HANGAR_ROOT_PASSWORD: "benchRoot1!" });
  try {
    const upload = await prepareUploads(master.url, "benchRoot1!");
    await upload("warmup.bin", join(import.meta.dir, "hello.ts"));
    Bun.gc(true);
    const pid = master.proc.pid;
    const baseline = rssMiB(pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMiB(pid));
    }, 20);
    const t1 = performance.now();
    const res = await upload("blob.bin", source);
    const upSeconds = (performance.now() - t1) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, rssMiB(pid));
    if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${JSON.stringify(res.body)}`);
    const growth = peak - baseline;
    console.log(`file: ${MIB} MiB`);
    console.log(`upload through the master: ${upSeconds.toFixed(2)} s = ${(MIB / upSeconds).toFixed(0)} MiB/s`);
    console.log(`plain cp of the same file: ${cpSeconds.toFixed(2)} s = ${(MIB / cpSeconds).toFixed(0)} MiB/s`);
    console.log(`speed ratio upload/cp: ${(cpSeconds / upSeconds).toFixed(2)}`);
    console.log(
      `master RSS: ${baseline.toFixed(0)} MiB before, ${peak.toFixed(0)} MiB peak, growth ${growth.toFixed(1)} MiB`,
    );
    console.log(benchLine("upload-rss-mb", growth, "<100"));
  } finally {
    await master.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
