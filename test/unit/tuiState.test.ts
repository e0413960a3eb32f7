// The dashboard reducer: selection that follows its row, filters, the log's memory bound, the
// unreachable state and its recovery, unchanged data kept by reference.
import { describe, expect, test } from "bun:test";
import { bar, duration, filterRows, tableFor } from "../../tui/rows";
import type { Snapshot } from "../../tui/source";
import {
  type Action,
  initialState,
  LOG_MAX_LINES,
  reduce,
  type State,
  selectedIndex,
  visibleRows,
} from "../../tui/state";
import recorded from "../fixtures/tui/snapshot.json";

const base = recorded as unknown as Snapshot;
const user = base.users[0] as Snapshot["users"][number];
const snap = (names: string[]): Snapshot => ({
  ...base,
  users: names.map((userId) => ({ ...user, userId })),
});
const run = (actions: Action[], from: State = initialState) => actions.reduce(reduce, from);
const loaded = (s: Snapshot, at = 1): Action => ({ type: "loaded", snapshot: s, at });

describe("tui reducer", () => {
  test("the selection moves, clamps, and stays on its row when rows move", () => {
    let s = run([loaded(snap(["a", "b", "c"])), { type: "view", view: "users" }, { type: "move", delta: 1 }]);
    expect(s.cursors.users.id).toBe("b");
    s = run([{ type: "move", delta: 10 }], s);
    expect(s.cursors.users.id).toBe("c");
    s = run([{ type: "moveTo", where: "top" }], s);
    expect(s.cursors.users.id).toBe("a");
    s = run([{ type: "move", delta: 1 }, loaded(snap(["z", "a", "b", "c"]), 2)], s);
    expect(selectedIndex(s.cursors.users, visibleRows(s))).toBe(2);
    // Its row gone: the same place, clamped.
    s = run([loaded(snap(["z"]), 3)], s);
    expect(selectedIndex(s.cursors.users, visibleRows(s))).toBe(0);
  });

  test("a filter narrows the rows; Esc drops it; the cursor moves within the filtered rows", () => {
    let s = run([loaded(snap(["alice", "bob", "alina"])), { type: "view", view: "users" }, { type: "filterStart" }]);
    expect(s.editingFilter).toBe(true);
    s = run(
      [
        { type: "filterText", text: "al" },
        { type: "filterEnd", keep: true },
        { type: "move", delta: 1 },
      ],
      s,
    );
    expect(visibleRows(s).map((r) => r.id)).toEqual(["alice", "alina"]);
    expect(s.cursors.users.id).toBe("alina");
    s = run([{ type: "back" }], s);
    expect(s.filters.users).toBe("");
    expect(visibleRows(s)).toHaveLength(3);
  });

  test("back closes help, then the detail pane, then leaves the log for Jobs", () => {
    let s = run([loaded(base), { type: "detail", open: true }, { type: "help", open: true }]);
    s = run([{ type: "back" }], s);
    expect([s.help, s.detail]).toEqual([false, true]);
    s = run([{ type: "back" }], s);
    expect(s.detail).toBe(false);
    s = run([{ type: "logOpen", jobId: "j1", name: "one" }, { type: "back" }], s);
    expect(s.view).toBe("jobs");
  });

  test("views cycle both ways", () => {
    expect(run([{ type: "cycleView", delta: -1 }]).view).toBe("users");
    expect(run([{ type: "cycleView", delta: 1 }]).view).toBe("nodes");
  });

  test("the log keeps the last LOG_MAX_LINES lines and counts what it dropped", () => {
    let s = run([{ type: "logOpen", jobId: "j1", name: "one" }]);
    const batch = Array.from({ length: 3000 }, (_, i) => `line ${i}`);
    s = run(
      [
        { type: "logLines", lines: batch },
        { type: "logLines", lines: batch },
      ],
      s,
    );
    expect(s.log?.lines).toHaveLength(LOG_MAX_LINES);
    expect(s.log?.dropped).toBe(6000 - LOG_MAX_LINES);
    expect(s.log?.lines.at(-1)).toBe("line 2999");
  });

  test("scrolled up, new lines do not move what is on screen; G follows again", () => {
    let s = run([
      { type: "logOpen", jobId: "j1", name: "one" },
      { type: "logLines", lines: ["a", "b", "c"] },
    ]);
    s = run([{ type: "move", delta: -1 }], s);
    expect(s.log?.scroll).toBe(1);
    s = run([{ type: "logLines", lines: ["d", "e"] }], s);
    expect(s.log?.scroll).toBe(3);
    s = run([{ type: "moveTo", where: "bottom" }], s);
    expect(s.log?.scroll).toBe(0);
  });

  test("a failure keeps the last data and says unreachable; the next load clears it", () => {
    let s = run([loaded(base), { type: "failed", error: "connect ECONNREFUSED", unreachable: true }]);
    expect(s.snapshot).not.toBeNull();
    expect([s.error, s.unreachable]).toEqual(["connect ECONNREFUSED", true]);
    s = run([loaded(base, 5)], s);
    expect([s.error, s.unreachable, s.loadedAt]).toEqual([null, false, 5]);
  });

  test("an unchanged poll keeps the old objects (no redraw of what did not change)", () => {
    const first = run([loaded(base)]);
    const copy = JSON.parse(JSON.stringify(base)) as Snapshot;
    const again = run([loaded(copy, 2)], first);
    expect(again.snapshot).toBe(first.snapshot);
    const changed = JSON.parse(JSON.stringify(base)) as Snapshot;
    changed.users = [{ ...user, userId: "new" }];
    const third = run([loaded(changed, 3)], again);
    expect(third.snapshot).not.toBe(again.snapshot);
    expect(third.snapshot?.nodes).toBe(first.snapshot?.nodes);
    expect(third.snapshot?.users).not.toBe(first.snapshot?.users);
  });
});

describe("tui rows", () => {
  test("GPU bars show the share by shape", () => {
    expect(bar(1, 4, 8)).toBe("██░░░░░░");
    expect(bar(4, 4, 4)).toBe("████");
    expect(bar(0, 0, 3)).toBe("···");
  });

  test("durations", () => {
    expect([duration(5), duration(65), duration(3700), duration(90_000)]).toEqual(["5s", "1m05s", "1h01m", "1d1h"]);
  });

  test("jobs show the node's name, not its id; filters match any cell", () => {
    const t = tableFor("jobs", base, Date.now());
    expect(t.rows[0]?.cells[3]).toBe("tui-w1");
    expect(filterRows(t.rows, "PENDING").map((r) => r.cells[0])).toEqual(["waiter"]);
  });
});
