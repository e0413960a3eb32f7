// Injected timers, as the clock is injected time: the master's periodic work (the scheduler's
// backstop pass, the node health rounds, the notebook idle check) runs through a Ticker, so tests
// step it with a ManualTicker instead of waiting on real time.

export interface Timer {
  stop(): void;
}

export interface Ticker {
  /**
   * Calls `fn` every `ms` until stopped. `name` says which timer it is (tests step timers by
   * name). A returned promise is awaited only by ManualTicker.tick; `fn` handles its own errors.
   */
  every(name: string, ms: number, fn: () => unknown): Timer;
}

/** setInterval. */
export const realTicker: Ticker = {
  every(_name, ms, fn) {
    const timer = setInterval(fn, ms);
    return { stop: () => clearInterval(timer) };
  },
};

interface ManualTimer {
  name: string;
  ms: number;
  fn: () => unknown;
}

/**
 * A ticker tests step by hand: its timers run only on `tick(name)`. Timers named in `realTime`
 * are handed to the real ticker instead (e.g. the scheduler's backstop, which API tests with a
 * running scheduler rely on).
 */
export class ManualTicker implements Ticker {
  private readonly timers = new Set<ManualTimer>();

  constructor(
    private readonly realTime: readonly string[] = [],
    private readonly real: Ticker = realTicker,
  ) {}

  every(name: string, ms: number, fn: () => unknown): Timer {
    if (this.realTime.includes(name)) return this.real.every(name, ms, fn);
    const timer: ManualTimer = { name, ms, fn };
    this.timers.add(timer);
    return { stop: () => this.timers.delete(timer) };
  }

  /** Runs every timer called `name` once, as if its period had passed, and waits for it to finish. */
  async tick(name: string): Promise<void> {
    const due = [...this.timers].filter((t) => t.name === name);
    if (due.length === 0) throw new Error(`no running timer named ${name} (running: ${this.names().join(", ")})`);
    await Promise.all(due.map((t) => t.fn()));
  }

  /** The names of the running timers. */
  names(): string[] {
    return [...new Set([...this.timers].map((t) => t.name))];
  }

  /** The period of the timer called `name` (ms), or undefined. */
  periodOf(name: string): number | undefined {
    return [...this.timers].find((t) => t.name === name)?.ms;
  }
}
