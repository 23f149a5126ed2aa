/**
 * The in-process cache of completed records: a warm instance answers a duplicate without a
 * store call. Completed records never change until they expire, so serving them locally is
 * safe; in-progress records are never cached.
 */
export interface LocalEntry {
  fingerprint: string;
  result: string;
  expiresAt: number;
}

export class LocalCache {
  private readonly entries = new Map<string, LocalEntry>();
  private bytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now = Date.now()): LocalEntry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= now) {
      this.bytes -= entry.result.length;
      return undefined;
    }
    // Re-inserting moves the entry to the most recently used end of the Map.
    this.entries.set(key, entry);
    return entry;
  }

  set(key: string, entry: LocalEntry): void {
    if (entry.result.length > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.result.length;
    }
    this.entries.set(key, entry);
    this.bytes += entry.result.length;
    for (const [oldest, value] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= value.result.length;
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}
