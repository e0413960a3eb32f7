import { describe, expect, test } from "bun:test";
import { type HealthInput, nextHealth } from "../../src/domain/nodeHealth";

const base: HealthInput = {
  desired: "attached",
  status: "attached",
  statusMessage: null,
  failuresInRow: 0,
  lostAfter: 3,
  probe: { ok: true, warning: null },
};
const fail = { ok: false as const, reason: "ssh 10.0.0.2:22: connection refused" };

describe("node health", () => {
  test.each<[string, Partial<HealthInput>, ReturnType<typeof nextHealth>]>([
    ["ok probe keeps attached", {}, { status: "attached", statusMessage: null, failuresInRow: 0 }],
    [
      "ok probe with a warning",
      { probe: { ok: true, warning: "no nvidia runtime" } },
      { status: "attached", statusMessage: "no nvidia runtime", failuresInRow: 0 },
    ],
    [
      "first failure of an attached node is tolerated",
      { probe: fail },
      { status: "attached", statusMessage: null, failuresInRow: 1 },
    ],
    [
      "second failure still tolerated",
      { probe: fail, failuresInRow: 1 },
      { status: "attached", statusMessage: null, failuresInRow: 2 },
    ],
    [
      "third failure in a row → error with the reason",
      { probe: fail, failuresInRow: 2 },
      { status: "error", statusMessage: fail.reason, failuresInRow: 3 },
    ],
    [
      "a failed connect check → error at once",
      { status: "attaching", probe: fail },
      { status: "error", statusMessage: fail.reason, failuresInRow: 1 },
    ],
    [
      "error stays error while failing, with the newest reason",
      { status: "error", statusMessage: "old", failuresInRow: 5, probe: fail },
      { status: "error", statusMessage: fail.reason, failuresInRow: 6 },
    ],
    [
      "error comes back by itself when the node answers",
      { status: "error", statusMessage: "old", failuresInRow: 9 },
      { status: "attached", statusMessage: null, failuresInRow: 0 },
    ],
    [
      "a detached node stays detached whatever the probe",
      { desired: "detached", status: "detached", probe: fail },
      { status: "detached", statusMessage: null, failuresInRow: 0 },
    ],
    [
      "lostAfter 1 → error on the first failure",
      { lostAfter: 1, probe: fail },
      { status: "error", statusMessage: fail.reason, failuresInRow: 1 },
    ],
  ])("%s", (_name, input, expected) => {
    expect(nextHealth({ ...base, ...input })).toEqual(expected);
  });
});
