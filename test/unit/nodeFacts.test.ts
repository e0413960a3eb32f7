import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  gpuSummary,
  kindBySpeed,
  type NodeFacts,
  parseNvidiaSmiCsv,
  parseProbeOutput,
  splitSections,
} from "../../src/nodes/facts";
import { PROBE_SCRIPT, shCommand } from "../../src/nodes/probeScript";

const FIXTURES = join(import.meta.dir, "../fixtures/probe");
const fixture = (name: string) => readFileSync(join(FIXTURES, name), "utf8");
const ifaces = (f: NodeFacts) => f.interfaces.map((i) => [i.name, i.kind, i.speedMbps, i.up]);

describe("probe fixtures", () => {
  const cases: {
    file: string;
    facts: Partial<NodeFacts>;
    interfaces: ReturnType<typeof ifaces>;
    summary: string;
    warnings?: number;
  }[] = [
    {
      file: "gpu-server-h100.txt",
      facts: {
        hostname: "dgx-h100-01",
        cpus: 224,
        memoryMiB: 2063886,
        dockerVersion: "27.3.1",
        dockerError: null,
        nvidiaRuntime: true,
        gpuError: null,
        gpuToolMissing: false,
      },
      interfaces: [
        ["eno1", "1GbE", 1000, true],
        ["eno2", "unknown", null, false],
        ["enp26s0f0", "10GbE", 10000, true],
        ["ibp12s0", "InfiniBand", 100000, true],
        // A ConnectX port in Ethernet mode (RoCE) is Ethernet, by its speed.
        ["enp175s0np0", "100GbE", 100000, true],
        ["docker0", "virtual", null, true],
        ["veth3f2a1b0", "virtual", 10000, true],
      ],
      summary: "NVIDIA H100 80GB HBM3 x 8",
    },
    {
      file: "workstation-1080ti.txt",
      facts: { hostname: "ws-vision-03", cpus: 16, memoryMiB: 64239, dockerVersion: "20.10.21", nvidiaRuntime: false },
      interfaces: [
        ["enp4s0", "1GbE", 1000, true],
        ["wlp3s0", "unknown", null, false],
        ["docker0", "virtual", null, false],
        ["br-3f9c1a2b7d4e", "virtual", null, false],
      ],
      summary: "NVIDIA GeForce GTX 1080 Ti x 2",
    },
    {
      file: "cpu-only-old-iproute.txt",
      facts: { hostname: "store-02", cpus: 32, gpuToolMissing: true, gpuError: null, dockerVersion: "19.03.6" },
      interfaces: [
        ["eno1", "1GbE", 1000, true],
        ["enp3s0f0", "10GbE", 10000, true],
        ["enp3s0f1", "10GbE", 10000, true],
        ["bond0", "10GbE", 10000, true],
        ["docker0", "virtual", null, false],
      ],
      summary: "no GPU",
    },
    {
      file: "docker-down.txt",
      facts: {
        dockerVersion: null,
        dockerError:
          "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
        nvidiaRuntime: false,
        gpuError: null,
      },
      interfaces: [
        ["enp65s0f0", "1GbE", 1000, true],
        ["enp65s0f1", "25GbE", 25000, true],
      ],
      summary: "NVIDIA A100-SXM4-80GB x 4",
    },
    {
      file: "malformed-csv.txt",
      facts: { dockerVersion: "24.0.7", nvidiaRuntime: true, gpuError: null },
      interfaces: [
        ["enp65s0f0", "1GbE", 1000, true],
        ["enp65s0f1", "25GbE", 25000, true],
      ],
      summary: "NVIDIA A100-SXM4-40GB x 3",
      warnings: 3,
    },
    {
      file: "driver-mismatch.txt",
      facts: {
        gpus: [],
        gpuToolMissing: false,
        gpuError: "Failed to initialize NVML: Driver/library version mismatch NVML library version: 535.183",
      },
      interfaces: [
        ["enp65s0f0", "1GbE", 1000, true],
        ["enp65s0f1", "25GbE", 25000, true],
      ],
      summary: "no GPU",
    },
  ];

  test.each(cases)("$file", ({ file, facts, interfaces, summary, warnings = 0 }) => {
    const f = parseProbeOutput(fixture(file));
    expect(f).toMatchObject(facts);
    expect(ifaces(f)).toEqual(interfaces);
    expect(gpuSummary(f.gpus)).toBe(summary);
    expect(f.warnings).toHaveLength(warnings);
  });

  test("addresses and MACs, from `ip -j` and from `ip -o`", () => {
    const server = parseProbeOutput(fixture("gpu-server-h100.txt"));
    expect(server.interfaces[0]).toMatchObject({
      addresses: ["10.10.0.21/24", "fe80::3eec:efff:fea1:b201/64"],
      mac: "3c:ec:ef:a1:b2:01",
    });
    expect(server.interfaces.find((i) => i.name === "ibp12s0")?.addresses).toEqual(["10.30.0.21/24"]);
    const old = parseProbeOutput(fixture("cpu-only-old-iproute.txt"));
    expect(old.interfaces.find((i) => i.name === "bond0")).toMatchObject({
      addresses: ["10.20.0.40/24", "fe80::92e2:baff:fe8f:1240/64"],
      mac: "90:e2:ba:8f:12:40",
    });
    expect(old.interfaces.find((i) => i.name === "enp3s0f0")?.addresses).toEqual([]);
  });

  test("GPUs of the H100 server", () => {
    const { gpus } = parseProbeOutput(fixture("gpu-server-h100.txt"));
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(gpus[0]).toEqual({
      index: 0,
      uuid: "GPU-2162f7bd-bd23-40bf-a064-5f9b1bd2c5e7",
      name: "NVIDIA H100 80GB HBM3",
      memoryMiB: 81559,
    });
  });

  test("malformed nvidia-smi lines are skipped with a warning each", () => {
    const f = parseProbeOutput(fixture("malformed-csv.txt"));
    expect(f.gpus.map((g) => g.index)).toEqual([0, 1, 4]);
    expect(f.warnings.every((w) => w.startsWith("unreadable nvidia-smi line: "))).toBe(true);
    expect(f.warnings[0]).toContain("infoROM is corrupted");
  });
});

describe("probe output edge cases", () => {
  const server = fixture("gpu-server-h100.txt");
  const replaceSection = (text: string, name: string, body: string, exit: number) =>
    text.replace(
      new RegExp(`@@hangar:${name}@@\\n[\\s\\S]*?@@hangar:${name}:exit=\\d+@@`),
      `@@hangar:${name}@@\n${body}\n@@hangar:${name}:exit=${exit}@@`,
    );

  test.each([
    [9, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", "NVIDIA-SMI has failed"],
    [6, "No devices were found", "No devices were found"],
    [124, "", "nvidia-smi timed out"],
    [255, "", "nvidia-smi exited with 255"],
  ])("nvidia-smi exit %p is a GPU error", (exit, body, error) => {
    const f = parseProbeOutput(replaceSection(server, "gpus", body, exit));
    expect(f.gpus).toEqual([]);
    expect(f.gpuToolMissing).toBe(false);
    expect(f.gpuError).toStartWith(error);
  });

  test("docker not installed, or not allowed", () => {
    const missing = parseProbeOutput(replaceSection(server, "docker", "docker: command not found", 127));
    expect(missing).toMatchObject({
      dockerVersion: null,
      dockerError: "docker: command not found",
      nvidiaRuntime: false,
    });
    const denied =
      "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get " +
      '"http://%2Fvar%2Frun%2Fdocker.sock/v1.24/version": dial unix /var/run/docker.sock: connect: permission denied';
    expect(parseProbeOutput(replaceSection(server, "docker", denied, 1)).dockerError).toBe(denied);
  });

  test("IB rate of the netdev's own port on a multi-port HCA", () => {
    const ports = [
      "mlx4_0\t1\t2.5 Gb/sec (1X SDR)\t1: DOWN\tInfiniBand\tib0:0,ibp12s0:1,",
      "mlx4_0\t2\t56 Gb/sec (4X FDR)\t4: ACTIVE\tInfiniBand\tib0:0,ibp12s0:1,",
    ];
    const f = parseProbeOutput(replaceSection(server, "infiniband", ports.join("\n"), 0));
    expect(f.interfaces.find((i) => i.name === "ibp12s0")?.speedMbps).toBe(56000);
    expect(f.warnings).toEqual([]);
  });

  test("an IB port without IPoIB is a warning, not an interface", () => {
    const f = parseProbeOutput(
      replaceSection(server, "infiniband", "mlx5_3\t1\t400 Gb/sec (4X NDR)\t4: ACTIVE\tInfiniBand\t", 0),
    );
    expect(f.warnings).toEqual(["InfiniBand port mlx5_3/1 has no network interface (no IPoIB)"]);
    // ibp12s0 is still InfiniBand by its link type; its speed is then unknown.
    expect(f.interfaces.find((i) => i.name === "ibp12s0")).toMatchObject({ kind: "InfiniBand", speedMbps: null });
  });

  test("no `ip` at all: interfaces from /sys, with a warning", () => {
    const f = parseProbeOutput(replaceSection(server, "ip", "ip: command not found\nip: command not found", 127));
    expect(f.interfaces.map((i) => [i.name, i.kind])).toEqual([
      ["docker0", "virtual"],
      ["eno1", "1GbE"],
      ["eno2", "unknown"],
      ["enp175s0np0", "100GbE"],
      ["enp26s0f0", "10GbE"],
      ["ibp12s0", "InfiniBand"],
      ["veth3f2a1b0", "virtual"],
    ]);
    expect(f.warnings).toEqual([
      "could not read `ip` (ip: command not found ip: command not found); interfaces from /sys only",
    ]);
  });

  test("a truncated probe says what it lacks", () => {
    const cut = server.slice(0, server.indexOf("@@hangar:docker@@"));
    const f = parseProbeOutput(cut);
    expect(f).toMatchObject({ hostname: "dgx-h100-01", cpus: 224, dockerVersion: null, gpuToolMissing: false });
    expect(f.dockerError).toBe("docker did not answer");
    expect(f.gpuError).toBe("the probe did not report GPUs");
    expect(f.warnings).toEqual([
      "the probe's docker section is missing",
      "the probe's runtimes section is missing",
      "the probe's gpus section is missing",
    ]);
  });

  test("CRLF line ends and a login banner around the sections", () => {
    const f = parseProbeOutput(`Last login: Mon\r\n${server.replaceAll("\n", "\r\n")}logout\r\n`);
    expect(f.hostname).toBe("dgx-h100-01");
    expect(f.gpus).toHaveLength(8);
  });

  test("empty or garbage output does not throw", () => {
    expect(parseProbeOutput("")).toMatchObject({ hostname: "", interfaces: [], gpus: [], cpus: 0, memoryMiB: 0 });
    expect(parseProbeOutput("").warnings).toEqual(["the probe printed nothing readable"]);
    const garbage = parseProbeOutput("@@hangar:ip@@\n[not json\n@@hangar:ip:exit=0@@\n@@hangar:runtimes@@\n{\n");
    expect(garbage.interfaces).toEqual([]);
    expect(garbage.warnings).toContain("could not read `ip` ([not json); interfaces from /sys only");
  });

  test("splitSections keeps empty bodies and exit codes", () => {
    const s = splitSections("@@hangar:a@@\n\n@@hangar:a:exit=0@@\n@@hangar:b@@\nx\ny\n@@hangar:b:exit=3@@\n");
    expect([...s]).toEqual([
      ["a", { body: "", exit: 0 }],
      ["b", { body: "x\ny", exit: 3 }],
    ]);
  });
});

describe("nvidia-smi CSV", () => {
  test("mixed cards, commas in names and malformed lines", () => {
    const { gpus, warnings } = parseNvidiaSmiCsv(
      [
        "0, GPU-5c1e8a5e-0c8f-2b6e-3f9a-0d1e2f3a4b5c, NVIDIA A100-SXM4-80GB, 81920",
        "1, GPU-6d2f9b6f-1d90-3c7f-4a0b-1e2f3a4b5c6d, NVIDIA GeForce GTX 1080 Ti, 11264",
        "2, GPU-7e3a0c70-2ea1-4d80-5b1c-2f3a4b5c6d7e, NVIDIA A100-SXM4-80GB, 81920",
        "3, GPU-8f4b1d81-3fb2-5e91-6c2d-3a4b5c6d7e8f, Some, Odd, Name, 4096",
        "this is not a gpu line",
        "4, not-a-uuid, X, 1",
        ", GPU-9a5c2e92-40c3-6fa2-7d3e-4b5c6d7e8f90, NVIDIA A100-SXM4-80GB, 81920",
        "",
      ].join("\n"),
    );
    expect(gpus.map((g) => [g.index, g.name])).toEqual([
      [0, "NVIDIA A100-SXM4-80GB"],
      [1, "NVIDIA GeForce GTX 1080 Ti"],
      [2, "NVIDIA A100-SXM4-80GB"],
      [3, "Some, Odd, Name"],
    ]);
    expect(gpuSummary(gpus.slice(0, 3))).toBe("NVIDIA A100-SXM4-80GB x 2, NVIDIA GeForce GTX 1080 Ti x 1");
    expect(warnings).toHaveLength(3);
    expect(gpuSummary([])).toBe("no GPU");
  });

  test.each([
    [100, "1GbE"],
    [1000, "1GbE"],
    [2500, "10GbE"],
    [10000, "10GbE"],
    [25000, "25GbE"],
    [40000, "40GbE"],
    [100000, "100GbE"],
    [400000, "100GbE"],
    [null, "unknown"],
  ] as const)("speed %p → %p", (speed, kind) => {
    expect(kindBySpeed(speed)).toBe(kind);
  });
});

describe("the probe script", () => {
  const runProbe = async (argv: string[], env: Record<string, string | undefined> = process.env) => {
    const p = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe", env });
    const [stdout, stderr, code] = await Promise.all([
      new Response(p.stdout).text(),
      new Response(p.stderr).text(),
      p.exited,
    ]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    return stdout;
  };
  const sh = async (cmd: string) => (await Bun.$`sh -c ${cmd}`.nothrow().quiet()).stdout.toString().trim();
  const readSys = (path: string) => {
    try {
      return readFileSync(path, "utf8").trim();
    } catch {
      return "";
    }
  };

  test("runs here and reads this machine", async () => {
    const f = parseProbeOutput(await runProbe(["sh", "-c", PROBE_SCRIPT]));
    expect(f.warnings).toEqual([]);
    expect(f.hostname).toBe(await sh("hostname"));
    expect(f.cpus).toBe(Number(await sh("nproc")));
    const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1]);
    expect(f.memoryMiB).toBe(Math.round(memKb / 1024));

    const names = readdirSync("/sys/class/net").filter((n) => n !== "lo");
    expect(f.interfaces.map((i) => i.name).sort()).toEqual(names.sort());
    for (const i of f.interfaces) {
      const sys = `/sys/class/net/${i.name}`;
      expect(i.mac).toBe(readSys(`${sys}/address`));
      const speed = Number(readSys(`${sys}/speed`));
      expect(i.speedMbps).toBe(speed > 0 ? speed : null);
      const isIb = readSys(`${sys}/type`) === "32";
      const physical = existsSync(`${sys}/device`) || existsSync(`${sys}/bonding`);
      expect(i.kind).toBe(isIb ? "InfiniBand" : physical ? kindBySpeed(i.speedMbps) : "virtual");
      expect(i.up).toBe(
        readSys(`${sys}/operstate`) === "up" ||
          (readSys(`${sys}/carrier`) === "1" && readSys(`${sys}/operstate`) === "unknown"),
      );
    }
    // `hostname -I`: every address but loopback and link-local IPv6.
    const all = f.interfaces.flatMap((i) => i.addresses.map((a) => a.split("/")[0]));
    for (const a of (await sh("hostname -I")).split(/\s+/).filter(Boolean)) expect(all).toContain(a);

    const docker = await Bun.$`docker version --format ${"{{.Server.Version}}"}`.nothrow().quiet();
    if (docker.exitCode === 0) {
      expect(f.dockerVersion).toBe(docker.stdout.toString().trim());
      expect(f.dockerError).toBeNull();
    } else {
      expect(f.dockerVersion).toBeNull();
      expect(f.dockerError).toBeTruthy();
    }
    if (!Bun.which("nvidia-smi", { PATH: `${process.env.PATH}:/usr/sbin:/usr/bin:/sbin:/bin` }))
      expect(f).toMatchObject({ gpus: [], gpuToolMissing: true, gpuError: null });
  });

  test("shCommand(PROBE_SCRIPT) gives the same through another login shell", async () => {
    const script = `export DOCKER_HOST='unix:///var/run/docker.sock'\n${PROBE_SCRIPT}`;
    const direct = await runProbe(["sh", "-c", script]);
    const viaBash = await runProbe(["bash", "-c", shCommand(script)]);
    // Only counters could differ between two runs; the parsed facts may not.
    expect(parseProbeOutput(viaBash)).toEqual(parseProbeOutput(direct));
  });

  describe("with stand-in commands", () => {
    const bin = mkdtempSync(join(tmpdir(), "hangar-probe-"));
    const fake = (name: string, script: string) => {
      writeFileSync(join(bin, name), `#!/bin/sh\n${script}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    const realIp = Bun.which("ip", { PATH: `${process.env.PATH}:/usr/sbin:/sbin` });
    // An iproute2 from before -j; a daemonless Docker; 8 H100s.
    fake(
      "ip",
      `case "$1" in -j) echo 'Option "-j" is unknown, try "ip -help".' >&2; exit 255;; esac\nexec ${realIp} "$@"`,
    );
    fake(
      "docker",
      `echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2; exit 1`,
    );
    const csv = splitSections(fixture("gpu-server-h100.txt")).get("gpus")?.body ?? "";
    fake("nvidia-smi", `cat <<'EOF'\n${csv}\nEOF`);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    afterAll(() => rmSync(bin, { recursive: true, force: true }));

    test.skipIf(!realIp)("`ip -o` fallback reads the same interfaces as `ip -j`", async () => {
      const direct = parseProbeOutput(await runProbe(["sh", "-c", PROBE_SCRIPT]));
      const old = parseProbeOutput(await runProbe(["sh", "-c", PROBE_SCRIPT], env));
      expect(old.interfaces).toEqual(direct.interfaces);
      expect(old.warnings).toEqual([]);
    });

    test("Docker down and GPUs present", async () => {
      const f = parseProbeOutput(await runProbe(["sh", "-c", PROBE_SCRIPT], env));
      expect(f).toMatchObject({
        dockerVersion: null,
        dockerError:
          "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
        nvidiaRuntime: false,
        gpuError: null,
        gpuToolMissing: false,
      });
      expect(gpuSummary(f.gpus)).toBe("NVIDIA H100 80GB HBM3 x 8");
    });
  });
});
