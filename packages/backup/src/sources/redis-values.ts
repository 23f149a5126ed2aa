/**
 * How Redis keys and values are written in NDJSON: a string when the bytes are valid UTF-8,
 * else `{ "$b64": "<base64>" }`; and the element digests of the typed export, which add up to
 * a key's share of the keyspace's content hash whatever the chunking.
 */
import { sha256 } from '../format/content-hash.js';

/** A Redis byte string in JSON. */
export type EncodedBytes = string | { $b64: string };

/** Encodes bytes as text when they round-trip through UTF-8, else as base64. */
export function encodeBytes(bytes: Buffer): EncodedBytes {
  const text = bytes.toString('utf8');
  return Buffer.byteLength(text) === bytes.length && Buffer.from(text, 'utf8').equals(bytes) ? text : { $b64: bytes.toString('base64') };
}

/** Decodes `encodeBytes` output. */
export function decodeBytes(value: EncodedBytes): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value && typeof value === 'object' && typeof value.$b64 === 'string') return Buffer.from(value.$b64, 'base64');
  throw new TypeError('not an encoded Redis string');
}

/** The digest of one element of a typed key (a field and value, a member and score, a list item at an index…). */
export function elementDigest(type: string, key: Buffer, ...parts: Array<Buffer | string>): Buffer {
  const chunks: Buffer[] = [Buffer.from(type), Buffer.from([0]), key];
  for (const part of parts) chunks.push(Buffer.from([0]), typeof part === 'string' ? Buffer.from(part) : part);
  return sha256(Buffer.concat(chunks));
}

/**
 * The RDB version a DUMP payload was written with: the payload ends with a 2-byte
 * little-endian RDB version and an 8-byte CRC64 (https://redis.io/docs/latest/commands/dump/).
 */
export function rdbVersionOf(payload: Buffer): number {
  if (payload.length < 10) throw new RangeError('a DUMP payload is at least 10 bytes');
  return payload.readUInt16LE(payload.length - 10);
}
