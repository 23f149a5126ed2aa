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

/**
 * What an entry counts against `maxBytes`: its result's UTF-8 size, never less than the text
 * takes in memory (1 byte a character for Latin-1, 2 otherwise); the UTF-16 length would count
 * `€` or CJK text at half or a third of it.
 */
function sizeOf(entry: LocalEntry): number {
  return Buffer.byteLength(entry.result, 'utf8');
}

export class LocalCache {
  private readonly entries = new Map<string, { entry: LocalEntry; bytes: number }>();
  private bytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now = Date.now()): LocalEntry | undefined {
    const held = this.entries.get(key);
    if (!held) return undefined;
    this.entries.delete(key);
    if (held.entry.expiresAt <= now) {
      this.bytes -= held.bytes;
      return undefined;
    }
    // Re-inserting moves the entry to the most recently used end of the Map.
    this.entries.set(key, held);
    return held.entry;
  }

  set(key: string, entry: LocalEntry): void {
    // The UTF-16 length is a lower bound of the size: a result too long by it is not measured.
    if (entry.result.length > this.maxBytes) return;
    const bytes = sizeOf(entry);
    if (bytes > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.bytes;
    }
    this.entries.set(key, { entry, bytes });
    this.bytes += bytes;
    for (const [oldest, value] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= value.bytes;
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}
