/**
 * Decoding records back: the content-hash digest of a line (as the source computed it), and
 * what a FerretDB target cannot store.
 */
import { EJSON } from 'bson';
import { z } from 'zod';
import { ContentHash, sha256 } from './content-hash.js';
import { hex64 } from './manifest.js';
import { firstIssue } from './stored.js';
import { decodeBytes, elementDigest } from '../sources/redis-values.js';

const encodedBytes = z.union([z.string(), z.object({ $b64: z.base64() }).strict()]);
const TYPED = ['string', 'hash', 'set', 'zset', 'list', 'stream'] as const;

const entryId = z.string().regex(/^\d+-\d+$/);
/** A stream's consumer group in the last chunk of its typed export (sources/redis-stream-groups.ts). */
const streamGroupSchema = z
  .object({
    n: encodedBytes,
    id: entryId,
    r: z.number().int().min(0).nullable(),
    c: z.array(z.object({ n: encodedBytes, p: z.array(z.tuple([entryId, z.number().int().min(0), z.number().int().min(0)])) }).strict()),
  })
  .strict();
/** More pending entries of a group an earlier record of the stream created (its PEL cut at `chunkBytes`). */
const streamGroupPendingSchema = streamGroupSchema.pick({ n: true, c: true }).strict();
/** A stream's counters from `XINFO STREAM`: last-generated-id, entries-added and max-deleted-entry-id (both `null` before Redis 7.0). */
const streamCountersSchema = z.object({ id: entryId, a: z.number().int().min(0).nullable(), d: entryId.nullable() }).strict();

/**
 * On the first record of a key the source wrote again from scratch on a resume (its type
 * changed, or its point-in-time copy was gone, since the run that began it): what the key's
 * earlier records in the backup added, per expiry (`ttl`): the sum of their digests (`h`) and the
 * keys they counted (`n`). The record replaces them (a typed chunk 0 or a DUMP replaces the key
 * on restore), so its digest takes them out and a drill compares the key as it was read last.
 * A typed chunk 0 with no elements (`v: []`, not a stream) and `r` deletes a key gone since.
 */
const replacesSchema = z.array(z.object({ ttl: z.number().int().min(-1), h: hex64, n: z.number().int().min(0) }).strict()).optional();

/** A Redis record as written by the Redis source (one NDJSON line of a keyspace segment). */
export const redisRecordSchema = z.union([
  z
    .object({
      k: encodedBytes,
      t: z.literal('dump'),
      /** Absolute expiry, epoch ms; -1 for none. */
      ttl: z.number().int().min(-1),
      /** The DUMP payload, base64. */
      v: z.base64(),
      /** The record's content digest (hex): the sum of its element digests, read from the value. */
      h: hex64,
      r: replacesSchema,
    })
    .strict(),
  z
    .object({
      k: encodedBytes,
      t: z.enum(TYPED),
      ttl: z.number().int().min(-1),
      /** Chunk number of a typed key (0 replaces the key). */
      c: z.number().int().min(0),
      /** The elements of this chunk. */
      v: z.array(z.array(encodedBytes).min(1).max(2)),
      /** A stream's consumer groups, on its last chunk (not part of the content digest). */
      g: z.array(streamGroupSchema).optional(),
      /** More pending entries of groups an earlier chunk created (not part of the content digest). */
      gp: z.array(streamGroupPendingSchema).optional(),
      /** A stream's counters, on its last entries chunk (not part of the content digest; absent in older backups). */
      s: streamCountersSchema.optional(),
      /** Earlier records of the key this one replaces (see `replacesSchema`). */
      r: replacesSchema,
    })
    .strict(),
]);
export type RedisRecord = z.infer<typeof redisRecordSchema>;

/**
 * The fields of a stream entry in a typed record (JSON text of encoded byte strings).
 * @throws {TypeError} anything else
 */
export function streamFields(text: Buffer | string): Array<z.infer<typeof encodedBytes>> {
  let raw: unknown;
  try {
    raw = JSON.parse(text.toString());
  } catch {
    throw new TypeError('stream entry fields are not JSON');
  }
  const parsed = z.array(encodedBytes).safeParse(raw);
  if (!parsed.success || parsed.data.length % 2 !== 0) throw new TypeError('stream entry fields are not field/value pairs');
  return parsed.data;
}

/**
 * Parses one line of a Redis keyspace segment.
 * @throws {TypeError} not JSON, or not a Redis record (the callers report it as corruption)
 */
export function parseRedisRecord(line: string): RedisRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new TypeError('a Redis record is not JSON');
  }
  const parsed = redisRecordSchema.safeParse(raw);
  if (!parsed.success) throw new TypeError(`not a Redis record (${firstIssue(parsed.error)})`);
  return parsed.data;
}

/** The content-hash digest of one line of a dataset of `kind`. */
export function recordDigest(kind: 'mongodb-collection' | 'redis-keyspace', line: string): Uint8Array {
  if (kind === 'mongodb-collection') return sha256(line);
  const record = parseRedisRecord(line);
  const sum = ownDigest(record);
  for (const earlier of record.r ?? []) sum.subtract(Buffer.from(earlier.h, 'hex'));
  return sum.toBytes();
}

/** The digest of a Redis record's own content (its payload's, or the sum of its elements'), without what it replaces (`r`). */
export function ownDigest(record: RedisRecord): ContentHash {
  const sum = new ContentHash();
  if (record.t === 'dump') return sum.add(Buffer.from(record.h, 'hex'));
  const key = decodeBytes(record.k);
  for (const element of record.v) sum.add(elementDigest(record.t, key, ...element.map((part) => decodeBytes(part))));
  return sum;
}

/**
 * The keys a Redis record counts: 1 for a DUMP record or a typed chunk 0 (a key's further
 * chunks add to its content, not to the count), 0 for a chunk 0 with no elements that deletes
 * the key (not a stream: an empty stream is a key).
 */
export function keysCounted(record: RedisRecord): number {
  if (record.t === 'dump') return 1;
  return record.c === 0 && (record.v.length > 0 || record.t === 'stream') ? 1 : 0;
}

/** Parses a canonical EJSON line into a document with driver types. */
export function parseDocument(line: string): Record<string, unknown> {
  return EJSON.parse(line, { relaxed: false }) as Record<string, unknown>;
}

/**
 * Why FerretDB 1.x cannot store `doc`, or undefined: NaN, Decimal128, MinKey/MaxKey, nested
 * arrays, and keys with '.' or a leading '$' (FerretDB closes the connection or refuses them).
 */
export function ferretdbProblem(doc: unknown, path = ''): string | undefined {
  if (typeof doc === 'number') return Number.isFinite(doc) ? undefined : `${path || 'value'}: ${String(doc)}`;
  if (doc === null || typeof doc !== 'object') return undefined;
  const bsontype = (doc as { _bsontype?: string })._bsontype;
  // Decimal128, MinKey/MaxKey, JavaScript code and symbols FerretDB 1.24 does not store (it closes
  // the connection on Code and Symbol); a DBRef is refused for its "$ref" key.
  if (bsontype === 'Decimal128' || bsontype === 'MinKey' || bsontype === 'MaxKey' || bsontype === 'Code' || bsontype === 'BSONSymbol' || bsontype === 'DBRef') return `${path || 'value'}: ${bsontype}`;
  // FerretDB 1.24 refuses NaN and ±Infinity ("infinity values are not allowed").
  if (bsontype === 'Double' && !Number.isFinite((doc as { value: number }).value)) return `${path || 'value'}: ${String((doc as { value: number }).value)}`;
  if (bsontype !== undefined || doc instanceof Date || doc instanceof RegExp) return undefined;
  if (Array.isArray(doc)) {
    for (let i = 0; i < doc.length; i++) {
      if (Array.isArray(doc[i])) return `${path}.${i}: nested array`;
      const inner = ferretdbProblem(doc[i], `${path}.${i}`);
      if (inner) return inner;
    }
    return undefined;
  }
  for (const [key, value] of Object.entries(doc)) {
    const here = path ? `${path}.${key}` : key;
    if (key.includes('.')) return `${here}: key contains '.'`;
    if (key.startsWith('$')) return `${here}: key starts with '$'`;
    const inner = ferretdbProblem(value, here);
    if (inner) return inner;
  }
  return undefined;
}
