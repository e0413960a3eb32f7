// LogHub's stored log under its cap: head kept, tail rotated, the middle dropped only past the cap
// — whatever size the batches come in (a fast node hands over batches bigger than the tail).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LogHub } from "../../src/jobs/logs";

const lines = (from: number, to: number) => {
  let s = "";
  for (let i = from; i <= to; i++) s += `${i}\n`;
  return s;
};
const numbers = (text: string) => text.split("\n").filter((l) => /^\d+$/.test(l));

describe("LogHub cap", () => {
  const dir = mkdtempSync(join(tmpdir(), "loghub-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const hub = (maxBytes: number) => new LogHub(dir, { maxBytes, followersPerJob: 3, followersTotal: 5 });

  test("a log under the cap is whole, even when one batch is bigger than the tail", () => {
    const h = hub(1024 * 1024); // head 512 KiB, tail 256 KiB
    h.append("a", lines(1, 50_000)); // 288,894 bytes: in the head
    h.end("a");
    h.append("a", lines(50_001, 130_000)); // 510,001 bytes: fills the head, 268 KiB left for a 256 KiB tail
    h.end("a");
    const got = numbers(h.read("a"));
    expect(got.length).toBe(130_000);
    expect(got.every((l, i) => Number(l) === i + 1)).toBe(true);
    expect(h.read("a")).not.toContain("were dropped");
  });

  test("past the cap the head and the newest lines stay, with one line saying how much went", () => {
    const h = hub(64 * 1024);
    for (let i = 0; i < 20; i++) h.append("b", lines(i * 10_000 + 1, (i + 1) * 10_000));
    h.end("b");
    const text = h.read("b");
    expect(text.length).toBeLessThanOrEqual(64 * 1024 + 200);
    expect(text).toStartWith("1\n2\n3\n");
    expect(text).toMatch(/\[hangar\] \d+ bytes of this log were dropped/);
    const got = numbers(text);
    expect(got.at(-1)).toBe("200000");
    const tail = got.slice(-1000);
    expect(tail.every((l, i) => Number(l) === 200_000 - 999 + i)).toBe(true);
  });
});
