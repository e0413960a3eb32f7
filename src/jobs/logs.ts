// Job logs: lines are appended to <data>/jobs/<id>/log (kept after the container is gone) and
// handed to live followers (SSE) as they arrive.
//
// Appends are batched in memory and written when a job's batch reaches FLUSH_BYTES, every
// FLUSH_MS, when the job ends, before any read, and when the master stops (close) — one write per
// batch, not per line. A job's stored log is capped (HANGAR_JOB_LOG_MAX_MB): the first half of the
// cap stays in `log` (the head); past it, lines go to `log.tail`, which is rotated to `log.tail.1`
// each time it reaches a quarter of the cap, so the newest quarter to half of the cap is kept
// (the tail) and the middle is dropped, with one `[hangar]` line saying how much. Reads stream the
// files in chunks; followers are capped per job and in total.
import {
  appendFileSync,
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { rateLimited } from "../domain/errors";
import { type DataLayout, dataLayout } from "../lib/layout";

type Listener = (event: { text: string } | { end: true }) => void;

const FLUSH_BYTES = 256 * 1024;
const FLUSH_MS = 200;
const READ_CHUNK = 256 * 1024;

export interface LogLimits {
  /** Largest stored log of one job, in bytes. */
  maxBytes: number;
  /** Live followers of one job. */
  followersPerJob: number;
  /** Live followers across all jobs. */
  followersTotal: number;
}

export const DEFAULT_LOG_LIMITS: LogLimits = {
  maxBytes: 100 * 1024 * 1024,
  followersPerJob: 10,
  followersTotal: 200,
};

interface Pending {
  chunks: string[];
  bytes: number;
  /** Timestamps (by stream key) to persist once the lines before them are on disk. */
  timestamps: Map<string, string>;
}

/** A log as it was at one moment: open files (they survive a rotation) and the bytes to read. */
interface Snapshot {
  parts: { fd: number; size: number }[];
  /** Bytes dropped between the head and the tail, 0 when nothing was. */
  dropped: number;
}

export class LogHub {
  private listeners = new Map<string, Set<Listener>>();
  private followers = 0;
  private pending = new Map<string, Pending>();
  private timer: Timer | null = null;
  private readonly dirs = new Set<string>();
  private readonly layout: DataLayout;

  constructor(
    dataDir: string,
    readonly limits: LogLimits = DEFAULT_LOG_LIMITS,
  ) {
    this.layout = dataLayout(dataDir);
  }

  dir(jobId: string): string {
    return this.layout.jobLogDir(jobId);
  }

  file(jobId: string): string {
    return this.layout.jobLog(jobId);
  }

  append(jobId: string, text: string): void {
    if (!text) return;
    const p = this.batch(jobId);
    p.chunks.push(text);
    p.bytes += text.length;
    for (const l of this.listeners.get(jobId) ?? []) l({ text });
    if (p.bytes >= FLUSH_BYTES) this.flush(jobId);
    else this.timer ??= setTimeout(() => this.flushAll(), FLUSH_MS);
  }

  /** The Docker timestamp of the last stored line, so a restarted master resumes without gaps or repeats. */
  lastTimestamp(key: string): string | null {
    const f = this.layout.jobLogLast(key);
    return existsSync(f) ? readFileSync(f, "utf8").trim() || null : null;
  }

  /** Stored with the next flush of `jobId`'s lines (after them, never before). */
  setLastTimestamp(key: string, ts: string, jobId = key.replace(/\.\d+$/, "")): void {
    this.batch(jobId).timestamps.set(key, ts);
    this.timer ??= setTimeout(() => this.flushAll(), FLUSH_MS);
  }

  /** The whole stored log as text (small logs and tests; routes use `stream`). */
  read(jobId: string): string {
    const snap = this.snapshot(jobId);
    const out: Buffer[] = [];
    try {
      for (const chunk of this.chunks(snap)) out.push(chunk);
    } finally {
      this.release(snap);
    }
    return Buffer.concat(out).toString("utf8");
  }

  /** The stored log as a byte stream read in chunks as the consumer pulls. */
  stream(jobId: string): ReadableStream<Uint8Array> {
    const snap = this.snapshot(jobId);
    const it = this.chunks(snap);
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        // Yield to other requests between chunks: a fast reader must not starve the event loop.
        await new Promise((resolve) => setImmediate(resolve));
        const next = it.next();
        if (next.done) {
          this.release(snap);
          controller.close();
        } else controller.enqueue(next.value);
      },
      cancel: () => this.release(snap),
    });
  }

  end(jobId: string): void {
    this.flush(jobId);
    for (const l of this.listeners.get(jobId) ?? []) l({ end: true });
    this.listeners.delete(jobId);
  }

  /**
   * Follows a job: `listener` gets every line appended from now on, and the returned stream the
   * log stored until now — taken in the same synchronous step, so no line falls between. Throws
   * 429 past the follower caps. `unsubscribe` may be called more than once.
   */
  follow(jobId: string, listener: Listener): { backlog: ReadableStream<Uint8Array>; unsubscribe: () => void } {
    const set = this.listeners.get(jobId) ?? new Set<Listener>();
    if (set.size >= this.limits.followersPerJob)
      throw rateLimited(`job ${jobId} already has ${set.size} log followers (the most per job)`, 5);
    if (this.followers >= this.limits.followersTotal)
      throw rateLimited(`the master already serves ${this.followers} log followers (the most in total)`, 5);
    this.listeners.set(jobId, set);
    set.add(listener);
    this.followers++;
    const backlog = this.stream(jobId);
    let done = false;
    return {
      backlog,
      unsubscribe: () => {
        if (done) return;
        done = true;
        this.followers--;
        set.delete(listener);
        if (set.size === 0 && this.listeners.get(jobId) === set) this.listeners.delete(jobId);
      },
    };
  }

  /** Writes every batch now (the master stops). */
  close(): void {
    this.flushAll();
  }

  private batch(jobId: string): Pending {
    let p = this.pending.get(jobId);
    if (!p) {
      p = { chunks: [], bytes: 0, timestamps: new Map() };
      this.pending.set(jobId, p);
    }
    return p;
  }

  private flushAll(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const jobId of [...this.pending.keys()]) this.flush(jobId);
  }

  private flush(jobId: string): void {
    const p = this.pending.get(jobId);
    if (!p) return;
    this.pending.delete(jobId);
    const dir = this.dir(jobId);
    if (!this.dirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.dirs.add(dir);
    }
    if (p.chunks.length) this.write(jobId, Buffer.from(p.chunks.join(""), "utf8"));
    for (const [key, ts] of p.timestamps) writeFileSync(this.layout.jobLogLast(key), ts);
  }

  /** Appends to the head while it has room, else to the rotating tail. */
  private write(jobId: string, data: Buffer): void {
    const head = this.file(jobId);
    const tail = `${head}.tail`;
    const headMax = Math.floor(this.limits.maxBytes / 2);
    const tailMax = Math.max(1, Math.floor(this.limits.maxBytes / 4));
    let rest = data;
    if (!existsSync(tail)) {
      const headSize = size(head);
      if (headSize + data.length <= headMax) {
        appendFileSync(head, data);
        return;
      }
      // Fill the head up to its cap at a line end, the rest goes to the tail.
      const cut = headSize < headMax ? rest.lastIndexOf(10, headMax - headSize - 1) + 1 : 0;
      if (cut > 0) appendFileSync(head, rest.subarray(0, cut));
      rest = rest.subarray(cut);
    }
    // In pieces of at most a tail's size: a batch bigger than the tail rotates as often as it
    // needs, so nothing is dropped while the whole log is under the cap.
    while (rest.length > 0) {
      let cut = rest.length;
      if (cut > tailMax) {
        cut = rest.lastIndexOf(10, tailMax - 1) + 1;
        if (cut <= 0) cut = tailMax;
      }
      this.appendTail(jobId, tail, rest.subarray(0, cut), tailMax);
      rest = rest.subarray(cut);
    }
  }

  /** Appends `piece` (at most `tailMax` bytes) to the tail, first rotating a tail it would overfill. */
  private appendTail(jobId: string, tail: string, piece: Buffer, tailMax: number): void {
    const current = size(tail);
    if (current > 0 && current + piece.length > tailMax) {
      const old = `${tail}.1`;
      this.addDropped(jobId, size(old));
      renameSync(tail, old);
    }
    appendFileSync(tail, piece);
  }

  private addDropped(jobId: string, bytes: number): void {
    if (bytes <= 0) return;
    const f = `${this.file(jobId)}.dropped`;
    const before = existsSync(f) ? Number(readFileSync(f, "utf8")) || 0 : 0;
    writeFileSync(f, String(before + bytes));
  }

  private snapshot(jobId: string): Snapshot {
    this.flush(jobId);
    const head = this.file(jobId);
    const parts: Snapshot["parts"] = [];
    for (const f of [head, `${head}.tail.1`, `${head}.tail`]) {
      if (!existsSync(f)) continue;
      const fd = openSync(f, "r");
      parts.push({ fd, size: fstatSync(fd).size });
    }
    const dropped = `${head}.dropped`;
    return { parts, dropped: existsSync(dropped) ? Number(readFileSync(dropped, "utf8")) || 0 : 0 };
  }

  private *chunks(snap: Snapshot): Generator<Buffer> {
    for (const [i, part] of snap.parts.entries()) {
      if (i === 1 && snap.dropped > 0)
        yield Buffer.from(
          `[hangar] ${snap.dropped} bytes of this log were dropped (HANGAR_JOB_LOG_MAX_MB keeps its head and tail)\n`,
        );
      let pos = 0;
      while (pos < part.size) {
        const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, part.size - pos));
        const n = readSync(part.fd, buf, 0, buf.length, pos);
        if (n <= 0) break;
        pos += n;
        yield n === buf.length ? buf : buf.subarray(0, n);
      }
    }
  }

  private release(snap: Snapshot): void {
    for (const part of snap.parts.splice(0)) closeSync(part.fd);
  }
}

function size(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
