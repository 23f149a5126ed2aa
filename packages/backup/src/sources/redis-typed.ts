/**
 * The typed export of one Redis key, in chunks that each hold a bounded number of elements
 * (or bytes of a string), so a big key never passes through one `DUMP`. Each chunk is one
 * NDJSON record `{ k, t, ttl, c, v }`; chunk 0 tells the restore to replace the key. A chunk
 * also carries the position to resume after it (the inner SCAN cursor, an offset, a stream id).
 */
import { elementDigest, encodeBytes } from './redis-values.js';
import { ContentHash } from '../format/content-hash.js';
import type { RedisLike } from './redis.js';

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

function pairs(flat: Buffer[]): Buffer[][] {
  const out: Buffer[][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

function readerFor(node: RedisLike, key: Buffer, type: string, limits: TypedExportLimits): Reader {
  const count = limits.chunkElements;
  const scan = (command: string) => async (position: string) => {
    const [next, flat] = (await node.callBuffer(command, key, position, 'COUNT', count)) as [Buffer, Buffer[]];
    const cursor = next.toString();
    return { elements: command === 'SSCAN' ? flat.map((m) => [m]) : pairs(flat), next: cursor, done: cursor === '0' };
  };
  switch (type) {
    case 'string':
      return async (position) => {
        const offset = Number(position);
        const bytes = (await node.callBuffer('GETRANGE', key, offset, offset + limits.chunkBytes - 1)) as Buffer;
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
        const items = (await node.callBuffer('LRANGE', key, start, start + count - 1)) as Buffer[];
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

/** Exports `key` as typed chunks, from the start or after `start`. */
export async function* exportTyped(
  node: RedisLike,
  key: Buffer,
  type: string,
  expiresAt: number,
  limits: TypedExportLimits,
  start?: { position: string; chunk: number },
): AsyncGenerator<TypedChunk> {
  const read = readerFor(node, key, type, limits);
  let position = start?.position ?? '0';
  let chunk = start ? start.chunk + 1 : 0;
  const k = encodeBytes(key);
  for (;;) {
    const { elements, next, done } = await read(position);
    const digest = new ContentHash();
    for (const element of elements) digest.add(elementDigest(type, key, ...element));
    const v = elements.map((element) => element.map((part) => (typeof part === 'string' ? part : encodeBytes(part))));
    const line = JSON.stringify({ k, t: type, ttl: expiresAt, c: chunk, v });
    yield { line, digest: digest.toBytes(), chunk, position: next, last: done };
    if (done) return;
    position = next;
    chunk++;
  }
}
