/**
 * An order-independent content hash: the sum, modulo 2^256, of the SHA-256 digests of the
 * records. Two copies of a collection or keyspace hash equal whatever order they are read
 * in, so a backup can be compared with the live source or a restored copy without sorting.
 * A sum (unlike XOR) does not cancel a record that appears twice.
 */
import { createHash } from 'node:crypto';

/** The SHA-256 digest of `data`. */
export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

/** A running 256-bit sum of digests (eight 32-bit words, big-endian, carry propagated). */
export class ContentHash {
  private readonly words = new Uint32Array(8);

  /** Starts from a hex sum written by `toHex()` (for a checkpointed total). */
  static fromHex(hex: string): ContentHash {
    const hash = new ContentHash();
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new TypeError('a content hash is 64 hex digits');
    for (let i = 0; i < 8; i++) hash.words[i] = Number.parseInt(hex.slice(i * 8, i * 8 + 8), 16);
    return hash;
  }

  /** Adds one 32-byte digest. */
  add(digest: Uint8Array): this {
    let carry = 0;
    for (let i = 7; i >= 0; i--) {
      const o = i * 4;
      const word = ((digest[o]! << 24) >>> 0) + (digest[o + 1]! << 16) + (digest[o + 2]! << 8) + digest[o + 3]!;
      const sum = this.words[i]! + word + carry;
      this.words[i] = sum >>> 0;
      carry = sum > 0xffffffff ? 1 : 0;
    }
    return this;
  }

  /** Subtracts one 32-byte digest (adds its two's complement): what `add` added is taken out. */
  subtract(digest: Uint8Array): this {
    const negated = Buffer.alloc(32);
    let carry = 1;
    for (let i = 31; i >= 0; i--) {
      const byte = (~digest[i]! & 0xff) + carry;
      negated[i] = byte & 0xff;
      carry = byte > 0xff ? 1 : 0;
    }
    return this.add(negated);
  }

  /** Adds the SHA-256 of `data`. */
  addRecord(data: Uint8Array | string): this {
    return this.add(sha256(data));
  }

  /** Adds another running sum. */
  merge(other: ContentHash): this {
    return this.add(other.toBytes());
  }

  /** The sum as 32 bytes. */
  toBytes(): Buffer {
    const out = Buffer.alloc(32);
    for (let i = 0; i < 8; i++) out.writeUInt32BE(this.words[i]!, i * 4);
    return out;
  }

  /** The sum as 64 lower-case hex digits. */
  toHex(): string {
    return this.toBytes().toString('hex');
  }
}
