import { describe, expect, test } from "bun:test";
import { FailureWindow, LoginThrottle, RateLimiter, Semaphore, WINDOW_MS } from "../../src/auth/limits";

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

describe("login throttle", () => {
  test("blocks a pair after max failures, not the same account from another address", () => {
    const t = new LoginThrottle(3);
    for (let i = 0; i < 3; i++) t.failure("1.1.1.1", "bob", 1000);
    expect(t.blockedFor("1.1.1.1", "bob", 1000)).toBeGreaterThan(0);
    expect(t.blockedFor("2.2.2.2", "bob", 1000)).toBe(0);
    expect(t.blockedFor("1.1.1.1", "alice", 1000)).toBe(0);
    expect(t.blockedFor("1.1.1.1", "bob", 1000 + WINDOW_MS)).toBe(0);
  });
  test("an account under attack from many addresses stays open to known-good addresses", () => {
    const t = new LoginThrottle(3);
    t.success("9.9.9.9", "bob", 0);
    for (let a = 0; a < 15; a++) t.failure(`1.1.1.${a}`, "bob", 1000);
    expect(t.blockedFor("2.2.2.2", "bob", 1000)).toBeGreaterThan(0);
    expect(t.blockedFor("9.9.9.9", "bob", 1000)).toBe(0);
  });
  test("one address failing on many accounts is blocked for all of them", () => {
    const t = new LoginThrottle(3);
    for (let i = 0; i < 30; i++) t.failure("1.1.1.1", `u${i}`, 1000);
    expect(t.blockedFor("1.1.1.1", "fresh", 1000)).toBeGreaterThan(0);
    expect(t.blockedFor("1.1.1.2", "fresh", 1000)).toBe(0);
  });
});

describe("semaphore", () => {
  test("runs at most `slots` at once, queues up to `queue`, sheds the rest", async () => {
    const s = new Semaphore(2, 1);
    let running = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const job = () =>
      s.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => releases.push(r));
        running--;
        return "done";
      });
    const results = [job(), job(), job(), job()];
    expect(await results[3]).toBeNull();
    expect(s.waiting).toBe(1);
    while (releases.length > 0 || running > 0) {
      releases.shift()?.();
      await Bun.sleep(1);
    }
    expect(await Promise.all(results.slice(0, 3))).toEqual(["done", "done", "done"]);
    expect(peak).toBe(2);
  });
});
