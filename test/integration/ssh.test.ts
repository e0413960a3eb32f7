// The master's SSH layer against real sshd workers: exec, host-key pinning, clear errors,
// and Docker reached through a stream-local channel of the one connection.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { forwardUnixSocket } from "../../src/executor/socketForward";
import { loadOrCreateMasterKey, type MasterKey } from "../../src/ssh/keys";
import { SshSession } from "../../src/ssh/session";
import { authorize, type TestWorker, testWorkers } from "../helpers/workers";

describe("ssh sessions to worker stand-ins", () => {
  let dataDir: string;
  let key: MasterKey;
  let workers: TestWorker[];
  const open: SshSession[] = [];
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), "hangar-ssh-"));
    key = loadOrCreateMasterKey(dataDir);
    workers = testWorkers();
    for (const w of workers) authorize(w, key.publicKey);
  });
  afterAll(() => {
    for (const s of open) s.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const connect = async (w: TestWorker, expectedFingerprint: string | null = null) => {
    const s = await SshSession.connect({
      host: w.ip,
      port: w.port,
      username: "root",
      privateKey: key.privateKey,
      expectedFingerprint,
    });
    open.push(s);
    return s;
  };

  test("the master key is made once and kept", () => {
    expect(key.publicKey).toMatch(/^ssh-ed25519 AAAA\S+ hangar-master$/);
    expect(loadOrCreateMasterKey(dataDir).publicKey).toBe(key.publicKey);
  });

  test("exec returns exit code, stdout and stderr separately; each worker has its own host key", async () => {
    const prints = new Set<string>();
    for (const w of workers) {
      const s = await connect(w);
      const r = await s.exec("echo out; echo err >&2; exit 7");
      expect(r).toEqual({ code: 7, stdout: "out\n", stderr: "err\n" });
      expect(s.hostFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      prints.add(s.hostFingerprint);
    }
    expect(prints.size).toBe(workers.length);
  });

  test("each worker's nvidia-smi stand-in answers with its own cards", async () => {
    const [a, b] = workers as [TestWorker, TestWorker];
    const q = "nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits";
    const ra = await (await connect(a)).exec(q);
    const rb = await (await connect(b)).exec(q);
    expect(ra.stdout.trim().split("\n")).toHaveLength(2);
    expect(ra.stdout).toContain("NVIDIA GeForce GTX 1080 Ti");
    expect(rb.stdout.trim().split("\n")).toHaveLength(4);
    expect(rb.stdout).toContain("NVIDIA A100-SXM4-80GB");
  });

  test("a pinned host key that no longer matches is refused, naming both fingerprints", async () => {
    const w = workers[0] as TestWorker;
    const real = (await connect(w)).hostFingerprint;
    const pinned = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const err = await connect(w, pinned).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`expected ${pinned}`);
    expect((err as Error).message).toContain(real);
  });

  test("nothing listening and a refused key give clear errors quickly", async () => {
    const t0 = Date.now();
    const none = await connect({ ip: "127.0.0.9", port: 22, authorizedKeys: "" }).catch((e: Error) => e);
    expect((none as Error).message).toContain("127.0.0.9");
    expect((none as Error).message).toContain("refused");
    const stranger = loadOrCreateMasterKey(join(dataDir, "other"));
    const w = workers[0] as TestWorker;
    const denied = await SshSession.connect({
      host: w.ip,
      port: w.port,
      username: "root",
      privateKey: stranger.privateKey,
      expectedFingerprint: null,
    }).catch((e: Error) => e);
    expect((denied as Error).message).toContain("refused the master's key");
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  test("Docker on a worker through a stream-local channel of the one SSH connection", async () => {
    const w = workers[1] as TestWorker;
    const s = await connect(w);
    const fw = await forwardUnixSocket(join(dataDir, "run", "docker-w.sock"), () =>
      s.openSocket("/var/run/docker.sock"),
    );
    try {
      const docker = new Docker({ socketPath: fw.path });
      const version = await docker.version();
      expect(version.Version).toMatch(/^\d+\./);
      const images = await docker.listImages();
      expect(Array.isArray(images)).toBe(true);
    } finally {
      await fw.close();
    }
  });
});
