/**
 * What a drill compares, leaving out records that may expire on the way: a Redis key saved
 * with a TTL comes back with the same absolute expiry (`RESTORE … ABSTTL`), so a key whose TTL
 * ends before the read-back finishes is gone from the scratch target — correctly. Both sides
 * (the backup's records, the restored read-back) are tallied per second of expiry, and only
 * records without a TTL or expiring after a cutoff are compared (the same rule on both sides).
 */
import { ContentHash } from '../format/content-hash.js';
import { parseRedisRecord, recordDigest } from '../format/records.js';
import type { ManifestDataset } from '../format/manifest.js';

/** Count and content hash of records, split by the second their TTL ends in. */
export class LiveTally {
  private readonly untimed = { hash: new ContentHash(), count: 0 };
  private readonly bySecond = new Map<number, { hash: ContentHash; count: number }>();
  constructor(private readonly kind: ManifestDataset['kind']) {}

  /** Adds one line of the dataset's encoding. */
  add(line: string): void {
    const digest = recordDigest(this.kind, line);
    const ttl = this.kind === 'redis-keyspace' ? parseRedisRecord(line).ttl : -1;
    let slot = this.untimed;
    if (ttl !== -1) {
      const second = Math.floor(ttl / 1000);
      slot = this.bySecond.get(second) ?? { hash: new ContentHash(), count: 0 };
      this.bySecond.set(second, slot);
    }
    slot.hash.add(digest);
    slot.count++;
  }

  /** Records without a TTL or whose TTL ends in a second wholly after `cutoffMs`, and how many were left out. */
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
