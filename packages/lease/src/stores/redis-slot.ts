/**
 * The Redis Cluster slot of a key, as the server computes it: CRC16 (XMODEM) of the key's hash
 * tag — the bytes between the first `{` and the first `}` after it, when there are any — or
 * of the whole key, mod 16384. https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags
 *
 * Computed here rather than with `cluster-key-slot` (what ioredis routes by): that library
 * hashes a later part of a key whose first `{` is followed at once by `}` and that has another
 * `}` later (`x{}{a}`, `x{}a}`), where Redis hashes the key whole — ioredis recovers from the
 * `MOVED` reply for one key, but a batch grouped by the library's slot mixes slots in one script
 * (`CROSSSLOT`). And ioredis pins its own copy, so a second one would be code every function
 * bundling a lease store parses at start-up. `{` and `}` are ASCII, never part of a multi-byte
 * UTF-8 sequence: finding them in the string finds them in its bytes.
 */

/** CRC16-XMODEM (polynomial 0x1021) of each byte value: made on the first Cluster key, not at load. */
let table: Uint16Array | undefined;

function crcTable(): Uint16Array {
  const t = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    t[byte] = crc;
  }
  return t;
}

/** CRC16-XMODEM (polynomial 0x1021, initial 0), the checksum Redis Cluster uses. */
function crc16(bytes: Uint8Array): number {
  const t = (table ??= crcTable());
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ t[((crc >> 8) ^ byte) & 0xff]!;
  return crc;
}

/** The slot (0–16383) Redis Cluster assigns to `key`. */
export function clusterSlot(key: string): number {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return crc16(Buffer.from(key.slice(open + 1, close))) & 0x3fff;
  }
  return crc16(Buffer.from(key)) & 0x3fff;
}
