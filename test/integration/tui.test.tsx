// Frames of every view of the terminal dashboard, from API data recorded from a real master
// (test/fixtures/tui/snapshot.json, written by tuiTmux.test.ts with HANGAR_TUI_RECORD), at 80x24
// and 160x48, driven through the key table like a person would.
import { describe, expect, test } from "bun:test";
import { render } from "ink-testing-library";
import { Dashboard } from "../../tui/Dashboard";
import type { LogHandlers, Snapshot, Source } from "../../tui/source";
import recorded from "../fixtures/tui/snapshot.json";

const base = recorded as unknown as Snapshot;
const root = base.users[0] as Snapshot["users"][number];
const snapshot: Snapshot = {
  ...base,
  users: [
    root,
    { ...root, userId: "alice", role: "user", totpEnabled: true, hasSshKey: true },
    { ...root, userId: "bob", role: "manager", active: false },
  ],
  backups: [{ name: "jfb-20261202-030000.db", bytes: 1_572_864, takenAt: "2026-12-02T03:00:00.000Z" }],
};
const NOW = Date.parse(base.jobs[0]?.startedAt ?? base.health.version) + 95_000;

interface Calls {
  cancel: string[];
  setActive: [string, boolean][];
  connect: string[];
}

function fakeSource(opts: { fail?: () => string | null; log?: string[] } = {}) {
  const calls: Calls = { cancel: [], setActive: [], connect: [] };
  let follow: LogHandlers | null = null;
  const source: Source = {
    where: "http://master.test",
    load: async () => {
      const err = opts.fail?.();
      if (err) throw new Error(err);
      return snapshot;
    },
    connect: async (id) => calls.connect.push(id),
    disconnect: async () => null,
    probe: async () => {
      throw new Error("no probe here");
    },
    cancel: async (id) => calls.cancel.push(id),
    setActive: async (id, active) => calls.setActive.push([id, active]),
    followLog: (_id, on, signal) => {
      follow = on;
      for (const l of opts.log ?? []) on.line(l);
      return new Promise((resolve) => signal.addEventListener("abort", () => resolve()));
    },
  };
  return { source, calls, emit: (line: string) => follow?.line(line) };
}

async function until(cond: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await Bun.sleep(10);
}

function start(size = { columns: 80, rows: 24 }, opts: Parameters<typeof fakeSource>[0] = {}) {
  const fake = fakeSource(opts);
  const ui = render(<Dashboard source={fake.source} size={size} pollMs={60_000} now={() => NOW} />);
  const frame = () => ui.lastFrame() ?? "";
  const press = async (input: string, expect?: string) => {
    ui.stdin.write(input);
    if (expect) await until(() => frame().includes(expect));
    else await Bun.sleep(30);
  };
  return { ui, frame, press, ...fake };
}

const lines = (f: string) => f.split("\n");
const fits = (f: string, size: { columns: number; rows: number }) => {
  expect(lines(f).length).toBeLessThanOrEqual(size.rows);
  for (const l of lines(f)) expect(Bun.stringWidth(l)).toBeLessThanOrEqual(size.columns);
};

describe("terminal dashboard frames (recorded API data)", () => {
  test("Overview: a GPU bar per node, jobs, workspaces, health and the last backup; fits 80x24", async () => {
    const t = start();
    await until(() => t.frame().includes("tui-w1"));
    const f = t.frame();
    fits(f, { columns: 80, rows: 24 });
    expect(f).toContain("master ok");
    expect(f).toContain("root (admin)");
    expect(f).toMatch(/GPUs\s+█+░+ 1\/2 in use \(50%\)/);
    expect(f).toContain("jobs 1 running, 1 pending · workspaces 1 active");
    expect(f).toContain("backup jfb-20261202-030000.db");
    expect(f).toMatch(/tui-w1\s+attached\s+█+░+\s+1\/2\s+1/);
    expect(f).toContain("1/2 c connect");
    t.ui.unmount();
  });

  test("Nodes: status, GPUs with model, in use; Enter opens the detail, Esc closes it", async () => {
    const t = start();
    await until(() => t.frame().includes("tui-w1"));
    await t.press("2", "REASON");
    await t.press("j");
    await t.press("\r", "last seen");
    const f = t.frame();
    fits(f, { columns: 80, rows: 24 });
    expect(f).toMatch(/tui-w1\s+attached\s+1\/2\s+2× /);
    expect(f).toContain("node tui-w1");
    expect(f).toContain("storage shared · interfaces: control eth0");
    await t.press("\u001b");
    await until(() => !t.frame().includes("last seen"));
    expect(t.frame()).not.toContain("last seen");
    await t.press("c");
    await until(() => t.calls.connect.length > 0);
    expect(t.calls.connect).toEqual([snapshot.nodes[1]?.id as string]);
    t.ui.unmount();
  });

  test("Queue: the scheduler's order with the reason and the wait", async () => {
    const t = start();
    await t.press("3", "waiter");
    const f = t.frame();
    expect(f).toMatch(/1 waiter\s+tuiws\s+1\s+1s workspace tuiws: 1 of 1/);
    fits(f, { columns: 80, rows: 24 });
    t.ui.unmount();
  });

  test("Jobs: node by name, GPUs, duration; cancel asks first", async () => {
    const t = start();
    await t.press("4", "ticker");
    const f = t.frame();
    expect(f).toMatch(/ticker\s+tuiws\s+running\s+tui-w1\s+1\s+1m3\ds/);
    expect(f).toMatch(/waiter\s+tuiws\s+pending\s+-/);
    await t.press("x", "Cancel job ticker");
    expect(t.calls.cancel).toEqual([]);
    await t.press("n");
    await until(() => !t.frame().includes("Cancel job"));
    await t.press("x", "Cancel job ticker");
    await t.press("y");
    await until(() => t.calls.cancel.length > 0);
    expect(t.calls.cancel).toEqual([snapshot.jobs[0]?.id as string]);
    t.ui.unmount();
  });

  test("Log: lines arrive live, scroll back keeps its place, memory is bounded", async () => {
    const t = start({ columns: 80, rows: 24 }, { log: ["tick 1", "tick 2"] });
    await t.press("4", "ticker");
    await t.press("l", "tick 2");
    expect(t.frame()).toContain("following");
    for (let i = 3; i <= 40; i++) t.emit(`tick ${i}`);
    await until(() => t.frame().includes("tick 40"));
    expect(t.frame()).toContain("40 lines");
    await t.press("k");
    await t.press("k", "scrolled 2 up");
    expect(t.frame()).toContain("tick 38");
    expect(t.frame()).not.toContain("tick 40");
    for (let i = 41; i <= 6000; i++) t.emit(`tick ${i}`);
    await until(() => t.frame().includes("older dropped"));
    expect(t.frame()).toContain("5000 lines (+1000 older dropped)");
    await t.press("G", "at the end");
    await until(() => t.frame().includes("tick 6000"));
    // `/` filters the log's lines too.
    await t.press("/");
    for (const c of "tick 5999") await t.press(c);
    await t.press("\r");
    await until(() => !t.frame().includes("tick 6000"));
    expect(t.frame()).toContain("tick 5999");
    expect(t.frame()).not.toContain("tick 5998");
    fits(t.frame(), { columns: 80, rows: 24 });
    t.ui.unmount();
  });

  test("Workspaces: period, GPUs in use of reserved, members", async () => {
    const t = start();
    await t.press("6", "PERIOD");
    expect(t.frame()).toMatch(/tuiws\s+active\s+2020-01-01…2099-01-01\s+1\/1\s+0/);
    t.ui.unmount();
  });

  test("Users: type, active, 2FA; deactivate asks first; `/` filters", async () => {
    const t = start();
    await t.press("7", "alice");
    const f = t.frame();
    expect(f).toMatch(/alice\s+user\s+active\s+on/);
    expect(f).toMatch(/bob\s+manager\s+deactivated\s+off/);
    await t.press("/");
    for (const c of "bob") await t.press(c);
    await t.press("\r");
    await until(() => !t.frame().includes("alice"));
    expect(t.frame()).toContain("[/bob]");
    await t.press("a", "Reactivate bob");
    await t.press("y");
    await until(() => t.calls.setActive.length > 0);
    expect(t.calls.setActive).toEqual([["bob", true]]);
    t.ui.unmount();
  });

  test("160x48: more columns and the detail pane beside the table", async () => {
    const size = { columns: 160, rows: 48 };
    const t = start(size);
    await t.press("4", "CREATED");
    const f = t.frame();
    expect(f).toContain("USER");
    expect(f).toMatch(/ticker .*│ ?ticker \(/);
    fits(f, size);
    t.ui.unmount();
  });

  test("help comes from the key table; the master going away shows a line and recovers", async () => {
    let down = false;
    const t = start({ columns: 80, rows: 24 }, { fail: () => (down ? "connect ECONNREFUSED" : null) });
    await until(() => t.frame().includes("tui-w1"));
    await t.press("4", "ticker");
    await t.press("?", "any key closes");
    fits(t.frame(), { columns: 80, rows: 24 });
    expect(t.frame()).not.toContain("…");
    expect(t.frame()).toContain("cancel the job");
    expect(t.frame()).toContain("filter the rows");
    await t.press("z");
    await until(() => !t.frame().includes("any key closes"));
    down = true;
    await t.press("r", "MASTER UNREACHABLE");
    expect(t.frame()).toContain("tui-w1"); // the last data stays
    down = false;
    await t.press("r");
    await until(() => !t.frame().includes("UNREACHABLE"));
    expect(t.frame()).toContain("master ok");
    t.ui.unmount();
  });
});
