/**
 * A stream's consumer groups in its typed export. A stream small enough for `DUMP` keeps its
 * groups in the payload; a typed stream (over `bigKeyElements`, or `encoding: 'typed'`) is
 * written entry by entry with `XADD`, which has no groups, so the end of a typed stream carries
 * them: per group its name, last-delivered-id and entries-read (`XINFO GROUPS`), its consumers
 * (`XINFO CONSUMERS`) and each one's pending entries with idle time and delivery count
 * (`XPENDING … - + <count>`), and the stream's own counters (`XINFO STREAM`: last-generated-id,
 * entries-added, max-deleted-entry-id) that a group's lag is computed from. The pending entries
 * are cut into pieces of at most `chunkBytes` of JSON (`splitGroups`): the first piece rides on
 * the stream's last chunk, the others on records of their own. The restore recreates them
 * (restore/redis-stream-groups.ts).
 */
import { encodeBytes, type EncodedBytes } from './redis-values.js';
import type { RedisLike } from './redis.js';

/** A pending entry: [entry id, idle ms at the backup, delivery count]. */
export type PendingEntry = [string, number, number];

/** A consumer and (some of) its pending entries. */
export interface StreamConsumer {
  n: EncodedBytes;
  p: PendingEntry[];
}

/** One consumer group of a stream, as a typed record carries it (`g`). */
export interface StreamGroup {
  /** Group name. */
  n: EncodedBytes;
  /** Last-delivered-id. */
  id: string;
  /** Entries-read (Redis ≥ 7.0), `null` when the server does not know it. */
  r: number | null;
  /** Consumers, each with its pending entries (the group's PEL; the rest follow in `gp` pieces). */
  c: StreamConsumer[];
}

/** More pending entries of a group an earlier record created (`gp`). */
export interface StreamGroupPending {
  /** Group name. */
  n: EncodedBytes;
  c: StreamConsumer[];
}

/** A stream's own counters (`s`), from `XINFO STREAM`; entries-added and max-deleted-entry-id are `null` before Redis 7.0. */
export interface StreamCounters {
  /** last-generated-id. */
  id: string;
  /** entries-added. */
  a: number | null;
  /** max-deleted-entry-id. */
  d: string | null;
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
    const consumers = new Map<string, StreamConsumer>();
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

/**
 * The stream's counters, read after its groups: its last-generated-id is then never below a
 * group's last-delivered-id.
 */
export async function readStreamCounters(node: RedisLike, key: Buffer): Promise<StreamCounters> {
  const info = fieldsOf(await node.callBuffer('XINFO', 'STREAM', key));
  const deleted = info.get('max-deleted-entry-id');
  return { id: String(info.get('last-generated-id')), a: asNumber(info.get('entries-added')), d: deleted === undefined || deleted === null ? null : String(deleted) };
}

/** What one record carries of the groups: groups it creates (`g`) and pending entries of groups created before (`gp`). */
export interface GroupPiece {
  g: StreamGroup[];
  gp: StreamGroupPending[];
}

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

/** The most bytes one pending entry takes as JSON: two 20-digit id parts, a 16-digit idle time, a 20-digit count, quotes, commas, brackets. */
const PENDING_MAX_BYTES = 90;

/**
 * `groups` cut into pieces of at most `budget` bytes of JSON each (`first` for the first piece,
 * which shares its line with the last entries): each group's header (name, ids, consumers) in
 * the piece where it starts, its pending entries in order after it. A piece holds at most
 * `budget / 90` pending entries (any entry fits in 90 bytes), so the cut depends on how many
 * entries there are, not on their idle times: a drill's read-back of the restored stream cuts
 * it into as many records as the backup did. A piece also ends early should bytes run out
 * (long consumer names), and holds at least one header or pending entry. Empty for no groups.
 */
export function splitGroups(groups: StreamGroup[], first: number, budget: number): GroupPiece[] {
  // `{"g":[],"gp":[]}`: a piece's own JSON around its groups.
  const EMPTY = jsonBytes({ g: [], gp: [] });
  const pieces: GroupPiece[] = [];
  let piece: GroupPiece = { g: [], gp: [] };
  let size = EMPTY;
  let room = first;
  let entries = 0;
  /** Whether `bytes` (`entry`: a pending entry) more fit in this piece; if not, a new piece is begun (a piece holds at least one thing). */
  const fits = (bytes: number, entry: boolean): boolean => {
    const full = size + bytes > room || (entry && entries >= Math.floor(room / PENDING_MAX_BYTES));
    if (!full || (piece.g.length === 0 && piece.gp.length === 0)) {
      if (entry) entries++;
      return true;
    }
    pieces.push(piece);
    piece = { g: [], gp: [] };
    size = EMPTY;
    room = budget;
    entries = entry ? 1 : 0;
    return false;
  };
  for (const group of groups) {
    const header: StreamGroup = { ...group, c: group.c.map((c) => ({ n: c.n, p: [] })) };
    fits(jsonBytes(header) + 1, false);
    piece.g.push(header);
    size += jsonBytes(header) + 1;
    // Where this group's entries go in the current piece: its header's consumers, or a `gp` holder.
    let holders: StreamConsumer[] = header.c;
    const more = jsonBytes({ n: group.n, c: [] }) + 1;
    group.c.forEach((consumer, i) => {
      const holderBytes = jsonBytes({ n: consumer.n, p: [] }) + 1;
      for (const entry of consumer.p) {
        const bytes = jsonBytes(entry) + 1;
        // At most a new `gp` holder and a consumer holder come with the entry.
        if (!fits(bytes + more + holderBytes, true)) {
          const holder: StreamGroupPending = { n: group.n, c: [] };
          piece.gp.push(holder);
          holders = holder.c;
          size += more;
        }
        let holder = holders === header.c ? header.c[i]! : holders.find((h) => h.n === consumer.n);
        if (!holder) {
          holder = { n: consumer.n, p: [] };
          holders.push(holder);
          size += holderBytes;
        }
        holder.p.push(entry);
        size += bytes;
      }
    });
  }
  if (piece.g.length > 0 || piece.gp.length > 0) pieces.push(piece);
  return pieces;
}
