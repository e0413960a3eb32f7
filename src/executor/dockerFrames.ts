// Docker's multiplexed stream (a container without a TTY): frames of [stream, 0, 0, 0, size
// (uint32 BE)] + payload. docker-modem's demuxStream copies the rest of its buffer after every
// frame (quadratic in the frames per chunk) and hands each payload on as its own buffer; under a
// job printing 20,000 lines a second that was a seventh of the master's CPU. This parser walks
// each chunk once and copies the payloads into one reused buffer, taken once per turn of the
// event loop: no allocation per frame or per chunk.

const HEADER = 8;
const INITIAL = 64 * 1024;

/** Collects the frames' payloads (stdout and stderr together, in order) from chunks of the stream. */
export class DockerFrames {
  /** An unfinished frame (header and what came of its payload). */
  private held: Buffer = Buffer.allocUnsafe(INITIAL);
  private heldBytes = 0;
  /** Payloads since the last `take`. */
  private out: Buffer = Buffer.allocUnsafe(INITIAL);
  private size = 0;
  /** An invalid header was seen: the stream is not multiplexed (TTY), everything passes as is. */
  private raw = false;

  push(chunk: Buffer): void {
    if (this.raw) {
      this.emit(chunk, 0, chunk.length);
      return;
    }
    let at = 0;
    if (this.heldBytes) {
      if (this.heldBytes < HEADER) {
        at = Math.min(HEADER - this.heldBytes, chunk.length);
        this.hold(chunk, 0, at);
        if (this.heldBytes < HEADER) return;
      }
      if ((this.held[0] as number) > 2) {
        this.raw = true;
        this.emit(this.held, 0, this.heldBytes);
        this.heldBytes = 0;
        this.emit(chunk, at, chunk.length);
        return;
      }
      const missing = HEADER + this.held.readUInt32BE(4) - this.heldBytes;
      const n = Math.min(missing, chunk.length - at);
      this.hold(chunk, at, at + n);
      at += n;
      if (n < missing) return;
      this.emit(this.held, HEADER, this.heldBytes);
      this.heldBytes = 0;
      // One huge line must not keep its buffer for the rest of the job.
      if (this.held.length > 16 * INITIAL) this.held = Buffer.allocUnsafe(INITIAL);
    }
    while (chunk.length - at >= HEADER) {
      if ((chunk[at] as number) > 2) {
        // As docker-modem does: not a multiplexed stream after all, pass the rest through.
        this.raw = true;
        this.emit(chunk, at, chunk.length);
        return;
      }
      const end = at + HEADER + chunk.readUInt32BE(at + 4);
      if (end > chunk.length) break;
      this.emit(chunk, at + HEADER, end);
      at = end;
    }
    if (at < chunk.length) this.hold(chunk, at, chunk.length);
  }

  /** The payloads collected since the last call, or null when there are none. */
  take(): Buffer | null {
    if (this.size === 0) return null;
    // A copy of exactly what was collected (small ones come from Buffer's pool): `out` is reused.
    const payloads = Buffer.allocUnsafe(this.size);
    this.out.copy(payloads, 0, 0, this.size);
    this.size = 0;
    if (this.out.length > 16 * INITIAL) this.out = Buffer.allocUnsafe(INITIAL);
    return payloads;
  }

  private emit(from: Buffer, start: number, end: number): void {
    this.out = room(this.out, this.size, end - start);
    this.size += from.copy(this.out, this.size, start, end);
  }

  private hold(from: Buffer, start: number, end: number): void {
    this.held = room(this.held, this.heldBytes, end - start);
    this.heldBytes += from.copy(this.held, this.heldBytes, start, end);
  }
}

/** `buf` (its first `used` bytes kept) with room for `more`: itself, or a larger copy. */
function room(buf: Buffer, used: number, more: number): Buffer {
  if (used + more <= buf.length) return buf;
  const bigger = Buffer.allocUnsafe(Math.max(buf.length * 2, used + more));
  buf.copy(bigger, 0, 0, used);
  return bigger;
}
