// In-memory counters for login throttling and API-key rate limits. They live in the master
// process (one per cluster), so a restart forgets them: acceptable for 15-minute windows.

export const WINDOW_MS = 15 * 60 * 1000;

/** Failed attempts per key within a sliding window; blocked once `max` failures are in it. */
export class FailureWindow {
  private failures = new Map<string, number[]>();

  constructor(
    private readonly max: number,
    private readonly windowMs = WINDOW_MS,
  ) {}

  record(key: string, now: number): void {
    const list = this.recent(key, now);
    list.push(now);
    this.failures.set(key, list);
  }

  /** Milliseconds until the oldest counted failure leaves the window, or 0 when not blocked. */
  blockedFor(key: string, now: number): number {
    const list = this.recent(key, now);
    if (list.length < this.max) return 0;
    const oldestCounted = list[list.length - this.max] as number;
    return oldestCounted + this.windowMs - now;
  }

  clear(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string, now: number): number[] {
    const list = (this.failures.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (list.length === 0) this.failures.delete(key);
    else this.failures.set(key, list);
    return list;
  }
}

/** A fixed-window request counter: at most `limit` hits per window and key. */
export class RateLimiter {
  private windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = WINDOW_MS,
  ) {}

  /** Counts one hit; returns 0 when allowed, else milliseconds until the window resets. */
  hit(key: string, now: number): number {
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      w = { start: now - (now % this.windowMs), count: 0 };
      this.windows.set(key, w);
    }
    if (w.count >= this.limit) return w.start + this.windowMs - now;
    w.count++;
    return 0;
  }
}
