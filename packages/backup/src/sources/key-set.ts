/**
 * The set of Redis keys a snapshot has already written, to drop the repeats `SCAN` returns
 * while the server rehashes (https://redis.io/docs/latest/commands/scan/: "a given element may
 * be returned multiple times"). Keys are kept as 96-bit fingerprints (the first 12 bytes of
 * their SHA-256) in one open-addressing table of 32-bit words: 12 bytes a slot, 35–70 % of
 * slots used, so 17–35 bytes per key instead of a string per key in a `Set`. Two distinct keys share a fingerprint with probability about
 * n² / 2⁹⁷ (below 10⁻¹⁵ for ten million keys).
 */
import { createHash } from 'node:crypto';

const WORDS = 3;
const MIN_SLOTS = 1024;

export class KeySet {
  private table = new Uint32Array(MIN_SLOTS * WORDS);
  private slots = MIN_SLOTS;
  private used = 0;

  /** Number of keys in the set. */
  get size(): number {
    return this.used;
  }

  /** Bytes the table takes. */
  get bytes(): number {
    return this.table.byteLength;
  }

  /** Adds `key`; false when it was already there. */
  add(key: Uint8Array | string): boolean {
    const digest = createHash('sha256').update(key).digest();
    // An all-zero fingerprint marks an empty slot: nudge the (2⁻⁹⁶ likely) real one.
    const a = digest.readUInt32LE(0);
    const b = digest.readUInt32LE(4);
    const c = digest.readUInt32LE(8) || 1;
    if (!this.insert(a, b, c)) return false;
    this.used++;
    if (this.used * 10 > this.slots * 7) this.grow();
    return true;
  }

  /** Inserts a fingerprint; false when present. */
  private insert(a: number, b: number, c: number): boolean {
    const mask = this.slots - 1;
    for (let slot = a & mask; ; slot = (slot + 1) & mask) {
      const at = slot * WORDS;
      const t = this.table;
      if (t[at + 2] === 0) {
        t[at] = a;
        t[at + 1] = b;
        t[at + 2] = c;
        return true;
      }
      if (t[at] === a && t[at + 1] === b && t[at + 2] === c) return false;
    }
  }

  private grow(): void {
    const old = this.table;
    this.slots *= 2;
    this.table = new Uint32Array(this.slots * WORDS);
    for (let at = 0; at < old.length; at += WORDS) if (old[at + 2] !== 0) this.insert(old[at]!, old[at + 1]!, old[at + 2]!);
  }
}
