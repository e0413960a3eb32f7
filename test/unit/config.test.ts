import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config";

describe("config", () => {
  test("defaults follow the Flightbase manual and the issue", () => {
    const c = loadConfig({}, []);
    expect(c.port).toBe(56789);
    expect(c.dataDir.endsWith("/data")).toBe(true);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.backupCron).toBe("0 0 3 * * *");
    expect(c.backupKeepDays).toBe(14);
  });
  test("env is read and flags win over env", () => {
    const c = loadConfig({ HANGAR_PORT: "8080", HANGAR_DATA_DIR: "/srv/h" }, ["--port", "9090"]);
    expect(c.port).toBe(9090);
    expect(c.dataDir).toBe("/srv/h");
    expect(loadConfig({}, ["--backup-keep-days=3"]).backupKeepDays).toBe(3);
  });
  test.each([
    [{ HANGAR_PORT: "http" }, "HANGAR_PORT"],
    [{ HANGAR_PORT: "70000" }, "HANGAR_PORT"],
    [{ HANGAR_BACKUP_KEEP_DAYS: "0" }, "HANGAR_BACKUP_KEEP_DAYS"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    [{ HANGAR_BACKUP_CRON: "every day" }, "HANGAR_BACKUP_CRON"],
  ])("bad %p is refused naming %s", (env, name) => {
    expect(() => loadConfig(env, [])).toThrow(name);
  });
  test("HTTPS front port: off by default, and refused without a certificate and key", () => {
    expect(loadConfig({}, []).frontPort).toBeNull();
    expect(() => loadConfig({ HANGAR_FRONT_PORT: "443" }, [])).toThrow("HANGAR_TLS_CERT");
    const c = loadConfig({ HANGAR_FRONT_PORT: "8443", HANGAR_TLS_CERT: "/c.pem", HANGAR_TLS_KEY: "/k.pem" }, []);
    expect([c.frontPort, c.tlsCert, c.tlsKey]).toEqual([8443, "/c.pem", "/k.pem"]);
  });
  test("unknown flags are refused", () => {
    expect(() => loadConfig({}, ["--prot", "1"])).toThrow("unknown option --prot");
  });
});
