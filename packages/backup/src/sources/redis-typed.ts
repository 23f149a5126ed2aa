/**
 * The typed export of one Redis key, in chunks that each hold a bounded number of elements
 * (or bytes of a string), so a big key never passes through one `DUMP`. Each chunk is one
 * NDJSON record `{ k, t, ttl, c, v }`; chunk 0 tells the restore to replace the key. A chunk
 * also carries the position to resume after it (the inner SCAN cursor, an offset, a stream id).
 * The last chunk of a stream carries its counters (`s`) and consumer groups (`g`, and when the
 * groups' pending entries pass `chunkBytes`, records of their own after it: `gp`;
 * redis-stream-groups.ts): `XADD` alone would restore the entries without them.
 */
import { elementDigest, encodeBytes } from './redis-values.js';
import { ContentHash } from '../format/content-hash.js';
import type { RedisLike } from './redis.js';
import { SourceReadError } from '../errors.js';
import { COPY_TTL_MS } from './redis-big-key.js';
import { readStreamCounters, readStreamGroups, splitGroups } from './redis-stream-groups.js';

/** Size thresholds and chunk sizes of the typed export. */
export interface TypedExportLimits {
  bigKeyBytes: number;
  bigKeyElements: number;
  chunkElements: number;
  chunkBytes: number;
}

/** One chunk of a typed key. */
export interface TypedChunk {
  line: string;
  digest: Uint8Array;
  chunk: number;
  /** Where the next chunk starts (opaque to the caller). */
  position: string;
  last: boolean;
}

type Reader = (position: string) => Promise<{ elements: Array<Array<Buffer | string>>; next: string; done: boolean }>;

/** Field/value pairs from a flat reply (some ioredis versions already group them in pairs). */
function pairs(flat: Array<Buffer | Buffer[]>): Buffer[][] {
  if (flat.length > 0 && Array.isArray(flat[0])) return flat as Buffer[][];
  const list = flat as Buffer[];
  const out: Buffer[][] = [];
  for (let i = 0; i + 1 < list.length; i += 2) out.push([list[i]!, list[i + 1]!]);
  return out;
}

/**
 * `command` on a point-in-time copy `from`, in one `MULTI` with `EXISTS` and a renewed TTL: a
 * copy evicted or deleted is never read as an empty tail (a `complete` backup without the key).
 * @throws {SourceReadError} `BACKUP_SOURCE_COPY_LOST` (retryable: the next run writes the key again)
 */
async function fromCopy(node: RedisLike, from: Buffer, command: string, ...args: number[]): Promise<unknown> {
  const pipeline = node.pipeline();
  pipeline.call('MULTI');
  pipeline.callBuffer('EXISTS', from);
  pipeline.callBuffer('PEXPIRE', from, COPY_TTL_MS);
  pipeline.callBuffer(command, from, ...args);
  pipeline.callBuffer('EXEC');
  const answers = (await pipeline.exec()) ?? [];
  const failed = answers.map(([error]) => error).find((error): error is Error => error instanceof Error);
  if (failed) throw failed;
  const replies = answers[4]?.[1] as unknown[] | null | undefined;
  if (!Array.isArray(replies)) throw new SourceReadError('a point-in-time copy read was aborted (EXEC)');
  const inner = replies.find((reply): reply is Error => reply instanceof Error);
  if (inner) throw inner;
  if (Number(replies[0]) !== 1) {
    throw new SourceReadError('the point-in-time copy of a big Redis list or string was gone between two chunk reads (evicted or deleted): not read as the end of the value; the next run writes the key again', undefined, 'BACKUP_SOURCE_COPY_LOST');
  }
  return replies[2];
}

function readerFor(node: RedisLike, key: Buffer, type: string, limits: TypedExportLimits, copied = false): Reader {
  const count = limits.chunkElements;
  const range = (command: string, start: number, end: number) => (copied ? fromCopy(node, key, command, start, end) : node.callBuffer(command, key, start, end));
  const scan = (command: string) => async (position: string) => {
    const [next, flat] = (await node.callBuffer(command, key, position, 'COUNT', count)) as [Buffer, Buffer[]];
    const cursor = next.toString();
    return { elements: command === 'SSCAN' ? flat.map((m) => [m]) : pairs(flat), next: cursor, done: cursor === '0' };
  };
  switch (type) {
    case 'string':
      return async (position) => {
        const offset = Number(position);
        const bytes = (await range('GETRANGE', offset, offset + limits.chunkBytes - 1)) as Buffer;
        const next = offset + bytes.length;
        return { elements: [[String(offset), bytes]], next: String(next), done: bytes.length < limits.chunkBytes };
      };
    case 'hash':
      return scan('HSCAN');
    case 'set':
      return scan('SSCAN');
    case 'zset':
      return scan('ZSCAN');
    case 'list':
      return async (position) => {
        const start = Number(position);
        const items = (await range('LRANGE', start, start + count - 1)) as Buffer[];
        return { elements: items.map((item, i) => [String(start + i), item]), next: String(start + items.length), done: items.length < count };
      };
    case 'stream':
      return async (position) => {
        const entries = (await node.callBuffer('XRANGE', key, position === '0' ? '-' : `(${position}`, '+', 'COUNT', count)) as Array<[Buffer, Buffer[]]>;
        const last = entries.at(-1)?.[0].toString() ?? position;
        return {
          elements: entries.map(([id, fields]) => [id.toString(), JSON.stringify(fields.map((f) => encodeBytes(f)))]),
          next: last,
          done: entries.length < count,
        };
      };
    default:
      throw new Error(`Redis type "${type}" cannot be exported typed`);
  }
}

/** The command that reads a whole small value of `type`, and how its reply becomes elements (as the typed export's). */
export const WHOLE_VALUE: Record<string, { command: Array<string | number>; elements: (reply: unknown) => Array<Array<Buffer | string>> }> = {
  string: { command: ['GET'], elements: (reply) => [['0', reply as Buffer]] },
  hash: { command: ['HGETALL'], elements: (reply) => pairs(reply as Buffer[]) },
  set: { command: ['SMEMBERS'], elements: (reply) => (reply as Buffer[]).map((m) => [m]) },
  zset: { command: ['ZRANGE', 0, -1, 'WITHSCORES'], elements: (reply) => pairs(reply as Buffer[]) },
  list: { command: ['LRANGE', 0, -1], elements: (reply) => (reply as Buffer[]).map((item, i) => [String(i), item]) },
  stream: {
    command: ['XRANGE', '-', '+'],
    elements: (reply) => (reply as Array<[Buffer, Buffer[]]>).map(([id, fields]) => [id.toString(), JSON.stringify(fields.map((f) => encodeBytes(f)))]),
  },
};

/**
 * The content digest of a whole value: the sum of its element digests, the same as its typed
 * export would give. Independent of the server's internal encoding (a DUMP payload of a set
 * or hash lists members in hash-table order, which differs between two copies).
 */
export function valueDigest(type: string, key: Buffer, reply: unknown): Buffer {
  const sum = new ContentHash();
  const reader = WHOLE_VALUE[type];
  if (!reader) throw new Error(`Redis type "${type}" has no value reader`);
  for (const element of reader.elements(reply)) sum.add(elementDigest(type, key, ...element));
  return sum.toBytes();
}

/** Exports `key` as typed chunks, from the start or after `start`. */
export async function* exportTyped(
  node: RedisLike,
  key: Buffer,
  type: string,
  expiresAt: number,
  limits: TypedExportLimits,
  start?: { position: string; chunk: number },
  /** Bytes of a scratch prefix left out of the digests (drills). */
  strip = 0,
  /** The key the values are read from: a point-in-time copy of `key` (redis-big-key.ts); `key` itself by default. */
  from: Buffer = key,
): AsyncGenerator<TypedChunk> {
  const read = readerFor(node, from, type, limits, !from.equals(key));
  let position = start?.position ?? '0';
  let chunk = start ? start.chunk + 1 : 0;
  const k = encodeBytes(key);
  // Cut short among a stream's group records: all its groups again, on records of their own
  // (the restore recreates a group from scratch, so one given twice ends as read last).
  if (type === 'stream' && position === GROUPS_POSITION) {
    yield* streamTail(node, key, limits, { k, t: type, ttl: expiresAt }, chunk, '');
    return;
  }
  for (;;) {
    const { elements, next, done } = await read(position);
    const digest = new ContentHash();
    for (const element of elements) digest.add(elementDigest(type, key.subarray(strip), ...element));
    const v = elements.map((element) => element.map((part) => (typeof part === 'string' ? part : encodeBytes(part))));
    if (done && type === 'stream') {
      yield* streamTail(node, key, limits, { k, t: type, ttl: expiresAt }, chunk, JSON.stringify(v), digest.toBytes());
      return;
    }
    const line = JSON.stringify({ k, t: type, ttl: expiresAt, c: chunk, v });
    yield { line, digest: digest.toBytes(), chunk, position: next, last: done };
    if (done) return;
    position = next;
    chunk++;
  }
}

/** The position of a stream's chunks after its entries: its group records. */
const GROUPS_POSITION = 'g';

/**
 * A stream's last chunk (its last entries `v`, JSON; `''` for none after a resume), with its
 * counters and the first piece of its groups, then a record per further piece (no entries).
 */
async function* streamTail(
  node: RedisLike,
  key: Buffer,
  limits: TypedExportLimits,
  head: { k: unknown; t: string; ttl: number },
  chunk: number,
  v: string,
  digest: Uint8Array = new ContentHash().toBytes(),
): AsyncGenerator<TypedChunk> {
  // Read after the last entries: a group's last-delivered-id is never past the entries written.
  const groups = await readStreamGroups(node, key, limits.chunkElements);
  const s = await readStreamCounters(node, key);
  const line = (c: number, entries: string, piece: object): string => `${JSON.stringify({ ...head, c })
    .slice(0, -1)},"v":${entries || '[]'},${JSON.stringify(piece).slice(1)}`;
  // The room left for groups does not depend on the counters (a restore into Redis 6 has no
  // entries-added): a read-back of the restored stream is cut as the backup was. 160 bytes hold any `s`.
  const base = line(chunk, v, {});
  // A piece's line also holds the record's own fields (`{"k":…,"c":…,"v":[],}`).
  const own = Buffer.byteLength(line(chunk, '', {}));
  const pieces = splitGroups(groups, limits.chunkBytes - Buffer.byteLength(base) - 160, limits.chunkBytes - own - 16);
  const fields = (i: number) => ({ ...(pieces[i]?.g.length ? { g: pieces[i]!.g } : {}), ...(pieces[i]?.gp.length ? { gp: pieces[i]!.gp } : {}) });
  const empty = new ContentHash().toBytes();
  for (let i = 0; i < Math.max(1, pieces.length); i++) {
    const last = i >= pieces.length - 1;
    yield { line: line(chunk + i, i === 0 ? v : '', i === 0 ? { s, ...fields(i) } : fields(i)), digest: i === 0 ? digest : empty, chunk: chunk + i, position: GROUPS_POSITION, last };
  }
}
