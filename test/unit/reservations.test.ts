import { describe, expect, test } from "bun:test";
import { type Reservation, reservationClash, workspaceStatus } from "../../src/domain/reservations";

const d = (day: number) => Date.UTC(2026, 0, day);
const r = (name: string, from: number, to: number, gpus: number): Reservation => ({
  name,
  start: d(from),
  end: d(to),
  gpus,
});

describe("reservations", () => {
  test.each<[string, Reservation, Reservation[], number, null | { reservedByOthers: number; clashing: string[] }]>([
    ["fits in an empty cluster", r("a", 1, 10, 4), [], 6, null],
    ["exactly fills the cluster", r("a", 1, 10, 2), [r("b", 1, 10, 4)], 6, null],
    ["over by one while b runs", r("a", 1, 10, 3), [r("b", 5, 8, 4)], 6, { reservedByOthers: 4, clashing: ["b"] }],
    [
      "b and c do not overlap each other: peak is the larger",
      r("a", 1, 30, 2),
      [r("b", 1, 10, 4), r("c", 10, 20, 5)],
      6,
      { reservedByOthers: 5, clashing: ["c"] },
    ],
    [
      "b and c overlap each other inside a's period",
      r("a", 1, 30, 1),
      [r("b", 1, 10, 3), r("c", 5, 20, 3)],
      6,
      { reservedByOthers: 6, clashing: ["b", "c"] },
    ],
    ["periods that only touch do not overlap", r("a", 10, 20, 6), [r("b", 1, 10, 6), r("c", 20, 30, 6)], 6, null],
    ["its own old reservation is ignored when editing", r("a", 1, 10, 6), [r("a", 1, 10, 6)], 6, null],
    ["alone larger than the cluster", r("a", 1, 10, 7), [], 6, { reservedByOthers: 0, clashing: [] }],
    ["zero-GPU workspaces never clash", r("a", 1, 10, 0), [r("b", 1, 10, 6)], 6, null],
    ["a zero-GPU workspace on a cluster without GPUs", r("a", 1, 10, 0), [], 0, null],
    ["a zero-GPU workspace on an overbooked cluster (nodes removed)", r("a", 1, 10, 0), [r("b", 1, 10, 6)], 2, null],
  ])("%s", (_name, candidate, others, capacity, expected) => {
    const clash = reservationClash(candidate, others, capacity);
    if (expected === null) expect(clash).toBeNull();
    else expect(clash).toMatchObject({ ...expected, capacity, requested: candidate.gpus });
  });

  test("random instances agree with a day-by-day count", () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 300; i++) {
      const others = Array.from({ length: rand(6) }, (_, k) => {
        const s = 1 + rand(20);
        return r(`w${k}`, s, s + 1 + rand(10), rand(5));
      });
      const s = 1 + rand(20);
      const cand = r("cand", s, s + 1 + rand(10), rand(5));
      const capacity = 4 + rand(8);
      let peak = 0;
      for (let day = s; day < s + 31; day++) {
        const t = d(day);
        if (t < cand.start || t >= cand.end) continue;
        peak = Math.max(
          peak,
          others.filter((o) => o.start <= t && t < o.end).reduce((a, o) => a + o.gpus, 0),
        );
      }
      const clash = reservationClash(cand, others, capacity);
      expect(clash !== null).toBe(cand.gpus > 0 && cand.gpus + peak > capacity);
    }
  });

  test("status follows the clock", () => {
    expect(workspaceStatus(d(1), d(2), d(3))).toBe("reserved");
    expect(workspaceStatus(d(2), d(2), d(3))).toBe("active");
    expect(workspaceStatus(d(3), d(2), d(3))).toBe("expired");
  });
});
