import { describe, expect, test } from "bun:test";
import { buildCreateOptions, DEFAULT_CAPABILITIES } from "../../src/executor/dockerOptions";
import {
  commandLine,
  jobContainers,
  type NodeNet,
  paramEnvName,
  rdmaDevices,
  rdmaProblem,
  shellQuote,
} from "../../src/jobs/spec";

const nets: Record<string, NodeNet> = {
  a: {
    address: "10.1.0.1",
    dataInterface: "ens2f0",
    infinibandInterface: "ibp65s0",
    infinibandPorts: 2,
    gpuMemoryMiB: { "GPU-a0": 81920 },
  },
  b: { address: "10.1.0.2", dataInterface: "ens2f1", infinibandInterface: null, gpuMemoryMiB: {} },
};
const job = {
  id: "j1",
  image: "img",
  command: "python3 train.py",
  parameters: { lr: "0.01", "batch-size": "64", note: "it's ok" },
  gpuOptions: [] as never[],
  mounts: [{ source: "/d", target: "/dataset", readOnly: true }],
};

describe("job container specs", () => {
  test("parameters become --key value arguments and HANGAR_PARAM_ env", () => {
    expect(commandLine("python3 train.py", { lr: "0.01", note: "it's ok" })).toBe(
      "python3 train.py --lr '0.01' --note 'it'\\''s ok'",
    );
    expect(paramEnvName("batch-size")).toBe("HANGAR_PARAM_BATCH_SIZE");
    expect(shellQuote("a b")).toBe("'a b'");
    const [spec] = jobContainers(job, [{ nodeId: "a", gpuUuids: ["GPU-a0"] }], nets);
    expect(spec?.command).toEqual(["sh", "-c", "python3 train.py --lr '0.01' --batch-size '64' --note 'it'\\''s ok'"]);
    expect(spec?.env).toMatchObject({
      HANGAR_PARAM_LR: "0.01",
      HANGAR_PARAM_BATCH_SIZE: "64",
      HANGAR_JOB_ID: "j1",
    });
    // One node: the container is on its own bridge network, where the node's interface names
    // do not exist (NCCL would find no interface by that name), and nothing is rendezvous.
    expect(spec?.env?.WORLD_SIZE).toBeUndefined();
    expect(spec?.env?.NCCL_SOCKET_IFNAME).toBeUndefined();
    expect(spec?.hostNetwork).toBeUndefined();
    expect(spec?.gpus).toEqual(["GPU-a0"]);
    expect(spec?.labels).toMatchObject({ "hangar.job": "j1", "hangar.rank": "0" });
  });

  test("a job spanning two nodes gets the torchrun environment on each, on its node's network", () => {
    const specs = jobContainers(
      { ...job, rendezvousPort: 29517 },
      [
        { nodeId: "a", gpuUuids: ["1", "2"] },
        { nodeId: "b", gpuUuids: ["3", "4"] },
      ],
      nets,
    );
    expect(specs.map((s) => s.env)).toEqual([
      expect.objectContaining({
        MASTER_ADDR: "10.1.0.1",
        MASTER_PORT: "29517",
        WORLD_SIZE: "4",
        NODE_RANK: "0",
        RANK: "0",
        LOCAL_RANK: "0",
        LOCAL_WORLD_SIZE: "2",
        NNODES: "2",
        NCCL_SOCKET_IFNAME: "ens2f0",
        GLOO_SOCKET_IFNAME: "ens2f0",
      }),
      expect.objectContaining({
        MASTER_ADDR: "10.1.0.1",
        MASTER_PORT: "29517",
        WORLD_SIZE: "4",
        NODE_RANK: "1",
        RANK: "2",
        LOCAL_RANK: "0",
        LOCAL_WORLD_SIZE: "2",
        NCCL_SOCKET_IFNAME: "ens2f1",
        GLOO_SOCKET_IFNAME: "ens2f1",
      }),
    ]);
    expect(specs.map((s) => s.hostNetwork)).toEqual([true, true]);
    // Docker: the host's network, and no ports to publish there.
    const { options } = buildCreateOptions(
      { ...(specs[0] as NonNullable<(typeof specs)[0]>), ports: [8888] },
      {
        nvidiaRuntime: true,
      },
    );
    expect(options.HostConfig?.NetworkMode).toBe("host");
    expect([options.HostConfig?.PortBindings, options.ExposedPorts]).toEqual([undefined, undefined]);
    // Rows from before the rendezvous port: torchrun's default.
    const [old] = jobContainers(
      job,
      [
        { nodeId: "a", gpuUuids: ["1"] },
        { nodeId: "b", gpuUuids: ["2"] },
      ],
      nets,
    );
    expect(old?.env?.MASTER_PORT).toBe("29500");
  });

  test("a rank on a node whose interface is unknown gets no interface names (NCCL/Gloo pick one)", () => {
    const specs = jobContainers(
      job,
      [
        { nodeId: "a", gpuUuids: ["1"] },
        { nodeId: "c", gpuUuids: ["2"] },
      ],
      { ...nets, c: { address: "gpu-c.lab", dataInterface: null, infinibandInterface: null, gpuMemoryMiB: {} } },
    );
    expect(specs[1]?.env).toMatchObject({ MASTER_ADDR: "10.1.0.1", RANK: "1" });
    expect([specs[1]?.env?.NCCL_SOCKET_IFNAME, specs[1]?.env?.GLOO_SOCKET_IFNAME]).toEqual([undefined, undefined]);
  });

  test("a single-node container keeps its published ports on its own network", () => {
    const [spec] = jobContainers(job, [{ nodeId: "a", gpuUuids: ["GPU-a0"] }], nets);
    const { options } = buildCreateOptions(
      { ...(spec as NonNullable<typeof spec>), ports: [8888] },
      {
        nvidiaRuntime: true,
      },
    );
    expect(options.HostConfig?.NetworkMode).toBeUndefined();
    expect(options.HostConfig?.PortBindings).toEqual({ "8888/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] });
  });

  test("a helper container: its own entrypoint and user, no network, read-only image, exactly its capabilities", () => {
    const { options } = buildCreateOptions(
      {
        name: "h",
        image: "img",
        command: ["-rf", "--", "/t/a"],
        entrypoint: ["/bin/rm"],
        user: "0:0",
        networkNone: true,
        readOnlyRootfs: true,
        capabilities: ["DAC_OVERRIDE", "FOWNER"],
      },
      { nvidiaRuntime: false },
    );
    expect([options.Entrypoint, options.Cmd, options.User]).toEqual([["/bin/rm"], ["-rf", "--", "/t/a"], "0:0"]);
    expect(options.HostConfig).toMatchObject({
      NetworkMode: "none",
      ReadonlyRootfs: true,
      CapDrop: ["ALL"],
      CapAdd: ["DAC_OVERRIDE", "FOWNER"],
      SecurityOpt: ["no-new-privileges"],
    });
    // A job's container keeps the image's entrypoint and user, Docker's network, the default set.
    const { options: plain } = buildCreateOptions(
      { name: "j", image: "img", command: ["x"] },
      { nvidiaRuntime: false },
    );
    expect([plain.Entrypoint, plain.User, plain.HostConfig?.NetworkMode, plain.HostConfig?.ReadonlyRootfs]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(plain.HostConfig?.CapAdd).toEqual([...DEFAULT_CAPABILITIES]);
  });

  test("GPU options and fractional GPUs", () => {
    const [spec] = jobContainers(
      { ...job, gpuOptions: ["gpu-acceleration", "rdma-infiniband", "unified-memory"] },
      [{ nodeId: "a", gpuUuids: ["GPU-a0"], fraction: 0.25 }],
      nets,
    );
    expect(spec?.env).toMatchObject({
      NCCL_P2P_DISABLE: "0",
      NCCL_IB_HCA: "ibp65s0",
      NCCL_IB_DISABLE: "0",
      TF_FORCE_UNIFIED_MEMORY: "1",
      CUDA_MPS_ACTIVE_THREAD_PERCENTAGE: "25",
      CUDA_MPS_PINNED_DEVICE_MEM_LIMIT: "0=20480M",
    });
    const [noIb] = jobContainers({ ...job, gpuOptions: ["rdma-infiniband"] }, [{ nodeId: "b", gpuUuids: ["x"] }], nets);
    expect(noIb?.env?.NCCL_IB_DISABLE).toBe("1");
  });

  test("CPU-only: no GPUs, the CPU and memory limits go to Docker", () => {
    const [spec] = jobContainers({ ...job, cpus: 1.5, memoryMiB: 512 }, [{ nodeId: "b", gpuUuids: [] }], nets);
    expect(spec).toMatchObject({ gpus: [], cpus: 1.5, memoryMiB: 512 });
    const { options } = buildCreateOptions(spec as NonNullable<typeof spec>, { nvidiaRuntime: true });
    expect(options.HostConfig).toMatchObject({
      NanoCpus: 1_500_000_000,
      Memory: 512 * 1024 * 1024,
      MemorySwap: 512 * 1024 * 1024,
    });
    expect(options.HostConfig?.DeviceRequests).toBeUndefined();
    expect(options.Env?.some((e) => e.startsWith("CUDA_VISIBLE_DEVICES"))).toBe(false);
  });

  test("GPU jobs get the limits too; spread over nodes, in proportion to their GPUs there", () => {
    const specs = jobContainers(
      { ...job, cpus: 12, memoryMiB: 3000 },
      [
        { nodeId: "a", gpuUuids: ["GPU-a0", "GPU-a1"] },
        { nodeId: "b", gpuUuids: ["GPU-b0"] },
      ],
      nets,
    );
    expect(specs.map((s) => [s.cpus, s.memoryMiB])).toEqual([
      [8, 2000],
      [4, 1000],
    ]);
    const [one] = jobContainers({ ...job, cpus: 2 }, [{ nodeId: "a", gpuUuids: ["GPU-a0"], fraction: 0.5 }], nets);
    expect([one?.cpus, one?.memoryMiB]).toEqual([2, undefined]);
  });

  test("no limits asked (0 or absent): none set, as before", () => {
    const [spec] = jobContainers({ ...job, cpus: 0, memoryMiB: 0 }, [{ nodeId: "a", gpuUuids: ["GPU-a0"] }], nets);
    expect(spec && "cpus" in spec).toBe(false);
    const { options } = buildCreateOptions(spec as NonNullable<typeof spec>, { nvidiaRuntime: true });
    expect(options.HostConfig?.NanoCpus).toBeUndefined();
    expect(options.HostConfig?.Memory).toBeUndefined();
  });

  test("RDMA: the InfiniBand devices, IPC_LOCK and unlimited memlock, through to Docker", () => {
    const [spec] = jobContainers(
      { ...job, gpuOptions: ["rdma-infiniband"] },
      [{ nodeId: "a", gpuUuids: ["GPU-a0"] }],
      nets,
    );
    expect(spec).toMatchObject({
      devices: ["/dev/infiniband/rdma_cm", "/dev/infiniband/uverbs0", "/dev/infiniband/uverbs1"],
      capAdd: ["IPC_LOCK"],
      ulimits: [{ name: "memlock", soft: -1, hard: -1 }],
    });
    const { options } = buildCreateOptions(spec as NonNullable<typeof spec>, { nvidiaRuntime: true });
    expect(options.HostConfig?.Devices).toEqual([
      { PathOnHost: "/dev/infiniband/rdma_cm", PathInContainer: "/dev/infiniband/rdma_cm", CgroupPermissions: "rwm" },
      { PathOnHost: "/dev/infiniband/uverbs0", PathInContainer: "/dev/infiniband/uverbs0", CgroupPermissions: "rwm" },
      { PathOnHost: "/dev/infiniband/uverbs1", PathInContainer: "/dev/infiniband/uverbs1", CgroupPermissions: "rwm" },
    ]);
    expect(options.HostConfig?.CapAdd).toEqual([...DEFAULT_CAPABILITIES, "IPC_LOCK"]);
    expect(options.HostConfig?.CapDrop).toEqual(["ALL"]);
    expect(options.HostConfig?.Ulimits).toEqual([{ Name: "memlock", Soft: -1, Hard: -1 }]);
  });

  test("RDMA: none of it without the option, nor on a node without InfiniBand", () => {
    const [plain] = jobContainers(job, [{ nodeId: "a", gpuUuids: ["GPU-a0"] }], nets);
    const [noIb] = jobContainers({ ...job, gpuOptions: ["rdma-infiniband"] }, [{ nodeId: "b", gpuUuids: ["x"] }], nets);
    for (const spec of [plain, noIb]) {
      expect([spec?.devices, spec?.capAdd, spec?.ulimits]).toEqual([undefined, undefined, undefined]);
      const { options } = buildCreateOptions(spec as NonNullable<typeof spec>, { nvidiaRuntime: true });
      expect([options.HostConfig?.Devices, options.HostConfig?.CapAdd, options.HostConfig?.Ulimits]).toEqual([
        undefined,
        [...DEFAULT_CAPABILITIES],
        undefined,
      ]);
      // Least privilege by default: every capability dropped but a small set, no setuid escalation.
      expect(options.HostConfig?.CapDrop).toEqual(["ALL"]);
      expect(options.HostConfig?.SecurityOpt).toEqual(["no-new-privileges"]);
      expect(options.HostConfig?.CapAdd).not.toContain("NET_RAW");
    }
  });

  test.each<[string, number, string[]]>([
    ["no port, no devices", 0, []],
    ["one port", 1, ["/dev/infiniband/rdma_cm", "/dev/infiniband/uverbs0"]],
  ])("RDMA devices: %s", (_name, ports, expected) => {
    expect(rdmaDevices(ports)).toEqual(expected);
  });

  test("RDMA is refused on nodes without InfiniBand, naming them", () => {
    expect(rdmaProblem([{ name: "gpu1", infinibandPorts: 1 }])).toBeNull();
    expect(
      rdmaProblem([
        { name: "gpu1", infinibandPorts: 1 },
        { name: "gpu2", infinibandPorts: 0 },
      ]),
    ).toBe("rdma-infiniband needs an InfiniBand interface; node gpu2 has none");
  });
});
