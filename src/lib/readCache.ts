// Results of read queries, valid while the store has committed no transaction since. Every
// write goes through Store.tx, so a matching generation means the result is still exact.
export class ReadCache<V> {
  private entries = new Map<string, { generation: number; value: V }>();

  constructor(
    private readonly generation: () => number,
    private readonly maxEntries = 256,
  ) {}

  async get(key: string, load: () => Promise<V>): Promise<V> {
    const gen = this.generation();
    const hit = this.entries.get(key);
    if (hit && hit.generation === gen) return hit.value;
    const value = await load();
    // Only cache when no write committed while loading.
    if (this.generation() === gen) {
      if (this.entries.size >= this.maxEntries) this.entries.clear();
      this.entries.set(key, { generation: gen, value });
    }
    return value;
  }
}
