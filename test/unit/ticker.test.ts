import { describe, expect, test } from "bun:test";
import { ManualTicker, realTicker, type Ticker } from "../../src/lib/ticker";

describe("ticker", () => {
  test("a manual ticker runs a named timer only when stepped, and waits for it", async () => {
    const ticker = new ManualTicker();
    const runs: string[] = [];
    ticker.every("a", 1000, async () => {
      await Bun.sleep(5);
      runs.push("a");
    });
    ticker.every("b", 1000, () => runs.push("b"));
    await Bun.sleep(20);
    expect(runs).toEqual([]);
    await ticker.tick("a");
    expect(runs).toEqual(["a"]);
    expect(ticker.names().sort()).toEqual(["a", "b"]);
    expect(ticker.periodOf("b")).toBe(1000);
  });

  test("a stopped timer is gone; an unknown name is an error", async () => {
    const ticker = new ManualTicker();
    let n = 0;
    const timer = ticker.every("a", 10, () => n++);
    await ticker.tick("a");
    timer.stop();
    await expect(ticker.tick("a")).rejects.toThrow("no running timer named a");
    expect(n).toBe(1);
  });

  test("names given as real time go to the real ticker", () => {
    const handed: string[] = [];
    const real: Ticker = {
      every(name) {
        handed.push(name);
        return { stop() {} };
      },
    };
    const ticker = new ManualTicker(["scheduler"], real);
    ticker.every("scheduler", 100, () => {});
    ticker.every("health", 100, () => {});
    expect(handed).toEqual(["scheduler"]);
    expect(ticker.names()).toEqual(["health"]);
  });

  test("the real ticker repeats until stopped", async () => {
    let n = 0;
    const timer = realTicker.every("t", 5, () => n++);
    await Bun.sleep(40);
    timer.stop();
    const seen = n;
    expect(seen).toBeGreaterThan(1);
    await Bun.sleep(20);
    expect(n).toBe(seen);
  });
});
