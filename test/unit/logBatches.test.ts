// Docker's multiplexed, timestamped log stream → batches of whole lines (the job runner's input).
import { describe, expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { logBatches } from "../../src/executor/logBatches";

/** One frame of Docker's multiplexed stream: [stream, 0, 0, 0, size (BE)] + payload. */
function frame(payload: string, stream = 1): Buffer {
  const body = Buffer.from(payload, "utf8");
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

/** Feeds `chunks` to logBatches, one per event-loop turn, and collects the batches. */
async function batches(chunks: Buffer[], since: string | null = null) {
  const raw = new PassThrough();
  const out: { ts: string; text: string }[] = [];
  const reading = (async () => {
    for await (const b of logBatches(raw, since)) out.push(b);
  })();
  for (const c of chunks) {
    raw.write(c);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  raw.end();
  await reading;
  return out;
}

const T = (s: number) => `2026-01-01T00:00:${String(s).padStart(2, "0")}.000000001Z`;

describe("logBatches", () => {
  test("frames and lines split anywhere come out as whole lines, timestamps taken off", async () => {
    const stream = Buffer.concat([
      frame(`${T(1)} one\n`),
      frame(`${T(2)} two\n`, 2),
      frame(`${T(3)} thr`),
      frame("ee é\n"),
      frame(`${T(4)} \n`),
      frame(`${T(5)} last, no newline`),
    ]);
    // Cut the byte stream at odd places: inside headers, payloads and a UTF-8 character.
    const cuts = [3, 9, 20, 41, 57, 70, 90, 95, stream.length];
    const chunks: Buffer[] = [];
    let from = 0;
    for (const to of cuts) {
      chunks.push(stream.subarray(from, to));
      from = to;
    }
    const out = await batches(chunks);
    expect(out.map((b) => b.text).join("")).toBe("one\ntwo\nthree é\n\nlast, no newline\n");
    expect(out.every((b) => b.text.endsWith("\n"))).toBe(true);
    expect(out.at(-1)?.ts).toBe(T(5));
  });

  test("the chunks of one turn make one batch; `since` drops lines not after it", async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => frame(`${T(i % 60)} line ${i}\n`));
    const out = await batches([Buffer.concat(lines)]);
    expect(out.length).toBe(1);
    expect(out[0]?.text.split("\n").length).toBe(1001);
    const later = await batches([frame(`${T(1)} old\n`), frame(`${T(2)} same\n`), frame(`${T(3)} new\n`)], T(2));
    expect(later).toEqual([{ ts: T(3), text: "new\n" }]);
  });

  test("a big burst comes in batches of at most 256 KiB of whole lines", async () => {
    const line = `${T(1)} ${"x".repeat(99)}\n`;
    const out = await batches([frame(line.repeat(10_000))]);
    expect(out.length).toBeGreaterThan(3);
    for (const b of out) {
      expect(b.text.length).toBeLessThanOrEqual(256 * 1024);
      expect(b.text).toMatch(/^(x{99}\n)+$/);
    }
    expect(out.reduce((n, b) => n + b.text.length, 0)).toBe(100 * 10_000);
  });
});
