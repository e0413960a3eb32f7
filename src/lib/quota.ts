// Storage quotas that hold under concurrent uploads. Each upload reserves bytes as they stream in
// (a synchronous check-and-add, so two uploads never take the same room) against the folder's
// usage measured when it began; when an upload lands, its bytes count for every upload still in
// flight. Measuring and landing run under one lock per folder, so no upload measures a half-landed
// one. A refused or failed upload releases what it had reserved.
import { Mutex } from "./mutex";

interface Ledger {
  /** Bytes reserved by uploads in flight. */
  reserved: number;
  /** Bytes landed since the ledger was made (uploads measured earlier have not seen them). */
  landed: number;
  lock: Mutex;
}

const ledgers = new Map<string, Ledger>();

export class Reservation {
  private taken = 0;
  private open = true;

  constructor(
    private readonly ledger: Ledger,
    private readonly baseline: number,
    private readonly landedAtStart: number,
    readonly quota: number,
  ) {}

  /** Bytes this upload may still take now. */
  left(): number {
    const l = this.ledger;
    return this.quota - this.baseline - (l.landed - this.landedAtStart) - l.reserved;
  }

  /** Reserves `n` more bytes; false (nothing reserved) when they do not fit. */
  take(n: number): boolean {
    if (!this.open || n > this.left()) return false;
    this.taken += n;
    this.ledger.reserved += n;
    return true;
  }

  /** Runs `place` (moving the upload into the folder) under the lock, then counts it as landed. */
  async land(place: () => Promise<void>): Promise<void> {
    await this.ledger.lock.run(async () => {
      try {
        await place();
      } finally {
        // Counted as landed even when placing failed half-way: the quota errs on the safe side.
        this.close(true);
      }
    });
  }

  /** Gives the reserved bytes back (a refused or failed upload); no-op once landed. */
  release(): void {
    this.close(false);
  }

  private close(landed: boolean): void {
    if (!this.open) return;
    this.open = false;
    this.ledger.reserved -= this.taken;
    if (landed) this.ledger.landed += this.taken;
  }
}

/** Starts a reservation on the folder `key` (its usage measured by `measure`, under the lock). */
export async function reserveSpace(key: string, quota: number, measure: () => Promise<number>): Promise<Reservation> {
  let ledger = ledgers.get(key);
  if (!ledger) {
    ledger = { reserved: 0, landed: 0, lock: new Mutex() };
    ledgers.set(key, ledger);
  }
  const l = ledger;
  return l.lock.run(async () => new Reservation(l, await measure(), l.landed, quota));
}
