/**
 * A stream's consumer groups in its typed export. A stream small enough for `DUMP` keeps its
 * groups in the payload; a typed stream (over `bigKeyElements`, or `encoding: 'typed'`) is
 * written entry by entry with `XADD`, which has no groups, so the last chunk of a typed stream
 * carries them (`g`): per group its name, last-delivered-id and entries-read (`XINFO GROUPS`),
 * its consumers (`XINFO CONSUMERS`) and each one's pending entries with idle time and delivery
 * count (`XPENDING … - + <count>`). A restore recreates them as Redis's own AOF rewrite does:
 * `XGROUP CREATE … ENTRIESREAD`, `XGROUP CREATECONSUMER`, and `XCLAIM … IDLE … RETRYCOUNT … FORCE JUSTID`
 * for each pending entry (restore/redis-stream-groups.ts).
 */
import { encodeBytes, type EncodedBytes } from './redis-values.js';
import type { RedisLike } from './redis.js';

/** A pending entry: [entry id, idle ms at the backup, delivery count]. */
export type PendingEntry = [string, number, number];

/** One consumer group of a stream, as a typed record carries it. */
export interface StreamGroup {
  /** Group name. */
  n: EncodedBytes;
  /** Last-delivered-id. */
  id: string;
  /** Entries-read (Redis ≥ 7.0), `null` when the server does not know it. */
  r: number | null;
  /** Consumers, each with its pending entries (the group's PEL). */
  c: Array<{ n: EncodedBytes; p: PendingEntry[] }>;
}

/** A flat `[name, value, name, value…]` reply as a map by name. */
function fieldsOf(reply: unknown): Map<string, unknown> {
  const list = reply as unknown[];
  const out = new Map<string, unknown>();
  for (let i = 0; i + 1 < list.length; i += 2) out.set(String(list[i]), list[i + 1]);
  return out;
}

const asNumber = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/** The consumer groups of the stream at `key` (empty when it has none), pending entries read `pageSize` at a time. */
export async function readStreamGroups(node: RedisLike, key: Buffer, pageSize: number): Promise<StreamGroup[]> {
  const groups = (await node.callBuffer('XINFO', 'GROUPS', key)) as unknown[];
  const out: StreamGroup[] = [];
  for (const raw of groups) {
    const info = fieldsOf(raw);
    const name = info.get('name') as Buffer;
    const entriesRead = asNumber(info.get('entries-read'));
    const consumers = new Map<string, { n: EncodedBytes; p: PendingEntry[] }>();
    for (const c of (await node.callBuffer('XINFO', 'CONSUMERS', key, name)) as unknown[]) {
      const consumer = fieldsOf(c).get('name') as Buffer;
      consumers.set(consumer.toString('latin1'), { n: encodeBytes(consumer), p: [] });
    }
    let from = '-';
    for (;;) {
      const page = (await node.callBuffer('XPENDING', key, name, from, '+', pageSize)) as Array<[Buffer, Buffer, number, number]>;
      for (const [id, consumer, idle, deliveries] of page) {
        const holder = consumers.get(consumer.toString('latin1')) ?? { n: encodeBytes(consumer), p: [] };
        consumers.set(consumer.toString('latin1'), holder);
        holder.p.push([id.toString(), Number(idle), Number(deliveries)]);
      }
      if (page.length < pageSize) break;
      from = `(${page.at(-1)![0].toString()}`;
    }
    out.push({ n: encodeBytes(name), id: String(info.get('last-delivered-id')), r: entriesRead, c: [...consumers.values()] });
  }
  return out;
}
