// The dashboard's one key table: what each key does where, and the help built from the same rows.
import { describe, expect, test } from "bun:test";
import { BINDINGS, commandFor, helpFor, hintFor, VIEWS } from "../../tui/keys";

describe("tui key table", () => {
  test("arrows and j/k move, Enter opens, Esc goes back, / r q ?", () => {
    expect(commandFor("", { upArrow: true }, "jobs")).toBe("up");
    expect(commandFor("k", {}, "jobs")).toBe("up");
    expect(commandFor("", { downArrow: true }, "nodes")).toBe("down");
    expect(commandFor("j", {}, "nodes")).toBe("down");
    expect(commandFor("", { return: true }, "users")).toBe("open");
    expect(commandFor("", { escape: true }, "users")).toBe("back");
    expect(commandFor("/", {}, "queue")).toBe("filter");
    expect(commandFor("r", {}, "queue")).toBe("refresh");
    expect(commandFor("q", {}, "overview")).toBe("quit");
    expect(commandFor("?", {}, "overview")).toBe("help");
  });

  test("number keys and Tab / Shift-Tab switch views", () => {
    VIEWS.forEach((v, i) => {
      expect(commandFor(String(i + 1), {}, "overview")).toBe(`view:${v}`);
    });
    expect(commandFor("", { tab: true }, "jobs")).toBe("nextView");
    expect(commandFor("", { tab: true, shift: true }, "jobs")).toBe("prevView");
  });

  test("a view's own actions work only there", () => {
    expect(commandFor("x", {}, "jobs")).toBe("cancelJob");
    expect(commandFor("x", {}, "users")).toBeNull();
    expect(commandFor("a", {}, "users")).toBe("toggleActive");
    expect(commandFor("a", {}, "jobs")).toBeNull();
    expect(commandFor("c", {}, "nodes")).toBe("connect");
    expect(commandFor("l", {}, "jobs")).toBe("followLog");
  });

  test("modes: a confirmation takes only y/n/Esc, the filter takes Enter/Esc and leaves letters to the text", () => {
    expect(commandFor("y", {}, "jobs", "confirm")).toBe("yes");
    expect(commandFor("n", {}, "jobs", "confirm")).toBe("no");
    expect(commandFor("", { escape: true }, "jobs", "confirm")).toBe("no");
    expect(commandFor("q", {}, "jobs", "confirm")).toBeNull();
    expect(commandFor("q", {}, "jobs", "filter")).toBeNull();
    expect(commandFor("", { return: true }, "jobs", "filter")).toBe("filterDone");
    expect(commandFor("", { escape: true }, "jobs", "filter")).toBe("filterClear");
  });

  test("ctrl-combinations are not plain keys", () => {
    expect(commandFor("q", { ctrl: true }, "jobs")).toBeNull();
  });

  test("no key means two things in the same view and mode", () => {
    for (const view of VIEWS)
      for (const mode of ["normal", "confirm", "filter"] as const) {
        const seen = new Map<string, string>();
        for (const b of BINDINGS) {
          if ((b.mode ?? "normal") !== mode || (b.views && !b.views.includes(view))) continue;
          for (const k of b.keys) {
            const id = `${k.char ?? k.special}${k.shift ? "+shift" : ""}`;
            expect(seen.get(id) ?? b.command).toBe(b.command);
            seen.set(id, b.command);
          }
        }
      }
  });

  test("the help lists every binding of the view, from the table", () => {
    const help = helpFor("jobs");
    const expected = BINDINGS.filter((b) => !b.mode && (!b.views || b.views.includes("jobs")));
    expect(help.length).toBe(expected.length);
    expect(help).toContainEqual({ keys: "x", help: "cancel the job (asks)" });
    expect(help).toContainEqual({ keys: "↑ k", help: "up (Log: scroll up)" });
    expect(helpFor("nodes").some((h) => h.help.startsWith("cancel"))).toBe(false);
    expect(hintFor("users")).toBe("a (de)activate  ? help  q quit");
  });
});
