// The terminal dashboard end to end, as an operator on the master uses it: a real master process
// with a harness worker attached and a job running; `bun run tui` started in tmux with no
// credentials at all (only the data dir and port, which are configuration) signs in through the
// master's local admin token, goes to Jobs, follows the job's log and sees new lines arrive,
// cancels the job and sees it `cancelled`. Screens are captured at 80x24 and 160x48; with
// HANGAR_TUI_CAPTURE_DIR set they are written there to be looked at.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dataLayout } from "../../src/lib/layout";
import { apiSource } from "../../tui/source";
import { BUSYBOX_IMAGE } from "../helpers/env";
import { OPEN_PERIOD } from "../helpers/factories";
import { until } from "../helpers/poll";
import { client, type MasterProcess, spawnMaster } from "../helpers/processes";
import { authorize, testWorkers } from "../helpers/workers";

const ROOT = join(import.meta.dir, "..", "..");
const PASSWORD = "tuiRoot1!";
const SESSION = `hangar-tui-${process.pid}`;
const CAPTURES = process.env.HANGAR_TUI_CAPTURE_DIR;

function tmux(...args: string[]): string {
  const p = Bun.spawnSync(["tmux", ...args], { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`tmux ${args.join(" ")}: ${p.stderr.toString()}`);
  return p.stdout.toString();
}
const screen = () => tmux("capture-pane", "-p", "-t", SESSION);
const keys = (...k: string[]) => tmux("send-keys", "-t", SESSION, ...k);
const waitScreen = (what: string, ok: (s: string) => boolean, timeoutMs = 20_000) =>
  until(what, screen, ok, { timeoutMs, everyMs: 200 }).catch((err: Error) => {
    throw new Error(`${err.message.slice(0, 200)}\n--- screen ---\n${screen()}`);
  });
function save(name: string, text: string) {
  if (!CAPTURES) return;
  mkdirSync(CAPTURES, { recursive: true });
  writeFileSync(join(CAPTURES, `${name}.txt`), text);
}

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = s.port as number;
  await s.stop(true);
  return port;
}

describe("terminal dashboard in tmux against a master process", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "hangar-tui-"));
  let master: MasterProcess;
  let port: number;
  let api: ReturnType<typeof client>;
  let token: string;
  let jobId: string;

  beforeAll(async () => {
    port = await freePort();
    master = await spawnMaster({
      HANGAR_DATA_DIR: dataDir,
      HANGAR_PORT: String(port),
      HANGAR_ROOT_PASSWORD: PASSWORD,
      HANGAR_DEFAULT_IMAGE: BUSYBOX_IMAGE,
      HANGAR_SCHEDULER_BACKSTOP_SECONDS: "0.3",
    });
    api = client(master.url);
    token = (await api("POST", "/api/auth/login", undefined, { userId: "root", password: PASSWORD })).body.token;
    const key = (await api("GET", "/api/nodes/master-key", token)).body.publicKey;
    const w = testWorkers()[0];
    if (!w) throw new Error("no harness worker");
    authorize(w, key);
    const added = await api("POST", "/api/nodes", token, { ip: w.ip, sshPort: w.port, name: "tui-w1" });
    expect(added.status).toBe(201);
    expect((await api("POST", `/api/nodes/${added.body.id}/connect`, token)).body.status).toBe("attached");
    const ws = { name: "tuiws", ...OPEN_PERIOD, trainingGpus: 1, deploymentGpus: 0, manager: "root" };
    expect((await api("POST", "/api/workspaces", token, ws)).status).toBe(201);
    const tr = { name: "t", type: "advanced", gpus: 1, access: "public" };
    expect((await api("POST", "/api/workspaces/tuiws/trainings", token, tr)).status).toBe(201);
    const res = await api("POST", "/api/workspaces/tuiws/trainings/t/jobs", token, {
      name: "ticker",
      image: BUSYBOX_IMAGE,
      command: `sh -c 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.25; done'`,
    });
    expect(res.status).toBe(201);
    jobId = res.body.items[0].id;
    // A second job waits in the queue behind the workspace's one GPU.
    const waiter = { name: "waiter", image: BUSYBOX_IMAGE, command: "true" };
    expect((await api("POST", "/api/workspaces/tuiws/trainings/t/jobs", token, waiter)).status).toBe(201);
    await until(
      "job running",
      async () => (await api("GET", `/api/jobs/${jobId}`, token)).body,
      (j) => j.status === "running",
      { timeoutMs: 40_000, everyMs: 200 },
    );
  }, 90_000);

  afterAll(async () => {
    try {
      tmux("kill-session", "-t", SESSION);
    } catch {}
    await master?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("the token file is the master's and only root's: mode 0600", () => {
    const st = statSync(dataLayout(dataDir).localAdminTokenFile);
    expect(st.mode & 0o777).toBe(0o600);
  });

  test("no credentials: Jobs, the log growing live, cancel, `cancelled`; fits 80x24 and uses 160x48", async () => {
    // A clean environment: no token, user, password or key of any kind.
    const env = `env -i PATH=${process.env.PATH} HOME=${process.env.HOME ?? "/root"} TERM=xterm-256color HANGAR_DATA_DIR=${dataDir} HANGAR_PORT=${port}`;
    tmux("new-session", "-d", "-s", SESSION, "-x", "80", "-y", "24", `cd ${ROOT} && ${env} bun run tui; sleep 60`);
    const overview = await waitScreen("overview", (s) => s.includes("tui-w1") && s.includes("1 running, 1 pending"));
    if (process.env.HANGAR_TUI_RECORD) {
      // Recorded API data for the frame tests (test/fixtures/tui/snapshot.json).
      const source = apiSource(master.url, () => token);
      writeFileSync(process.env.HANGAR_TUI_RECORD, `${JSON.stringify(await source.load(), null, 2)}\n`);
    }
    save("overview-80x24", overview);
    expect(overview).toContain("root (admin)");
    expect(overview.split("\n").every((l) => l.length <= 80)).toBe(true);

    keys("4");
    const jobs = await waitScreen("jobs view", (s) => s.includes("ticker") && s.includes("running"));
    save("jobs-80x24", jobs);
    expect(jobs).toMatch(/ticker\s+tuiws\s+running\s+tui-w1/);

    keys("l");
    const first = await waitScreen("log lines", (s) => /tick \d+/.test(s));
    const lastTick = (s: string) => Math.max(...[...s.matchAll(/tick (\d+)/g)].map((m) => Number(m[1])));
    const before = lastTick(first);
    const later = await waitScreen("new log lines", (s) => /tick \d+/.test(s) && lastTick(s) > before + 3);
    save("log-80x24", later);
    expect(later).toContain("following");

    // Every view at 80x24: nothing wider than the terminal.
    for (const [key, name, mark] of [
      ["2", "nodes", "REASON"],
      ["3", "queue", "WAITED"],
      ["6", "workspaces", "PERIOD"],
      ["7", "users", "2FA"],
    ] as const) {
      keys(key);
      const s = await waitScreen(name, (x) => x.includes(mark));
      save(`${name}-80x24`, s);
      for (const l of s.split("\n")) expect(Bun.stringWidth(l)).toBeLessThanOrEqual(80);
    }

    tmux("resize-window", "-t", SESSION, "-x", "160", "-y", "48");
    keys("1");
    const wide = await waitScreen("overview at 160x48", (s) => s.includes("GPU MODEL") && s.includes("tui-w1"));
    save("overview-160x48", wide);
    expect(wide.split("\n").length).toBeGreaterThanOrEqual(47);
    keys("4");
    save("jobs-160x48", await waitScreen("jobs at 160x48", (s) => s.includes("CREATED")));
    tmux("resize-window", "-t", SESSION, "-x", "80", "-y", "24");
    // Back at 80x24 the whole screen is redrawn to the new size: the key line is the last row.
    await waitScreen("redrawn at 80x24", (s) => (s.split("\n")[23] ?? "").includes("q quit") && !s.includes("CREATED"));
    keys("4");
    await waitScreen("jobs again", (s) => s.includes("ticker"));
    keys("x");
    const confirm = await waitScreen("confirmation", (s) => s.includes("Cancel job ticker"));
    expect(confirm).toContain("y yes");
    keys("y");
    const cancelled = await waitScreen("cancelled in the list", (s) => /ticker\s+tuiws\s+cancelled/.test(s), 30_000);
    save("jobs-cancelled-80x24", cancelled);
    expect((await api("GET", `/api/jobs/${jobId}`, token)).body.status).toBe("cancelled");

    keys("q");
  }, 120_000);
});
