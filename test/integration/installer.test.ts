// installer/*.sh. --dry-run: the plan, and bad input refused. For real: fresh Debian servers that
// boot systemd as PID 1 (containers of $HANGAR_TEST_SYSTEMD_IMAGE, test/harness/systemd-image.sh):
// MASTER install → the unit is active and HTTPS answers; a second run changes nothing; the server
// restarted → the master is back by itself; WORKER install → the master's key authorised (fetched
// pinned to the certificate), the node added and connected through the master's API; uninstall
// keeps the data, --purge deletes it, both safe twice.
// Not for real here (said so in the README): Docker Engine inside the servers (--no-docker: the
// worker reaches this host's Docker Engine through a mounted socket instead) and NFS (the kernel
// NFS server does not run in a container: --no-nfs, the NFS steps are checked in --dry-run).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { join } from "node:path";

const repo = join(import.meta.dir, "..", "..");
const dir = join(repo, "installer");

const run = async (cmd: string[], stdin?: string) => {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", stdin: stdin === undefined ? "ignore" : "pipe" });
  if (stdin !== undefined && p.stdin) {
    p.stdin.write(stdin);
    await p.stdin.end();
  }
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, out: out + err };
};
const sh = (...args: string[]) => run(["sh", ...args]);

describe("installer --dry-run", () => {
  test("MASTER prints every step: packages, certificate, settings, NFS export, the systemd unit", async () => {
    const d = await sh(
      join(dir, "install.sh"),
      ...["--flag", "MASTER", "--master_ip", "10.1.2.3", "--ib_ip", "10.9.0.3", "--api_port", "8080", "--dry-run"],
    );
    expect(d.code).toBe(0);
    for (const s of [
      "apt-get install -y -q --no-install-recommends ca-certificates curl openssl iproute2 docker.io nfs-kernel-server npm",
      "systemctl enable --now docker",
      "nvidia-smi --query-gpu=driver_version",
      "npm install -g bun",
      "install --frozen-lockfile --production",
      "subjectAltName=IP:10.1.2.3",
      "write /etc/hangar/hangar.env (mode 600)",
      "HANGAR_PORT=8080",
      "HANGAR_FRONT_PORT=443",
      "HANGAR_ADVERTISE_HOST=10.1.2.3",
      "HANGAR_IB_IP=10.9.0.3",
      "/var/lib/hangar/workspaces 10.1.2.0/24(rw,sync,no_subtree_check,no_root_squash) # hangar",
      "/var/lib/hangar/builtin 10.1.2.0/24(rw,sync,no_subtree_check,no_root_squash) # hangar",
      "/var/lib/hangar/storage-probe 10.1.2.0/24(rw,sync,no_subtree_check,no_root_squash) # hangar",
      "systemctl enable --now nfs-server",
      "exportfs -ra",
      "useradd --system --user-group --home-dir /var/lib/hangar",
      "chown -R -h -P hangar:hangar /var/lib/hangar",
      "write /etc/systemd/system/hangar.service",
      "After=network-online.target docker.service",
      "User=hangar",
      "SupplementaryGroups=docker",
      "AmbientCapabilities=CAP_NET_BIND_SERVICE",
      "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
      "Restart=on-failure",
      "WantedBy=multi-user.target",
      "wait until https://127.0.0.1:443/api/health answers",
      "(dry run: nothing was changed)",
    ])
      expect(d.out).toContain(s);
    expect(d.out).toMatch(/ExecStart=\S*bun src\/main\.ts/);
    expect(d.out).toMatch(/mkdir -p \/var\/lib\/hangar\n\s+\+ chmod 700 \/var\/lib\/hangar\n/);
  });
  test("--api_local_only binds the plain API to localhost; --no-nfs exports nothing", async () => {
    const d = await sh(
      join(dir, "install.sh"),
      ...["--flag", "MASTER", "--master_ip", "10.1.2.3", "--api_local_only", "--no-nfs", "--no-docker", "--dry-run"],
    );
    expect(d.code).toBe(0);
    expect(d.out).toContain("HANGAR_HOST=127.0.0.1");
    expect(d.out).not.toContain("nfs-kernel-server");
    expect(d.out).not.toContain("docker.io");
    expect(d.out).not.toContain("write /etc/exports");
  });
  test("WORKER prints Docker, OpenSSH, the pinned key fetch and the NFS mounts with _netdev", async () => {
    const d = await sh(
      join(dir, "install.sh"),
      ...["--flag", "WORKER", "--master_ip", "10.1.2.3", "--master_fingerprint", "sha256//abc=", "--dry-run"],
    );
    expect(d.code).toBe(0);
    for (const s of [
      "openssh-server iproute2 docker.io nfs-common",
      "systemctl enable --now ssh",
      "curl --pinnedpubkey sha256//abc= https://10.1.2.3:443/api/nodes/master-key",
      "append master key to /root/.ssh/authorized_keys",
      "10.1.2.3:/var/lib/hangar/workspaces /var/lib/hangar/workspaces nfs defaults,_netdev,nofail 0 0",
      "10.1.2.3:/var/lib/hangar/builtin /var/lib/hangar/builtin nfs defaults,_netdev,nofail 0 0",
      "10.1.2.3:/var/lib/hangar/storage-probe /var/lib/hangar/storage-probe nfs defaults,_netdev,nofail 0 0",
      "mount /var/lib/hangar/workspaces",
      "Add Node",
    ])
      expect(d.out).toContain(s);
    const k = await sh(
      join(dir, "install.sh"),
      ...["--flag", "WORKER", "--master_ip", "10.1.2.3", "--master_key", "ssh-ed25519 AAAAx x@y", "--dry-run"],
    );
    expect(k.out).toContain("append master key to /root/.ssh/authorized_keys: ssh-ed25519 AAAAx hangar-master");
  });
  test("bad input is refused with usage; uninstall plans the removals", async () => {
    const bad = await sh(join(dir, "install.sh"), "--flag", "BOSS", "--master_ip", "10.1.2.3", "--dry-run");
    expect(bad.code).toBe(2);
    expect(bad.out).toContain("--flag must be MASTER or WORKER");
    const noIp = await sh(join(dir, "install.sh"), "--flag", "MASTER", "--dry-run");
    expect(noIp.code).toBe(2);
    expect(noIp.out).toContain("--master_ip must be");
    expect((await sh(join(dir, "install.sh"), "--nope")).code).toBe(2);
    expect(
      (await sh(join(dir, "install.sh"), "--flag", "MASTER", "--master_ip", "10.1.2.3", "--front_port", "x")).code,
    ).toBe(2);
    const un = await sh(join(dir, "uninstall.sh"), "--flag", "MASTER", "--dry-run");
    expect(un.code).toBe(0);
    for (const s of [
      "systemctl disable --now hangar.service",
      "rm -f /etc/systemd/system/hangar.service",
      "exportfs -ra",
    ])
      expect(un.out).toContain(s);
    expect(un.out).toContain("kept /var/lib/hangar");
    const w = await sh(join(dir, "uninstall.sh"), "--flag", "WORKER", "--purge", "--dry-run");
    for (const s of [
      "umount /var/lib/hangar/workspaces",
      "/etc/fstab",
      " hangar-master$",
      "rm -rf /var/lib/hangar /etc/hangar",
    ])
      expect(w.out).toContain(s);
  });
});

// ---------------------------------------------------------------- for real

const IMAGE = process.env.HANGAR_TEST_SYSTEMD_IMAGE;
const STATE = process.env.HANGAR_TEST_STATE ?? "/tmp/hangar-test";
const PASSWORD = "Inst4ll$er!";
const tag = `${process.pid}`;
const names = { master: `hangar-inst-master-${tag}`, worker: `hangar-inst-worker-${tag}` };
let work = "";
let masterIp = "";
let workerIp = "";
let fingerprint = "";

const docker = (...args: string[]) => run(["docker", ...args]);
const inMaster = (...cmd: string[]) => docker("exec", names.master, ...cmd);
const inWorker = (...cmd: string[]) => docker("exec", names.worker, ...cmd);
const curl = (...args: string[]) => run(["curl", "-sS", "-k", "--max-time", "10", ...args]);
const api = async (method: string, path: string, token?: string, body?: unknown) => {
  const r = await curl(
    "-X",
    method,
    ...(token ? ["-H", `authorization: Bearer ${token}`] : []),
    ...(body ? ["-H", "content-type: application/json", "-d", JSON.stringify(body)] : []),
    `https://${masterIp}:443${path}`,
  );
  if (r.code !== 0) throw new Error(`${method} ${path}: curl: ${r.out}`);
  return r.out ? JSON.parse(r.out) : null;
};
const until = async (what: string, ok: () => Promise<boolean>, seconds: number) => {
  for (let i = 0; i < seconds * 2; i++) {
    if (await ok()) return;
    await Bun.sleep(500);
  }
  throw new Error(`${what}: not within ${seconds} s`);
};
const healthy = async () => (await curl(`https://${masterIp}:443/api/health`)).out.includes('"ok"');

/** The production dependencies, installed once per bun.lock (cached under $STATE/cache). */
async function prodModules(): Promise<string> {
  const lock = readFileSync(join(repo, "bun.lock"));
  const pkg = readFileSync(join(repo, "package.json"));
  const hash = createHash("sha256").update(lock).update(pkg).digest("hex").slice(0, 16);
  const cache = join(STATE, "cache", `installer-app-${hash}`);
  if (!existsSync(join(cache, "node_modules"))) {
    rmSync(cache, { recursive: true, force: true });
    mkdirSync(cache, { recursive: true });
    cpSync(join(repo, "bun.lock"), join(cache, "bun.lock"));
    cpSync(join(repo, "package.json"), join(cache, "package.json"));
    const r = await run(["bun", "install", "--cwd", cache, "--frozen-lockfile", "--production"]);
    if (r.code !== 0) throw new Error(`bun install --production: ${r.out}`);
  }
  return join(cache, "node_modules");
}

/** A bare server: systemd as PID 1, privileged enough for it (not --privileged: this host's
 * Docker may itself run without every capability), plus what `mounts` adds. */
async function startServer(name: string, mounts: string[]): Promise<string> {
  const r = await docker(
    ...["run", "-d", "--name", name, "--hostname", name.replace(/-\d+$/, ""), "--label", "hangar-test.installer=1"],
    ...["--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN"],
    ...["--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined"],
    ...["--stop-signal", "SIGRTMIN+3", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw"],
    ...["--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp"],
    ...mounts,
    IMAGE as string,
  );
  if (r.code !== 0) throw new Error(`docker run ${name}: ${r.out}`);
  await until(
    `${name} boots`,
    async () => /running|degraded/.test((await docker("exec", name, "systemctl", "is-system-running")).out),
    60,
  );
  return (await docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name)).out.trim();
}

describe("installer for real (systemd servers in containers)", () => {
  beforeAll(async () => {
    if (!IMAGE)
      throw new Error("HANGAR_TEST_SYSTEMD_IMAGE is unset: run test/harness/systemd-image.sh (test/run.sh does)");
    // The app as a checkout would hold it (tracked and new files), with its production dependencies.
    work = mkdtempSync(join(STATE, "installer-"));
    const app = join(work, "app");
    const files = (await run(["git", "-C", repo, "ls-files", "-co", "--exclude-standard"])).out.split("\n");
    for (const f of files.filter((f) => f && existsSync(join(repo, f))))
      cpSync(join(repo, f), join(app, f), { recursive: true });
    cpSync(await prodModules(), join(app, "node_modules"), { recursive: true, verbatimSymlinks: true });
    const bun = realpathSync(Bun.which("bun") as string);
    const harness = join(repo, "test", "harness", "nvidia-smi");
    [masterIp, workerIp] = await Promise.all([
      // The master gets Bun as a binary (the installer skips npm when bun is on PATH).
      startServer(names.master, ["-v", `${app}:/opt/hangar`, "-v", `${bun}:/usr/local/bin/bun:ro`]),
      // The worker: this host's Docker Engine through a socket at a path of its own (so the
      // uninstaller's container clean-up never sees it) and the harness's stand-in nvidia-smi.
      startServer(names.worker, [
        ...["-v", `${dir}:/opt/hangar/installer:ro`, "-v", "/var/run/docker.sock:/hostdocker/docker.sock"],
        ...["-v", `${Bun.which("docker")}:/usr/local/bin/docker:ro`],
        ...["-v", `${join(harness, "nvidia-smi")}:/usr/local/bin/nvidia-smi:ro`],
        ...["-v", `${join(harness, "gtx1080ti-x2")}:/usr/local/gpus:ro`],
      ]),
    ]);
  }, 120_000);

  afterAll(async () => {
    await docker("rm", "-f", "-v", names.master, names.worker);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const install = (who: string, args: string[], stdin?: string) =>
    run(["docker", "exec", "-i", who, "sh", "/opt/hangar/installer/install.sh", ...args], stdin);
  const masterArgs = () => ["--flag", "MASTER", "--master_ip", masterIp, "--no-docker", "--no-nfs"];

  test("MASTER install: the unit runs, HTTPS answers, the web UI loads, modes are tight", async () => {
    const r = await install(names.master, [...masterArgs(), "--root_password_file", "-"], `${PASSWORD}\n`);
    expect(r.out).toContain("Hangar master is ready.");
    expect(r.code).toBe(0);
    expect(r.out).toContain("no NVIDIA driver (nvidia-smi not found)"); // warned, not failed
    fingerprint = /--master_fingerprint (sha256\/\/\S+)/.exec(r.out)?.[1] ?? "";
    expect(fingerprint).toMatch(/^sha256\/\/[A-Za-z0-9+/]{43}=$/);
    expect((await inMaster("systemctl", "is-active", "hangar")).out.trim()).toBe("active");
    expect((await inMaster("systemctl", "is-enabled", "hangar")).out.trim()).toBe("enabled");
    expect(await healthy()).toBe(true);
    const page = await curl(`https://${masterIp}/`);
    expect(page.out).toContain("<title>Hangar</title>");
    const login = await api("POST", "/api/auth/login", undefined, { userId: "root", password: PASSWORD });
    expect(login?.user?.userId).toBe("root");
    // The first login must change the password before anything else: to another and back.
    for (const [current, next] of [
      [PASSWORD, "tmpPass9!x"],
      ["tmpPass9!x", PASSWORD],
    ])
      expect(await api("POST", "/api/me/password", login.token, { current, next })).toBeNull();
    const modes = await inMaster(
      "stat",
      "-c",
      "%a %n",
      "/var/lib/hangar",
      "/etc/hangar",
      "/etc/hangar/hangar.env",
      "/etc/hangar/tls.key",
    );
    expect(modes.out.trim().split("\n")).toEqual([
      "700 /var/lib/hangar",
      "750 /etc/hangar",
      "600 /etc/hangar/hangar.env",
      "640 /etc/hangar/tls.key",
    ]);
    // Not root: the master runs as the hangar system user, owns its data, and holds no
    // capability but binding the low HTTPS port; the settings stay root's alone.
    const pid = (await inMaster("systemctl", "show", "-p", "MainPID", "--value", "hangar")).out.trim();
    const status = (await inMaster("cat", `/proc/${pid}/status`)).out;
    const uid = (await inMaster("id", "-u", "hangar")).out.trim();
    expect(uid).not.toBe("0");
    expect(/^Uid:\s+(\d+)\s+(\d+)/m.exec(status)?.slice(1)).toEqual([uid, uid]);
    expect(/^CapEff:\s+(\w+)/m.exec(status)?.[1]).toBe("0000000000000400"); // CAP_NET_BIND_SERVICE only
    expect(/^NoNewPrivs:\s+(\d)/m.exec(status)?.[1]).toBe("1");
    const owners = await inMaster(
      "stat",
      "-c",
      "%U:%G %n",
      "/var/lib/hangar",
      "/var/lib/hangar/hangar.db",
      "/etc/hangar/tls.key",
      "/etc/hangar/hangar.env",
    );
    expect(owners.out.trim().split("\n")).toEqual([
      "hangar:hangar /var/lib/hangar",
      "hangar:hangar /var/lib/hangar/hangar.db",
      "root:hangar /etc/hangar/tls.key",
      "root:root /etc/hangar/hangar.env",
    ]);
    expect((await inMaster("runuser", "-u", "hangar", "--", "cat", "/etc/hangar/hangar.env")).code).not.toBe(0);
    // The password was read from stdin: not on any command line, not left in a file.
    expect((await inMaster("test", "-e", "/etc/hangar/first-start.env")).code).toBe(1);
    expect((await inMaster("grep", "-r", PASSWORD, "/etc/hangar", "/etc/systemd/system")).code).toBe(1);
    // The certificate names the master IP (curl verifies it against the cert as CA); the
    // advertised address is node local's.
    const cert = join(work, "tls.crt");
    await Bun.write(cert, (await inMaster("cat", "/etc/hangar/tls.crt")).out);
    expect((await run(["curl", "-sS", "--cacert", cert, `https://${masterIp}/api/health`])).code).toBe(0);
    const nodes = await api("GET", "/api/nodes", login.token);
    expect(nodes.items.find((n: { id: string }) => n.id === "local")?.ip).toBe(masterIp);
  }, 150_000);

  test("a second MASTER run changes nothing and says so (the master is not restarted)", async () => {
    const pid = (await inMaster("systemctl", "show", "-p", "MainPID", "--value", "hangar")).out.trim();
    const r = await install(names.master, masterArgs());
    expect(r.code).toBe(0);
    expect(r.out).toContain("Nothing changed: already installed");
    expect(r.out).not.toMatch(/^ +changed:/m);
    expect((await inMaster("systemctl", "show", "-p", "MainPID", "--value", "hangar")).out.trim()).toBe(pid);
  }, 60_000);

  test("WORKER install: a wrong pin is refused naming the step; the right one authorises the key", async () => {
    const wrong = await install(names.worker, [
      ...["--flag", "WORKER", "--master_ip", masterIp, "--no-docker", "--no-nfs"],
      ...["--master_fingerprint", "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="],
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.out).toContain(`FAILED at step "the master's SSH key in /root/.ssh/authorized_keys"`);
    expect(wrong.out).toContain("fix:");
    const r = await install(names.worker, [
      ...["--flag", "WORKER", "--master_ip", masterIp, "--no-docker", "--no-nfs", "--master_fingerprint", fingerprint],
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("NVIDIA driver 535.154.05, 2 GPU(s)");
    expect(r.out).toContain("GPUs but no nvidia-container-toolkit"); // the fix, as a warning
    expect(r.out).toContain(`IP ${workerIp}  SSH port 22  user root`);
    const key = (await api("GET", "/api/nodes/master-key")).publicKey as string;
    const authorized = (await inWorker("cat", "/root/.ssh/authorized_keys")).out;
    expect(authorized).toContain(`${key.split(" ").slice(0, 2).join(" ")} hangar-master`);
    const again = await install(names.worker, [
      ...["--flag", "WORKER", "--master_ip", masterIp, "--no-docker", "--no-nfs", "--master_fingerprint", fingerprint],
    ]);
    expect(again.out).toContain("Nothing changed");
  }, 60_000);

  test("the worker is added and connected from the master's API", async () => {
    const { token } = await api("POST", "/api/auth/login", undefined, { userId: "root", password: PASSWORD });
    // The first login must change the password before anything else: to another and back.
    for (const [current, next] of [
      [PASSWORD, "tmpPass9!x"],
      ["tmpPass9!x", PASSWORD],
    ])
      expect(await api("POST", "/api/me/password", token, { current, next })).toBeNull();
    const node = await api("POST", "/api/nodes", token, {
      ip: workerIp,
      sshUser: "root",
      dockerSocket: "/hostdocker/docker.sock",
    });
    expect(node?.status).toBe("detached");
    const connected = await api("POST", `/api/nodes/${node.id}/connect`, token);
    expect(connected?.status).toBe("attached");
    expect(connected.gpus.length).toBe(2);
    expect(connected.dockerVersion).toMatch(/^\d+\./);
    // --no-nfs and no share of the lab's: the master sees the worker does not share its data dir.
    expect(connected.storage).toBe("staged");
    // Removed again so nothing gets scheduled on this host's Docker Engine.
    await api("DELETE", `/api/nodes/${node.id}`, token);
    expect((await api("GET", "/api/nodes", token)).items.map((n: { id: string }) => n.id)).not.toContain(node.id);
  }, 60_000);

  test("the server restarted: systemd brings the master back by itself", async () => {
    expect((await docker("restart", "-t", "20", names.master)).code).toBe(0);
    await until("the master answers after the restart", healthy, 60).catch(async (e) => {
      console.log((await inMaster("journalctl", "-u", "hangar", "-n", "40", "--no-pager")).out);
      console.log((await inMaster("systemctl", "status", "hangar", "--no-pager")).out);
      throw e;
    });
    expect((await inMaster("systemctl", "is-active", "hangar")).out.trim()).toBe("active");
  }, 90_000);

  test("uninstall keeps the data and is safe twice; --purge deletes it", async () => {
    const un = (who: string, ...args: string[]) =>
      docker("exec", who, "sh", "/opt/hangar/installer/uninstall.sh", ...args);
    const w = await un(names.worker, "--flag", "WORKER");
    expect(w.code).toBe(0);
    expect((await inWorker("grep", "-c", "hangar-master", "/root/.ssh/authorized_keys")).out.trim()).toBe("0");
    expect((await un(names.worker, "--flag", "WORKER")).out).toContain("Nothing to remove");

    const m = await un(names.master, "--flag", "MASTER");
    expect(m.code).toBe(0);
    expect(m.out).toContain("data kept in /var/lib/hangar");
    expect((await inMaster("test", "-e", "/etc/systemd/system/hangar.service")).code).toBe(1);
    expect((await inMaster("systemctl", "is-active", "hangar")).out.trim()).not.toBe("active");
    expect(await healthy()).toBe(false);
    expect((await inMaster("test", "-f", "/var/lib/hangar/hangar.db")).code).toBe(0);
    expect((await un(names.master, "--flag", "MASTER")).out).toContain("Nothing to remove");

    const p = await un(names.master, "--flag", "MASTER", "--purge");
    expect(p.code).toBe(0);
    expect(p.out).toContain("data deleted");
    expect((await inMaster("test", "-e", "/var/lib/hangar")).code).toBe(1);
    expect((await inMaster("test", "-e", "/etc/hangar")).code).toBe(1);
    expect((await inMaster("id", "-u", "hangar")).code).not.toBe(0);
    expect((await un(names.master, "--flag", "MASTER", "--purge")).out).toContain("Nothing to remove");
  }, 60_000);

  test("without --root_password_file the master generates root's password and the installer prints it", async () => {
    const r = await install(names.master, masterArgs());
    expect(r.code).toBe(0);
    const password = /First start: log in as root with password (\S+)/.exec(r.out)?.[1];
    expect(password).toBeDefined();
    const login = await api("POST", "/api/auth/login", undefined, { userId: "root", password });
    expect(login?.user?.mustChangePassword).toBe(true);
    const again = await install(names.master, masterArgs());
    expect(again.out).not.toContain(password as string);
    expect(again.out).toContain("root's password is unchanged");
    expect(
      (await docker("exec", names.master, "sh", "/opt/hangar/installer/uninstall.sh", "--flag", "MASTER", "--purge"))
        .code,
    ).toBe(0);
  }, 90_000);
});
