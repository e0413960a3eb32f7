import { describe, expect, test } from "bun:test";
import { gpuSummary, kindBySpeed, parseNvidiaSmiCsv, parseProbeOutput } from "../../src/nodes/facts";
import { PROBE_SCRIPT } from "../../src/nodes/probeScript";

const section = (name: string, body: string, exit = 0) =>
  `@@hangar:${name}@@\n${body}\n@@hangar:${name}:exit=${exit}@@\n`;

const H100 = Array.from(
  { length: 8 },
  (_, i) => `${i}, GPU-${String(i).repeat(8)}-1a2b-3c4d-5e6f-0123456789ab, NVIDIA H100 80GB HBM3, 81559`,
).join("\n");

const ipJson = JSON.stringify([
  { ifname: "lo", operstate: "UNKNOWN", link_type: "loopback", addr_info: [{ local: "127.0.0.1", prefixlen: 8 }] },
  {
    ifname: "eno1",
    operstate: "UP",
    link_type: "ether",
    address: "3c:ec:ef:00:00:01",
    addr_info: [{ local: "10.0.0.11", prefixlen: 24 }],
  },
  {
    ifname: "ens2f0",
    operstate: "UP",
    link_type: "ether",
    address: "3c:ec:ef:00:00:02",
    addr_info: [{ local: "10.1.0.11", prefixlen: 24 }],
  },
  {
    ifname: "ibp65s0",
    operstate: "UP",
    link_type: "infiniband",
    address: "00:00:10:29",
    addr_info: [{ local: "10.2.0.11", prefixlen: 24 }],
  },
  {
    ifname: "docker0",
    operstate: "DOWN",
    link_type: "ether",
    address: "02:42:00:00:00:01",
    addr_info: [{ local: "172.17.0.1", prefixlen: 16 }],
  },
]);

const gpuServer = [
  section("hostname", "dgx-01"),
  section("ip", ipJson),
  section("links", "lo\t\t772\t0\neno1\t1000\t1\t1\nens2f0\t10000\t1\t1\nibp65s0\t\t32\t1\ndocker0\t\t1\t0"),
  section("infiniband", "mlx5_0\t100 Gb/sec (4X EDR)\t4: ACTIVE\tInfiniBand\tibp65s0,"),
  section("cpus", "128"),
  section("meminfo", "MemTotal:       2113401740 kB"),
  section("docker", "27.3.1"),
  section(
    "runtimes",
    '{"io.containerd.runc.v2":{"path":"runc"},"nvidia":{"path":"nvidia-container-runtime"},"runc":{"path":"runc"}}',
  ),
  section("gpus", H100),
].join("");

describe("probe output", () => {
  test("a GPU server with 1 GbE, 10 GbE and InfiniBand and 8× H100", () => {
    const f = parseProbeOutput(gpuServer);
    expect(f.hostname).toBe("dgx-01");
    expect(f.interfaces.map((i) => [i.name, i.kind, i.speedMbps])).toEqual([
      ["eno1", "1GbE", 1000],
      ["ens2f0", "10GbE", 10000],
      ["ibp65s0", "InfiniBand", 100000],
      ["docker0", "virtual", null],
    ]);
    expect(f.interfaces[0]).toMatchObject({ addresses: ["10.0.0.11/24"], up: true, mac: "3c:ec:ef:00:00:01" });
    expect(f.gpus).toHaveLength(8);
    expect(gpuSummary(f.gpus)).toBe("NVIDIA H100 80GB HBM3 x 8");
    expect(f).toMatchObject({
      cpus: 128,
      memoryMiB: 2063869,
      dockerVersion: "27.3.1",
      nvidiaRuntime: true,
      gpuError: null,
      gpuToolMissing: false,
    });
    expect(f.warnings).toEqual([]);
  });

  test("nvidia-smi missing: no GPUs, not an error", () => {
    const f = parseProbeOutput(
      gpuServer.replace(section("gpus", H100), section("gpus", "sh: 1: nvidia-smi: not found", 127)),
    );
    expect(f).toMatchObject({ gpus: [], gpuToolMissing: true, gpuError: null });
  });

  test("nvidia-smi failing (driver not loaded) is reported with its message", () => {
    const msg = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.";
    const f = parseProbeOutput(gpuServer.replace(section("gpus", H100), section("gpus", msg, 9)));
    expect(f.gpuError).toBe(msg);
    expect(f.gpus).toEqual([]);
  });

  test("Docker daemon down: no version, the client's message kept", () => {
    const msg = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?";
    const f = parseProbeOutput(gpuServer.replace(section("docker", "27.3.1"), section("docker", `27.3.1\n${msg}`, 1)));
    expect(f.dockerVersion).toBeNull();
    expect(f.dockerError).toContain("Cannot connect to the Docker daemon");
  });

  test("empty or garbage output does not throw", () => {
    expect(parseProbeOutput("").warnings[0]).toContain("nothing readable");
    expect(parseProbeOutput("garbage\n@@hangar:ip@@\nnot json\n@@hangar:ip:exit=0@@\n").warnings).toContain(
      "could not read `ip -j addr`; interfaces from /sys only",
    );
  });

  test("the probe script runs here and reads this machine", async () => {
    const p = Bun.spawn(["sh", "-c", PROBE_SCRIPT], { stdout: "pipe" });
    const f = parseProbeOutput(await new Response(p.stdout).text());
    expect(f.hostname).toBe((await Bun.$`hostname`.text()).trim());
    expect(f.cpus).toBe(Number((await Bun.$`nproc`.text()).trim()));
    expect(f.memoryMiB).toBeGreaterThan(100);
    expect(f.interfaces.some((i) => i.name === "lo")).toBe(false);
  });
});

describe("nvidia-smi CSV", () => {
  test("mixed cards, commas in names and malformed lines", () => {
    const warnings: string[] = [];
    const gpus = parseNvidiaSmiCsv(
      [
        "0, GPU-5c1e8a5e-0c8f-2b6e-3f9a-0d1e2f3a4b5c, NVIDIA A100-SXM4-80GB, 81920",
        "1, GPU-6d2f9b6f-1d90-3c7f-4a0b-1e2f3a4b5c6d, NVIDIA GeForce GTX 1080 Ti, 11264",
        "2, GPU-7e3a0c70-2ea1-4d80-5b1c-2f3a4b5c6d7e, NVIDIA A100-SXM4-80GB, 81920",
        "this is not a gpu line",
        "3, not-a-uuid, X, 1",
        "",
      ].join("\n"),
      warnings,
    );
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2]);
    expect(gpuSummary(gpus)).toBe("NVIDIA A100-SXM4-80GB x 2, NVIDIA GeForce GTX 1080 Ti x 1");
    expect(warnings).toHaveLength(2);
    expect(gpuSummary([])).toBe("no GPU");
  });

  test.each([
    [100, "1GbE"],
    [1000, "1GbE"],
    [10000, "10GbE"],
    [25000, "25GbE"],
    [40000, "40GbE"],
    [100000, "100GbE"],
    [null, "unknown"],
  ] as const)("speed %p → %p", (speed, kind) => {
    expect(kindBySpeed(speed)).toBe(kind);
  });
});
