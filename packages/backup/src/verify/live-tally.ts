/**
 * What a drill compares, leaving out records that may expire on the way: a Redis key saved
 * with a TTL comes back with the same absolute expiry (`RESTORE … ABSTTL`), so a key whose TTL
 * ends before the read-back finishes is gone from the scratch target — correctly. Both sides
 * (the backup's records, the restored read-back) are tallied per second of expiry, and only
 * records without a TTL or expiring after a cutoff are compared (the same rule on both sides).
 *
 * What is counted: a MongoDB document per record; a Redis KEY, not a record. A big Redis key
 * spans several chunk records, and how many depends on the server's internal encoding
 * (`HSCAN`/`SSCAN`/`ZSCAN … COUNT` is a hint: a hash once big keeps its hash-table layout on
 * the source, its restored copy is a listpack and comes back in other chunks), and a key
 * restored from a DUMP record may be read back typed or the other way round. A key counts once,
 * on its DUMP record or its typed chunk 0; the content hash (a sum of element digests) does not
 * depend on the chunking. Both sides are tallied from records, so a drill of a backup written
 * before this counted keys compares the same way (the manifest's `count`, chunk records, is
 * not what a drill compares). A key the source wrote again on a resume (records.ts,
 * `replacesSchema`) takes its earlier records out of the slots they were added to.
 */
import { ContentHash, sha256 } from '../format/content-hash.js';
import { keysCounted, ownDigest, parseRedisRecord } from '../format/records.js';
import type { ManifestDataset } from '../format/manifest.js';

/** Count (documents, or Redis keys) and content hash of records, split by the second their TTL ends in. */
export class LiveTally {
  private readonly untimed = { hash: new ContentHash(), count: 0 };
  private readonly bySecond = new Map<number, { hash: ContentHash; count: number }>();
  constructor(private readonly kind: ManifestDataset['kind']) {}

  /** Adds one line of the dataset's encoding. */
  add(line: string): void {
    if (this.kind !== 'redis-keyspace') {
      this.untimed.hash.add(sha256(line));
      this.untimed.count++;
      return;
    }
    const record = parseRedisRecord(line);
    const slot = this.slotOf(record.ttl);
    slot.hash.merge(ownDigest(record));
    // A key's further chunks (and a stream's group records) add to its hash, not to the count.
    slot.count += keysCounted(record);
    // A key written again on a resume: its earlier records are taken out where they were added.
    for (const earlier of record.r ?? []) {
      const at = this.slotOf(earlier.ttl);
      at.hash.subtract(Buffer.from(earlier.h, 'hex'));
      at.count -= earlier.n;
    }
  }

  private slotOf(ttl: number): { hash: ContentHash; count: number } {
    if (ttl === -1) return this.untimed;
    const second = Math.floor(ttl / 1000);
    const slot = this.bySecond.get(second) ?? { hash: new ContentHash(), count: 0 };
    this.bySecond.set(second, slot);
    return slot;
  }

  /** Documents or keys without a TTL or whose TTL ends in a second wholly after `cutoffMs`, and how many were left out. */
  live(cutoffMs: number): { count: number; hash: string; leftOut: number } {
    const hash = new ContentHash().merge(this.untimed.hash);
    let count = this.untimed.count;
    let leftOut = 0;
    for (const [second, slot] of this.bySecond) {
      if (second * 1000 > cutoffMs) {
        hash.merge(slot.hash);
        count += slot.count;
      } else leftOut += slot.count;
    }
    return { count, hash: hash.toHex(), leftOut };
  }
}
