/**
 * Decoding records back: the content-hash digest of a line (as the source computed it), and
 * what a FerretDB target cannot store.
 */
import { EJSON } from 'bson';
import { ContentHash, sha256 } from './content-hash.js';
import { decodeBytes, elementDigest, type EncodedBytes } from '../sources/redis-values.js';

/** A Redis record as written by the Redis source. */
export interface RedisRecord {
  k: EncodedBytes;
  t: string;
  /** Absolute expiry, epoch ms; -1 for none. */
  ttl: number;
  /** DUMP payload, base64 (`t: 'dump'`); else the typed elements. */
  v: string | Array<Array<EncodedBytes>>;
  /** Chunk number of a typed key (0 replaces the key). */
  c?: number;
  /** A DUMP record's content digest (hex): the sum of its element digests, read from the value. */
  h?: string;
}

/** The content-hash digest of one line of a dataset of `kind`. */
export function recordDigest(kind: 'mongodb-collection' | 'redis-keyspace', line: string): Uint8Array {
  if (kind === 'mongodb-collection') return sha256(line);
  const record = JSON.parse(line) as RedisRecord;
  const key = decodeBytes(record.k);
  if (record.t === 'dump') {
    if (typeof record.h !== 'string' || !/^[0-9a-f]{64}$/.test(record.h)) throw new TypeError('a DUMP record without its content digest');
    return Buffer.from(record.h, 'hex');
  }
  const sum = new ContentHash();
  for (const element of record.v as Array<Array<EncodedBytes>>) sum.add(elementDigest(record.t, key, ...element.map((part) => decodeBytes(part))));
  return sum.toBytes();
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
  if (typeof doc === 'number') return Number.isNaN(doc) ? `${path || 'value'}: NaN` : undefined;
  if (doc === null || typeof doc !== 'object') return undefined;
  const bsontype = (doc as { _bsontype?: string })._bsontype;
  if (bsontype === 'Decimal128' || bsontype === 'MinKey' || bsontype === 'MaxKey') return `${path || 'value'}: ${bsontype}`;
  if (bsontype === 'Double' && Number.isNaN((doc as { value: number }).value)) return `${path || 'value'}: NaN`;
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
