// DockerFrames against docker-modem's demuxStream (the reference it replaces): the same payload
// bytes for the same stream, however the stream is cut into chunks.
import { describe, expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import Docker from "dockerode";
import { DockerFrames } from "../../src/executor/dockerFrames";

const modem = new Docker({ socketPath: "/nonexistent" }).modem;

function frame(payload: Buffer, stream: number): Buffer {
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

/** A seeded pseudo-random generator (mulberry32): the same cases on every run. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What docker-modem hands to its sinks (stdout and stderr into one, in order). */
async function reference(chunks: Buffer[]): Promise<Buffer> {
  const raw = new PassThrough();
  const got: Buffer[] = [];
  const sink = { write: (b: Buffer) => got.push(Buffer.from(b)) > 0 };
  modem.demuxStream(raw, sink as never, sink as never);
  for (const c of chunks) raw.write(c);
  raw.end();
  await new Promise((resolve) => raw.on("end", resolve).resume());
  return Buffer.concat(got);
}

function ours(chunks: Buffer[]): Buffer {
  // Taken after some chunks, not others (a turn of the event loop may bring several).
  const frames = new DockerFrames();
  const got: Buffer[] = [];
  chunks.forEach((c, i) => {
    frames.push(c);
    if (i % 3 !== 1) got.push(frames.take() ?? Buffer.alloc(0));
  });
  got.push(frames.take() ?? Buffer.alloc(0));
  return Buffer.concat(got);
}

function cut(stream: Buffer, rnd: () => number, largest: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < stream.length; ) {
    const n = 1 + Math.floor(rnd() * largest);
    chunks.push(stream.subarray(at, at + n));
    at += n;
  }
  return chunks;
}

describe("DockerFrames", () => {
  test("random frames (stdout, stderr, empty, 40 kB) cut at random places: the reference's bytes", async () => {
    const rnd = random(7);
    for (let round = 0; round < 40; round++) {
      const parts: Buffer[] = [];
      for (let i = 0; i < 200; i++) {
        const size = rnd() < 0.02 ? 40_000 : Math.floor(rnd() * 120);
        const payload = Buffer.alloc(size, 97 + (i % 26));
        parts.push(frame(payload, rnd() < 0.3 ? 2 : 1));
      }
      const stream = Buffer.concat(parts);
      // Small cuts split headers; large ones hold many frames.
      const chunks = cut(stream, rnd, round % 2 ? 50 : 70_000);
      const want = await reference(chunks);
      expect(want.length).toBeGreaterThan(0);
      expect(ours(chunks).equals(want)).toBe(true);
    }
  });

  test("every cut point of a small stream", async () => {
    const stream = Buffer.concat([
      frame(Buffer.from("one\n"), 1),
      frame(Buffer.from("é two\n"), 2),
      frame(Buffer.alloc(0), 1),
      frame(Buffer.from("three"), 1),
    ]);
    const want = await reference([stream]);
    expect(want.toString()).toBe("one\né two\nthree");
    for (let a = 1; a < stream.length; a++)
      for (let b = a; b < stream.length; b++) {
        const chunks = [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)];
        expect(ours(chunks).toString()).toBe(want.toString());
      }
  });

  test("a stream that is not multiplexed (a TTY) passes through as is, like the reference", async () => {
    const chunks = [frame(Buffer.from("ok\n"), 1), Buffer.from("plain text from a TTY\n"), Buffer.from("more\n")];
    const want = await reference(chunks);
    expect(want.toString()).toContain("plain text from a TTY");
    expect(ours(chunks).equals(want)).toBe(true);
  });
});
