// The web app's browser-side rules and formatting (pure modules; the rules are the server's own).
import { describe, expect, test } from "bun:test";
import { problemOf } from "../../src/client/api";
import { parseSse } from "../../src/client/stream";
import { passwordProblem as serverPasswordProblem, userIdProblem as serverUserIdProblem } from "../../src/domain/rules";
import {
  authorizeCommand,
  bytes,
  dateTime,
  fromLocalInput,
  gpuUse,
  pageRange,
  percent,
  plural,
  roleLabel,
  sshCommand,
  statusLabel,
  toLocalInput,
} from "../../web/src/format";
import { match, path } from "../../web/src/paths";
import {
  checkUploads,
  defaultChoice,
  newUserProblems,
  parseParameters,
  passwordProblem,
  uploadPath,
  userIdProblem,
} from "../../web/src/rules";

describe("formatting", () => {
  test("dates are shown in the browser's local time, garbage and nothing as a dash", () => {
    const iso = "2026-03-04T09:05:07.000Z";
    const d = new Date(iso);
    const pad = (n: number) => String(n).padStart(2, "0");
    expect(dateTime(iso)).toBe(
      `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:07`,
    );
    expect(dateTime(null)).toBe("—");
    expect(dateTime("not a date")).toBe("—");
  });

  test("datetime-local values round-trip through ISO UTC", () => {
    const local = toLocalInput("2026-05-01T12:30:00.000Z");
    expect(local).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d$/);
    expect(fromLocalInput(local)).toBe("2026-05-01T12:30:00.000Z");
    expect(fromLocalInput("")).toBeNull();
  });

  test("sizes in powers of 1024", () => {
    expect(bytes(0)).toBe("0 B");
    expect(bytes(512)).toBe("512 B");
    expect(bytes(1536)).toBe("1.50 KB");
    expect(bytes(12.3 * 1024 * 1024)).toBe("12.3 MB");
    expect(bytes(984 * 1024 ** 3)).toBe("984 GB");
    expect(bytes(null)).toBe("—");
  });

  test("GPU use, percentages, plurals and page ranges", () => {
    expect(gpuUse(1, 2)).toBe("1/2 GPUs");
    expect(gpuUse(0.5, 1)).toBe("0.5/1 GPU");
    expect(percent(1, 3)).toBe("33%");
    expect(percent(1, 0)).toBe("0%");
    expect(plural(1, "file")).toBe("1 file");
    expect(plural(4, "file")).toBe("4 files");
    expect(pageRange(10, 10, 23)).toBe("11–20 of 23");
    expect(pageRange(0, 0, 0)).toBe("0 of 0");
  });

  test("the manual's names for user types and statuses", () => {
    expect(roleLabel("manager")).toBe("Workspace Manager");
    expect(roleLabel("owner")).toBe("Training Owner");
    expect(statusLabel("attached")).toBe("Attached");
  });

  test("the authorize command appends the master key to the right home", () => {
    const key = "ssh-ed25519 AAAAC3Nz hangar-master";
    expect(authorizeCommand(key)).toBe(
      `mkdir -p /root/.ssh && echo '${key}' >> /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys`,
    );
    expect(authorizeCommand(key, "gpu")).toContain("/home/gpu/.ssh/authorized_keys");
    expect(sshCommand("alice", "10.0.0.1", 30022)).toBe("ssh alice@10.0.0.1 -p 30022");
  });
});

describe("rules shared with the server", () => {
  test("the browser uses the server's own functions", () => {
    for (const id of ["ab", "Bob", "a--b", "-ab", "good-id", "x".repeat(21)])
      expect(userIdProblem(id)).toBe(serverUserIdProblem(id));
    for (const pw of ["short", "noDigits!!", "n0special", "ok1!pass", "bad space1!"])
      expect(passwordProblem(pw)).toBe(serverPasswordProblem(pw));
  });

  test("Add User: quiet until typed, then each field's problem", () => {
    expect(newUserProblems({ userId: "", password: "", again: "", role: "user" })).toEqual({});
    const p = newUserProblems({ userId: "Bob", password: "abc", again: "abd", role: "user" });
    expect(p.userId).toContain("lowercase");
    expect(p.password).toContain("8–20");
    expect(p.again).toBe("the two passwords differ");
    expect(newUserProblems({ userId: "bob", password: "bobPass1!", again: "bobPass1!", role: "boss" })).toEqual({
      role: "choose a user type",
    });
    expect(
      newUserProblems({ userId: "", password: "", again: "", role: "user" }, { userId: true }).userId,
    ).toBeDefined();
  });

  test("uploads: folders kept, forbidden names refused with the reason, the rest kept", () => {
    const file = (name: string, rel = "") => Object.assign(new File(["x"], name), { webkitRelativePath: rel });
    expect(uploadPath(file("a.txt"))).toBe("a.txt");
    expect(uploadPath(file("a.txt", "imgs/cats/a.txt"))).toBe("imgs/cats/a.txt");
    expect(uploadPath(file("a.txt"), "/sub/")).toBe("sub/a.txt");
    const picked = ["ok.txt", "bad name.txt", "what?.csv", "한글.txt", "dir/fine.bin"].map((p) => ({
      file: file(p),
      path: p,
    }));
    const { ok, refused } = checkUploads(picked);
    expect(ok.map((f) => f.path)).toEqual(["ok.txt", "dir/fine.bin"]);
    expect(refused.map((r) => r.path)).toEqual(["bad name.txt", "what?.csv", "한글.txt"]);
    expect(refused[0]?.reason).toContain("no spaces");
    expect(refused[1]?.reason).toContain("?");
  });

  test("parameter sets: key=value pairs, names as the server allows", () => {
    expect(parseParameters("batch_size=32 epochs=10")).toEqual({ set: { batch_size: "32", epochs: "10" } });
    expect(parseParameters("  ")).toEqual({ set: {} });
    expect(parseParameters("lr=0.1=x")).toEqual({ set: { lr: "0.1=x" } });
    expect("problem" in parseParameters("oops")).toBe(true);
    expect("problem" in parseParameters("9lives=1")).toBe(true);
  });

  test("Get Info defaults: 1 GbE for control, the fastest other for data, InfiniBand if any", () => {
    expect(
      defaultChoice([
        { name: "lo", kind: "virtual" },
        { name: "docker0", kind: "virtual" },
        { name: "eno1", kind: "1GbE" },
        { name: "enp4s0f0", kind: "10GbE" },
        { name: "enp5s0", kind: "25GbE" },
        { name: "ib0", kind: "InfiniBand" },
      ]),
    ).toEqual({ control: "eno1", data: "enp5s0", infiniband: "ib0" });
    expect(defaultChoice([{ name: "eth0", kind: "unknown" }])).toEqual({
      control: "eth0",
      data: undefined,
      infiniband: undefined,
    });
  });
});

describe("URLs and the client's parsing", () => {
  test("route patterns match and decode; paths encode", () => {
    expect(match("/workspaces/:ws/trainings/:tr", "/workspaces/a-b/trainings/t%201")).toEqual({ ws: "a-b", tr: "t 1" });
    expect(match("/workspaces/:ws", "/workspaces/a/trainings")).toBeNull();
    expect(match("/nodes", "/users")).toBeNull();
    expect(path("workspaces", "a b", "datasets")).toBe("/workspaces/a%20b/datasets");
  });

  test("SSE: whole messages out, the partial rest kept", () => {
    const { messages, rest } = parseSse(
      'event: line\ndata: step 1\n\nevent: line\ndata: a\ndata: b\n\nevent: end\ndata: {"st',
    );
    expect(messages).toEqual([
      { event: "line", data: "step 1" },
      { event: "line", data: "a\nb" },
    ]);
    expect(rest).toBe('event: end\ndata: {"st');
  });

  test("SSE keepalive comments are not messages", () => {
    const { messages, rest } = parseSse(": keepalive\n\nevent: line\ndata: late\n\n: keepalive\n\n");
    expect(messages).toEqual([{ event: "line", data: "late" }]);
    expect(rest).toBe("");
  });

  test("the API's error body becomes message and field; anything else a plain message", () => {
    expect(problemOf(400, { error: { code: "invalid_field", message: "bad name", field: "name" } })).toEqual({
      status: 400,
      code: "invalid_field",
      message: "bad name",
      field: "name",
    });
    expect(problemOf(502, "Bad Gateway").message).toBe("Bad Gateway");
    expect(problemOf(500, null).message).toBe("request failed (HTTP 500)");
  });
});
