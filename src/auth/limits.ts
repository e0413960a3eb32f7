// In-memory counters for login throttling and API-key rate limits. They live in the master
// process (one per cluster), so a restart forgets them: acceptable for 15-minute windows.

export const WINDOW_MS = 15 * 60 * 1000;

/** Keys a table keeps at most; past it the oldest key is forgotten (a flood must not grow memory). */
const MAX_KEYS = 50_000;

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
    if (this.failures.size > MAX_KEYS) this.failures.delete(this.failures.keys().next().value as string);
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

/**
 * Login throttling by client address and account. Failures count per (address, account): `max`
 * of them in the window block that pair; per address: 10 × `max` block the address for every
 * account (one client guessing many accounts). Per account: 5 × `max` from anywhere block the
 * account for addresses that never logged in to it, while a known-good address (one that logged
 * in to this account with the right password before) stays exempt from that account-wide
 * block, so a flood from elsewhere never locks the owner out. Every block ends with the window.
 */
export class LoginThrottle {
  private readonly pairs: FailureWindow;
  private readonly addresses: FailureWindow;
  private readonly accounts: FailureWindow;
  /** `address\0account` → last successful login (epoch ms), insertion-ordered for eviction. */
  private readonly knownGood = new Map<string, number>();

  constructor(
    max: number,
    private readonly knownGoodMs = 30 * 24 * 3600_000,
  ) {
    this.pairs = new FailureWindow(max);
    this.addresses = new FailureWindow(max * 10);
    this.accounts = new FailureWindow(max * 5);
  }

  /** Milliseconds this address must wait before trying this account, or 0. */
  blockedFor(address: string, account: string, now: number): number {
    const pair = `${address}\0${account}`;
    const pairWait = Math.max(this.pairs.blockedFor(pair, now), this.addresses.blockedFor(address, now));
    if (pairWait > 0) return pairWait;
    return this.isKnownGood(pair, now) ? 0 : this.accounts.blockedFor(account, now);
  }

  failure(address: string, account: string, now: number): void {
    this.pairs.record(`${address}\0${account}`, now);
    this.addresses.record(address, now);
    this.accounts.record(account, now);
  }

  success(address: string, account: string, now: number): void {
    const pair = `${address}\0${account}`;
    this.pairs.clear(pair);
    this.knownGood.delete(pair);
    this.knownGood.set(pair, now);
    if (this.knownGood.size > MAX_KEYS) this.knownGood.delete(this.knownGood.keys().next().value as string);
  }

  private isKnownGood(pair: string, now: number): boolean {
    const at = this.knownGood.get(pair);
    return at !== undefined && now - at < this.knownGoodMs;
  }
}

/**
 * A counting semaphore with a bounded queue: at most `slots` holders at once, at most `queue`
 * waiters; `run` returns null at once when the queue is full (the caller answers 429).
 * Bounds argon2 work, so a login flood queues (or is shed) instead of starving the process.
 */
export class Semaphore {
  private held = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly slots: number,
    private readonly queue: number,
  ) {}

  get waiting(): number {
    return this.waiters.length;
  }

  async run<T>(fn: () => Promise<T>): Promise<T | null> {
    if (this.held >= this.slots) {
      if (this.waiters.length >= this.queue) return null;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    } else this.held++;
    try {
      return await fn();
    } finally {
      const next = this.waiters.shift();
      if (next) next();
      else this.held--;
    }
  }
}
