// HTTPS front port: `bun src/main.ts` with a self-signed certificate answers the API and serves
// the web UI over TLS (Bun's own listener), prints the advertised URL, and serves the master's
// public key without a login (the worker installer fetches it, pinned to the certificate).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { eq } from "drizzle-orm";
import { recordLocalInfiniband } from "../../src/front";
import { getNode } from "../../src/nodes/service";
import { STORE_TARGETS } from "../helpers/stores";
import { startTestMaster, type TestMaster } from "../helpers/testMaster";

const repo = join(import.meta.dir, "..", "..");
let dir = "";
let master: Subprocess<"ignore", "pipe", "pipe"> | null = null;
let frontUrl = "";
let apiUrl = "";

const curl = async (...args: string[]) => {
  const p = Bun.spawn(["curl", "-sS", "--max-time", "20", ...args], { stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, out, err };
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "hangar-front-"));
  const gen = Bun.spawnSync(
    ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"]
      .concat(["-subj", "/CN=hangar", "-addext", "subjectAltName=IP:127.0.0.1"])
      .concat(["-keyout", join(dir, "tls.key"), "-out", join(dir, "tls.crt")]),
    { stderr: "pipe" },
  );
  if (gen.exitCode !== 0) throw new Error(`openssl: ${gen.stderr.toString()}`);
  master = Bun.spawn(["bun", "src/main.ts"], {
    cwd: repo,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      ...process.env,
      HANGAR_DATA_DIR: join(dir, "data"),
      HANGAR_PORT: "0",
      HANGAR_HOST: "127.0.0.1",
      HANGAR_FRONT_PORT: "0",
      HANGAR_FRONT_HOST: "127.0.0.1",
      HANGAR_TLS_CERT: join(dir, "tls.crt"),
      HANGAR_TLS_KEY: join(dir, "tls.key"),
      HANGAR_ADVERTISE_HOST: "127.0.0.1",
      HANGAR_ROOT_PASSWORD: "rootPass1!",
      HANGAR_DOCKER_SOCKET: join(dir, "no-docker.sock"),
      HANGAR_SSH_PORTS: "39100-39199",
      DATABASE_URL: "",
    },
  });
  const reader = master.stdout.getReader();
  let seen = "";
  const deadline = Date.now() + 30_000;
  while (!frontUrl && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += new TextDecoder().decode(value);
    apiUrl = /running at (http:\/\/\S+)/.exec(seen)?.[1] ?? apiUrl;
    frontUrl = /over HTTPS: (https:\/\/\S+)/.exec(seen)?.[1] ?? "";
  }
  reader.releaseLock();
  if (!frontUrl)
    throw new Error(`master did not print its HTTPS URL:\n${seen}\n${await new Response(master.stderr).text()}`);
}, 60_000);

afterAll(async () => {
  master?.kill("SIGTERM");
  await master?.exited;
  rmSync(dir, { recursive: true, force: true });
});

describe("HTTPS front port", () => {
  test("the printed URL is the advertised address; /api/health answers over TLS", async () => {
    expect(frontUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await curl("-k", `${frontUrl}/api/health`);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ status: "ok" });
    // Without -k the self-signed certificate is refused, with it as CA it is accepted (SAN = the IP).
    expect((await curl(`${frontUrl}/api/health`)).code).not.toBe(0);
    expect((await curl("--cacert", join(dir, "tls.crt"), `${frontUrl}/api/health`)).code).toBe(0);
  });
  test("the web UI loads over HTTPS", async () => {
    const page = await curl("-k", `${frontUrl}/`);
    expect(page.out).toContain("<html");
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(page.out)?.[1];
    expect(script).toBeDefined();
    const js = await curl("-k", "-o", "/dev/null", "-w", "%{http_code}", `${frontUrl}${script}`);
    expect(js.out).toBe("200");
  }, 60_000);
  test("the plain API port still answers, and the master key needs no login", async () => {
    expect(JSON.parse((await curl(`${apiUrl}/api/health`)).out)).toMatchObject({ status: "ok" });
    const key = JSON.parse((await curl("-k", `${frontUrl}/api/nodes/master-key`)).out);
    expect(key.publicKey).toMatch(/^ssh-ed25519 \S+/);
  });
});

describe.each(STORE_TARGETS)("HANGAR_IB_IP on node local (%s)", (target) => {
  let m: TestMaster;
  afterAll(() => m?.close());
  test("the interface holding the IB IP becomes local's InfiniBand interface; a non-IB one is left alone", async () => {
    m = await startTestMaster(target, { ibIp: "10.9.0.3" });
    const now = m.clock.now().toISOString();
    const iface = (name: string, address: string, kind: "InfiniBand" | "1GbE") => ({
      name,
      addresses: [address],
      speedMbps: null,
      kind,
      up: true,
      mac: null,
    });
    await m.deps.store.db.insert(m.deps.store.t.nodes).values({
      id: "local",
      name: "local",
      ip: "10.0.0.3",
      sshPort: 0,
      sshUser: "",
      desired: "attached",
      status: "attached",
      interfaces: { control: "eth0" },
      networkInterfaces: [iface("eth0", "10.0.0.3/24", "1GbE"), iface("ib0", "10.9.0.3/16", "InfiniBand")],
      gpus: [],
      cpus: 1,
      memoryMiB: 1024,
      createdAt: now,
      updatedAt: now,
    });
    await recordLocalInfiniband(m.deps, "local");
    expect((await getNode(m.deps, "local")).interfaces).toEqual({ control: "eth0", infiniband: "ib0" });

    // An address on a plain Ethernet interface is not InfiniBand: nothing is recorded.
    m.deps.config.ibIp = "10.0.0.3";
    await m.deps.store.db
      .update(m.deps.store.t.nodes)
      .set({ interfaces: { control: "eth0" } })
      .where(eq(m.deps.store.t.nodes.id, "local"));
    await recordLocalInfiniband(m.deps, "local");
    expect((await getNode(m.deps, "local")).interfaces.infiniband).toBeUndefined();
  });
});

describe("apps behind the HTTPS front", () => {
  let m: TestMaster;
  afterAll(() => m?.close());
  test("a deployment's own port speaks TLS with the master's certificate, not plain HTTP", async () => {
    m = await startTestMaster("sqlite", {
      frontPort: 0,
      tlsCert: join(dir, "tls.crt"),
      tlsKey: join(dir, "tls.key"),
      host: "127.0.0.1",
      advertiseHost: "127.0.0.1",
    });
    const url = m.deps.apps.url({ kind: "deployment", ws: "w", name: "d" });
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/deployments\/w\/d\/$/);
    const r = await curl("--cacert", join(dir, "tls.crt"), "-o", "/dev/null", "-w", "%{http_code}", url);
    expect(r.code).toBe(0);
    expect(r.out).toBe("401");
    expect((await curl(url.replace("https:", "http:"))).code).not.toBe(0);
  });
});
