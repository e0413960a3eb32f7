import { describe, expect, test } from "bun:test";
import { FailureWindow, RateLimiter, WINDOW_MS } from "../../src/auth/limits";

describe("login failure window", () => {
  test("blocks after max failures until the oldest counted one leaves the window", () => {
    const w = new FailureWindow(3);
    const t0 = 1_000_000;
    w.record("a", t0);
    w.record("a", t0 + 1000);
    expect(w.blockedFor("a", t0 + 2000)).toBe(0);
    w.record("a", t0 + 2000);
    expect(w.blockedFor("a", t0 + 2000)).toBe(WINDOW_MS - 2000);
    expect(w.blockedFor("b", t0 + 2000)).toBe(0);
    expect(w.blockedFor("a", t0 + WINDOW_MS + 1)).toBe(0);
  });
  test("clear forgets the failures of a key", () => {
    const w = new FailureWindow(1);
    w.record("a", 0);
    expect(w.blockedFor("a", 1)).toBeGreaterThan(0);
    w.clear("a");
    expect(w.blockedFor("a", 1)).toBe(0);
  });
});

describe("rate limiter", () => {
  test("allows limit hits per window per key, then reports the wait", () => {
    const r = new RateLimiter(2);
    const start = WINDOW_MS * 10;
    expect(r.hit("k", start)).toBe(0);
    expect(r.hit("k", start + 1)).toBe(0);
    expect(r.hit("k", start + 2)).toBe(WINDOW_MS - 2);
    expect(r.hit("other", start + 2)).toBe(0);
    expect(r.hit("k", start + WINDOW_MS)).toBe(0);
  });
});
