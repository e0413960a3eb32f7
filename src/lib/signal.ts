// A small pub/sub without payload: publishers say that something changed, subscribers are told
// at once (synchronously, so they must only schedule work, e.g. wake a loop).

export class ChangeSignal {
  private readonly listeners = new Set<() => void>();

  /** Tells every subscriber. */
  changed(): void {
    for (const listener of this.listeners) listener();
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
