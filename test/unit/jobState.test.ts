import { describe, expect, test } from "bun:test";
import { canMove, IllegalTransition, JOB_STATES, type JobState, transition } from "../../src/domain/jobState";

const legal: [JobState, JobState][] = [
  ["pending", "starting"],
  ["pending", "cancelled"],
  ["pending", "failed"],
  ["starting", "running"],
  ["starting", "failed"],
  ["starting", "pending"],
  ["starting", "lost"],
  ["running", "succeeded"],
  ["running", "failed"],
  ["running", "cancelled"],
  ["running", "lost"],
  ["lost", "pending"],
];

describe("job state machine", () => {
  test.each(legal)("%s → %s is legal", (from, to) => {
    expect(transition(from, to)).toBe(to);
  });
  test("every other move is refused", () => {
    let refused = 0;
    for (const from of JOB_STATES)
      for (const to of JOB_STATES) {
        if (
          legal.some(([f, t]) => f === from && t === to) ||
          (from === "starting" && ["succeeded", "cancelled"].includes(to))
        )
          continue;
        expect(canMove(from, to)).toBe(false);
        expect(() => transition(from, to)).toThrow(IllegalTransition);
        refused++;
      }
    expect(refused).toBeGreaterThan(30);
  });
  test("final states never move", () => {
    for (const from of ["succeeded", "failed", "cancelled"] as JobState[])
      for (const to of JOB_STATES) expect(canMove(from, to)).toBe(false);
  });
});
