// MPS for fractional GPUs (src/nodes/mps.ts, mpsDaemons.ts): the daemon commands, run by a real
// sh against a stand-in nvidia-cuda-mps-control that behaves like the real one's control pipe
// (no GPU here); the container additions through to Docker's options; which daemons start and
// stop as fractional jobs come and go.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildCreateOptions } from "../../src/executor/dockerOptions";
import { jobContainers } from "../../src/jobs/spec";
import type { NodeAddress } from "../../src/nodes/manager";
import {
  fractionalGpus,
  MPS_PIPE_IN_CONTAINER,
  MPS_ROOT,
  mpsDirs,
  mpsEnv,
  mpsStartScript,
  mpsStopScript,
  withMps,
} from "../../src/nodes/mps";
import { MpsDaemons } from "../../src/nodes/mpsDaemons";

const UUID = `GPU-test-${process.pid}-${Date.now().toString(36)}`;
const address: NodeAddress = {
  id: "n1",
  ip: "10.0.0.1",
  sshPort: 22,
  sshUser: "root",
  hostKeyFingerprint: null,
  dockerSocket: "/var/run/docker.sock",
};

/** A stand-in for nvidia-cuda-mps-control: -d makes the control pipe; quit removes it; each call is logged with its env. */
function fakeTool(dir: string): { path: string; calls: () => string[] } {
  const log = join(dir, "calls.log");
  const tool = join(dir, "nvidia-cuda-mps-control");
  writeFileSync(
    tool,
    `#!/bin/sh
if [ "$1" = "-d" ]; then
  echo "start dev=$CUDA_VISIBLE_DEVICES pipe=$CUDA_MPS_PIPE_DIRECTORY log=$CUDA_MPS_LOG_DIRECTORY" >> ${log}
  : > "$CUDA_MPS_PIPE_DIRECTORY/control"; exit 0
fi
read cmd
echo "$cmd pipe=$CUDA_MPS_PIPE_DIRECTORY" >> ${log}
[ -e "$CUDA_MPS_PIPE_DIRECTORY/control" ] || exit 1
[ "$cmd" = quit ] && rm -f "$CUDA_MPS_PIPE_DIRECTORY/control"
exit 0
`,
  );
  chmodSync(tool, 0o755);
  return { path: dir, calls: () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []) };
}

async function sh(script: string, path: string): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn(["sh", "-c", script], {
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: `${path}:/usr/bin:/bin` },
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, output: out + err };
}

describe("MPS daemon commands", () => {
  const dir = mkdtempSync(join(tmpdir(), "hangar-mps-"));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(MPS_ROOT, UUID), { recursive: true, force: true });
  });

  test("per-GPU directories and environment", () => {
    expect(mpsDirs("GPU-abc-1")).toEqual({
      pipe: `${MPS_ROOT}/GPU-abc-1/pipe`,
      log: `${MPS_ROOT}/GPU-abc-1/log`,
    });
    expect(mpsEnv("GPU-abc-1")).toEqual({
      CUDA_VISIBLE_DEVICES: "GPU-abc-1",
      CUDA_MPS_PIPE_DIRECTORY: `${MPS_ROOT}/GPU-abc-1/pipe`,
      CUDA_MPS_LOG_DIRECTORY: `${MPS_ROOT}/GPU-abc-1/log`,
    });
    expect(() => mpsDirs("GPU-1; rm -rf /")).toThrow("not a GPU UUID");
    expect(mpsStartScript("GPU-abc-1")).toContain("nvidia-cuda-mps-control -d");
    expect(mpsStopScript("GPU-abc-1")).toContain("echo quit | ctl");
  });

  test("start runs the daemon for the GPU once; stop quits it; both are idempotent", async () => {
    const tool = fakeTool(dir);
    const { pipe, log } = mpsDirs(UUID);
    const first = await sh(mpsStartScript(UUID), tool.path);
    expect(first).toEqual({ code: 0, output: "started\n" });
    expect(existsSync(`${pipe}/control`) && existsSync(log)).toBe(true);
    expect(tool.calls()).toEqual([`start dev=${UUID} pipe=${pipe} log=${log}`]);
    // A second start finds it answering: no second daemon.
    expect(await sh(mpsStartScript(UUID), tool.path)).toEqual({ code: 0, output: "running\n" });
    expect(tool.calls().filter((c) => c.startsWith("start"))).toHaveLength(1);
    expect(await sh(mpsStopScript(UUID), tool.path)).toMatchObject({ code: 0 });
    expect(existsSync(`${pipe}/control`)).toBe(false);
    expect(tool.calls().at(-1)).toBe(`quit pipe=${pipe}`);
    expect(await sh(mpsStopScript(UUID), tool.path)).toEqual({ code: 0, output: "not running\n" });
  });

  test("a node without the tool: exit 127", async () => {
    const empty = mkdtempSync(join(tmpdir(), "hangar-mps-none-"));
    const r = await sh(mpsStartScript(UUID), empty);
    rmSync(empty, { recursive: true, force: true });
    expect(r).toEqual({ code: 127, output: "nvidia-cuda-mps-control: command not found\n" });
  });
});

describe("MPS in the container spec", () => {
  test("a fractional job's container mounts the GPU's pipe directory and shares the host's IPC", () => {
    const [spec] = jobContainers(
      { id: "j1", image: "img", command: "python3 t.py", parameters: {}, gpuOptions: [], mounts: [] },
      [{ nodeId: "a", gpuUuids: ["GPU-a0"], fraction: 0.5 }],
      { a: { address: "10.0.0.1", dataInterface: null, infinibandInterface: null, gpuMemoryMiB: { "GPU-a0": 40960 } } },
    );
    const mps = withMps(spec as NonNullable<typeof spec>, "GPU-a0");
    expect(mps.env).toMatchObject({
      CUDA_MPS_PIPE_DIRECTORY: MPS_PIPE_IN_CONTAINER,
      CUDA_MPS_ACTIVE_THREAD_PERCENTAGE: "50",
      CUDA_MPS_PINNED_DEVICE_MEM_LIMIT: "0=20480M",
    });
    const { options } = buildCreateOptions(mps, { nvidiaRuntime: true });
    expect(options.HostConfig?.Binds).toContain(`${MPS_ROOT}/GPU-a0/pipe:${MPS_PIPE_IN_CONTAINER}`);
    expect(options.HostConfig?.IpcMode).toBe("host");
    expect(options.HostConfig?.DeviceRequests).toEqual([
      { Driver: "nvidia", DeviceIDs: ["GPU-a0"], Capabilities: [["gpu"]] },
    ]);
    // Without MPS: the container's own IPC namespace.
    expect(
      buildCreateOptions(spec as NonNullable<typeof spec>, { nvidiaRuntime: true }).options.HostConfig?.IpcMode,
    ).toBeUndefined();
  });

  test("only fractional assignments need a daemon", () => {
    expect(
      fractionalGpus([
        { nodeId: "a", gpuUuids: ["GPU-a0", "GPU-a1"] },
        { nodeId: "b", gpuUuids: ["GPU-b0"], fraction: 0.25 },
      ]),
    ).toEqual([{ nodeId: "b", uuid: "GPU-b0" }]);
  });
});

describe("MPS daemons as fractional jobs come and go", () => {
  const scripted = (codes: { start?: number; stop?: number } = {}) => {
    const calls: string[] = [];
    const daemons = new MpsDaemons(async (a, script) => {
      const uuid = /hangar-mps\/([^/]+)\//.exec(script)?.[1];
      const kind = script.includes("-d 2>&1") ? "start" : "stop";
      calls.push(`${kind} ${a.id} ${uuid}`);
      const code = codes[kind] ?? 0;
      return { code, output: code === 0 ? (kind === "start" ? "started\n" : "") : "boom" };
    });
    return { daemons, calls };
  };

  test("started with the first job on a GPU, stopped when the last one is gone", async () => {
    const { daemons, calls } = scripted();
    const gpu = { nodeId: "n1", uuid: "GPU-1" };
    expect(await daemons.ensure("j1", gpu, address)).toEqual({ enforced: true, started: true });
    await daemons.ensure("j2", gpu, address);
    expect(daemons.running()).toEqual([{ nodeId: "n1", uuid: "GPU-1", jobs: ["j1", "j2"] }]);
    expect(await daemons.release(new Set(["j2"]), daemons.mark())).toEqual([]);
    expect(await daemons.release(new Set(), daemons.mark())).toEqual([gpu]);
    expect(daemons.running()).toEqual([]);
    expect(calls).toEqual(["start n1 GPU-1", "start n1 GPU-1", "stop n1 GPU-1"]);
  });

  test("a job started after the live jobs were read is kept", async () => {
    const { daemons } = scripted();
    const mark = daemons.mark();
    await daemons.ensure("new", { nodeId: "n1", uuid: "GPU-1" }, address);
    expect(await daemons.release(new Set(), mark)).toEqual([]);
    expect(daemons.running()[0]?.jobs).toEqual(["new"]);
  });

  test("no tool: not enforced, said; a failing start throws with the node's output", async () => {
    const missing = new MpsDaemons(async () => ({ code: 127, output: "nvidia-cuda-mps-control: command not found" }));
    const r = await missing.ensure("j1", { nodeId: "n1", uuid: "GPU-1" }, address);
    expect(r).toEqual({
      enforced: false,
      note: "node has no nvidia-cuda-mps-control: the fractional GPU limits of GPU-1 are not enforced",
    });
    expect(missing.running()).toEqual([]);
    const { daemons } = scripted({ start: 1 });
    await expect(daemons.ensure("j1", { nodeId: "n1", uuid: "GPU-1" }, address)).rejects.toThrow(
      "the MPS control daemon of GPU GPU-1 did not start: boom",
    );
  });

  test("a stop that fails is tried again on the next release", async () => {
    let stopCode = 1;
    const daemons = new MpsDaemons(async (_a, script) => ({
      code: script.includes("quit") ? stopCode : 0,
      output: "started",
    }));
    await daemons.ensure("j1", { nodeId: "n1", uuid: "GPU-1" }, address);
    expect(await daemons.release(new Set(), daemons.mark())).toEqual([]);
    expect(daemons.running()).toEqual([{ nodeId: "n1", uuid: "GPU-1", jobs: [] }]);
    stopCode = 0;
    expect(await daemons.release(new Set(), daemons.mark())).toEqual([{ nodeId: "n1", uuid: "GPU-1" }]);
  });
});
