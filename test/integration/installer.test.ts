// installer/*.sh: --dry-run prints the plan without changing the machine; bad input is refused.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";

const dir = join(import.meta.dir, "..", "..", "installer");
const sh = async (...args: string[]) => {
  const p = Bun.spawn(["sh", ...args], { stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, out: out + err };
};

describe("installer", () => {
  test("MASTER --dry-run plans the systemd unit that starts the master on boot", async () => {
    const r = await sh(
      join(dir, "install.sh"),
      "--flag",
      "MASTER",
      "--master_ip",
      "10.1.2.3",
      "--api_port",
      "8080",
      "--dry-run",
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain("write /etc/systemd/system/hangar.service");
    expect(r.out).toContain("Restart=always");
    expect(r.out).toContain("HANGAR_PORT=8080");
    expect(r.out).toMatch(/ExecStart=\S*bun src\/main\.ts/);
  });
  test("WORKER --dry-run installs Docker and OpenSSH and authorizes the master key", async () => {
    const r = await sh(
      join(dir, "install.sh"),
      "--flag",
      "WORKER",
      "--master_key",
      "ssh-ed25519 AAAAx hangar-master",
      "--dry-run",
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain("append master key");
  });
  test("a bad --flag or option is refused with usage", async () => {
    const bad = await sh(join(dir, "install.sh"), "--flag", "BOSS", "--dry-run");
    expect(bad.code).toBe(2);
    expect(bad.out).toContain("--flag must be MASTER or WORKER");
    const unknown = await sh(join(dir, "install.sh"), "--nope");
    expect(unknown.code).toBe(2);
    const un = await sh(join(dir, "uninstall.sh"), "--flag", "MASTER", "--dry-run");
    expect(un.code).toBe(0);
    expect(un.out).toContain("rm -f /etc/systemd/system/hangar.service");
  });
});
