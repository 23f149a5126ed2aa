/**
 * The Redis Cluster slot of a key, as the server computes it: CRC16 (XMODEM) of the key's hash
 * tag — the bytes between the first `{` and the first `}` after it, when there are any — or
 * of the whole key, mod 16384. https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags
 *
 * `cluster-key-slot` (what ioredis routes by) computes this for every key but one shape: a key
 * whose first `{` is followed at once by `}` and that has another `}` later (`x{}{a}`, `x{}a}`).
 * Redis hashes that key whole; the library hashes a later part of it. ioredis recovers from the `MOVED`
 * reply for one key, but a batch grouped by the library's slot mixes slots in one script
 * (`CROSSSLOT`). So the library is used for every key except that shape, which is hashed here.
 */
import calculateSlot from 'cluster-key-slot';

/** CRC16-XMODEM (polynomial 0x1021, initial 0), the checksum Redis Cluster uses. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The slot (0–16383) Redis Cluster assigns to `key`. */
export function clusterSlot(key: string): number {
  const open = key.indexOf('{');
  if (open !== -1 && key[open + 1] === '}' && key.indexOf('}', open + 2) !== -1) return crc16(Buffer.from(key)) & 0x3fff;
  return calculateSlot(key);
}
