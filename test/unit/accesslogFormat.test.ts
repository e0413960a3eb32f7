import { describe, expect, test } from "bun:test";
import { formatEntry, isoOf } from "../../src/accesslog/writer";

describe("access log time text", () => {
  test("isoOf gives exactly toISOString, within one second and across seconds", () => {
    const base = Date.UTC(2026, 10, 23, 12, 0, 59, 990);
    for (let step = 0; step < 40; step++) {
      const d = new Date(base + step * 3); // crosses into the next second and minute
      expect(isoOf(d)).toBe(d.toISOString());
    }
  });

  test("isoOf matches toISOString for scattered dates, including before 1970 and going back in time", () => {
    const samples = [0, 1, 999, 1000, -1, -999, -1001, 86_399_999, Date.UTC(1999, 11, 31, 23, 59, 59, 5)];
    let x = 123_456_789;
    for (let i = 0; i < 200; i++) {
      x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
      samples.push((x - 1_073_741_824) * 1_000 + (x % 1000));
    }
    for (const ms of samples) {
      const d = new Date(ms);
      expect(isoOf(d)).toBe(d.toISOString());
    }
  });

  test("a line carries time, user, IP (IPv4-mapped shortened), method, path, status, ms; tabs and newlines in the path are flattened", () => {
    const line = formatEntry({
      time: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
      user: null,
      ip: "::ffff:10.0.0.7",
      method: "GET",
      path: "/api/a\tb\nc",
      status: 404,
      ms: 1.26,
    });
    expect(line).toBe("2026-01-02T03:04:05.006Z\t-\t10.0.0.7\tGET\t/api/a b c\t404\t1.3ms");
  });
});
