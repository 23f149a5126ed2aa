/**
 * The commands that recreate a typed stream's consumer groups (sources/redis-stream-groups.ts),
 * as Redis's AOF rewrite does: the group at its last-delivered-id with its entries-read, each
 * consumer, and each pending entry claimed for its consumer with its idle time and delivery
 * count (`XCLAIM … FORCE JUSTID`). A pending entry whose stream entry was deleted before the
 * backup is not recreated (`FORCE` skips ids not in the stream).
 */
import type { RedisRecord } from '../format/records.js';
import { decodeBytes } from '../sources/redis-values.js';

type Groups = NonNullable<Extract<RedisRecord, { c: number }>['g']>;

/** Commands for `groups` of the stream at `key` (after its entries are written). */
export function streamGroupCommands(key: Buffer, groups: Groups): Array<Array<string | Buffer | number>> {
  const out: Array<Array<string | Buffer | number>> = [];
  for (const group of groups) {
    const name = decodeBytes(group.n);
    out.push(['XGROUP', 'CREATE', key, name, group.id, ...(group.r === null ? [] : ['ENTRIESREAD', group.r])]);
    for (const consumer of group.c) {
      const who = decodeBytes(consumer.n);
      out.push(['XGROUP', 'CREATECONSUMER', key, name, who]);
      for (const [id, idle, deliveries] of consumer.p) out.push(['XCLAIM', key, name, who, 0, id, 'IDLE', idle, 'RETRYCOUNT', deliveries, 'FORCE', 'JUSTID']);
    }
  }
  return out;
}
