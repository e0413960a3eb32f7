// Docker's multiplexed, timestamped log stream → batches of whole lines. A container printing
// as fast as it can sends a frame per line; handing each on (an async step, a log append, a
// follower write) held the master's event loop under the soak's log-heavy job. Frames are
// demultiplexed by DockerFrames, and everything that arrives in one turn of the event loop is cut
// into batches of whole lines.
import type { Readable } from "node:stream";
import { DockerFrames } from "./dockerFrames";

/** Largest batch of log lines handed on at once. */
const BATCH_BYTES = 256 * 1024;

/** `bytes` (whole lines, each `<ts> <text>\n`) without the timestamps, lines not after `since` dropped. */
function stripTimestamps(bytes: Buffer, since: string | null): { ts: string; text: string } | null {
  const out = Buffer.allocUnsafe(bytes.length);
  let at = 0;
  let ts = "";
  for (let from = 0; from < bytes.length; ) {
    let nl = bytes.indexOf(10, from);
    if (nl < 0) nl = bytes.length;
    let space = bytes.indexOf(32, from);
    if (space < 0 || space > nl) space = nl;
    const lineTs = bytes.toString("latin1", from, space);
    if (!since || lineTs > since) {
      ts = lineTs;
      at += bytes.copy(out, at, Math.min(space + 1, nl), nl);
      out[at++] = 10;
    }
    from = nl + 1;
  }
  return at ? { ts, text: out.toString("utf8", 0, at) } : null;
}

/**
 * The payloads of `raw`, stdout and stderr together in arrival order, one buffer per turn of
 * the event loop. No pause/resume: a paused stream may end with data still unread, and the
 * consumer (one append per batch) keeps up with Docker.
 */
async function* demuxed(raw: Readable): AsyncGenerator<Buffer> {
  const frames = new DockerFrames();
  let ended = false;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  raw.on("data", (chunk: Buffer) => {
    frames.push(chunk);
    notify();
  });
  raw.on("end", () => {
    ended = true;
    notify();
  });
  raw.on("close", () => {
    ended = true;
    notify();
  });
  raw.on("error", (err) => {
    failure = err;
    notify();
  });
  for (;;) {
    const payloads = frames.take();
    if (payloads) {
      yield payloads;
      continue;
    }
    if (failure) throw failure;
    if (ended) return;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    // The rest of the burst arrives in this turn: take it together.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Batches of whole lines (each ending in `\n`, timestamps taken off) with the last line's timestamp. */
export async function* logBatches(raw: Readable, since: string | null): AsyncGenerator<{ ts: string; text: string }> {
  // Bytes after the last newline seen, waiting for the rest of their line.
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of demuxed(raw)) {
    const bytes = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    const cut = bytes.lastIndexOf(10) + 1;
    rest = Buffer.from(bytes.subarray(cut));
    for (let from = 0; from < cut; ) {
      // Up to BATCH_BYTES, ending at a newline (a longer line goes whole).
      let to = from + BATCH_BYTES >= cut ? cut : bytes.lastIndexOf(10, from + BATCH_BYTES - 1) + 1;
      if (to <= from) to = bytes.indexOf(10, from) + 1;
      const batch = stripTimestamps(bytes.subarray(from, to), since);
      from = to;
      if (batch) yield batch;
      // A fast container must not hold the event loop: other requests go between batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  if (rest.length) {
    const batch = stripTimestamps(Buffer.concat([rest, Buffer.from("\n")]), since);
    if (batch) yield batch;
  }
}
