/**
 * Stream objects and their hourly index. An object holds one flushed buffer (gzip NDJSON of
 * records). Its name is deterministic — timeline, hour of its first record's event time,
 * object number (`seq`) on the timeline, first and last source position, and the start of its
 * SHA-256 — and it is written with `If-None-Match: *`, so a retried write of the same records
 * adopts the existing object instead of making a second one. Each hour has an index object
 * listing its objects (position and event-time ranges), so a restore never lists a prefix.
 */
import { gzipSync } from 'node:zlib';
import { BackupCorruptedError, BackupIncompleteError, StorageError } from '../errors.js';
import { sha256 } from '../format/content-hash.js';
import { gunzipLines } from '../format/ndjson.js';
import { getJson, getObject, headObject, type S3Location } from '../s3/client.js';
import { putConditional, putIfAbsent } from '../s3/conditional.js';
import type { S3Capabilities } from '../s3/probe.js';
import { keys } from '../target.js';
import type { StreamRecord } from './types.js';

export const HOUR_MS = 3_600_000;

/** An object as the hourly index lists it. */
export interface IndexedObject {
  key: string;
  timeline: number;
  seq: number;
  /** Position of the last record before this object (null: the timeline's first object). */
  prev: string | null;
  first: string;
  last: string;
  minTime: string;
  maxTime: string;
  count: number;
  bytes: number;
  sha256: string;
}

/** The hourly index object. */
export interface HourIndex {
  formatVersion: 1;
  name: string;
  timeline: number;
  hour: string;
  objects: IndexedObject[];
}

/** Characters safe in a key; positions are shortened to keep names readable. */
function safe(position: string): string {
  const cleaned = position.replace(/[^A-Za-z0-9-]/g, '_');
  return cleaned.length > 48 ? cleaned.slice(-48) : cleaned;
}

/** The hour (epoch ms, UTC) an object is filed under. */
export function hourOf(time: string): number {
  return Math.floor(Date.parse(time) / HOUR_MS) * HOUR_MS;
}

/**
 * Writes `records` as object `seq` of `timeline` and lists it in its hour's index. Resolves to
 * the index entry (the existing object's, when the same object was written before).
 */
export async function writeStreamObject(
  loc: S3Location,
  caps: Pick<S3Capabilities, 'ifMatch' | 'ifNoneMatch'>,
  name: string,
  timeline: number,
  seq: number,
  prev: string | null,
  records: StreamRecord[],
  signal?: AbortSignal,
): Promise<IndexedObject> {
  const body = gzipSync(Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join(''), 'utf8'));
  const digest = sha256(body).toString('hex');
  const first = records[0]!;
  const last = records.at(-1)!;
  const times = records.map((r) => r.time).sort();
  const hour = hourOf(first.time);
  const prefix = keys.streamHour(loc, name, timeline, hour);
  const key = `${prefix}/${String(seq).padStart(12, '0')}_${safe(first.position)}_${safe(last.position)}_${digest.slice(0, 12)}.ndjson.gz`;
  const written = await putIfAbsent(loc, caps, key, body, { contentType: 'application/gzip', metadata: { sha256: digest }, ...(signal ? { signal } : {}) });
  if (!written.written) {
    const existing = await headObject(loc, key, signal);
    if (existing?.metadata.sha256 !== digest) throw new StorageError(`stream object ${key} exists with other content`);
  }
  const entry: IndexedObject = { key, timeline, seq, prev, first: first.position, last: last.position, minTime: times[0]!, maxTime: times.at(-1)!, count: records.length, bytes: body.length, sha256: digest };
  await addToIndex(loc, caps, name, timeline, hour, entry, signal);
  return entry;
}

async function addToIndex(loc: S3Location, caps: Pick<S3Capabilities, 'ifMatch' | 'ifNoneMatch'>, name: string, timeline: number, hour: number, entry: IndexedObject, signal?: AbortSignal): Promise<void> {
  const key = `${keys.streamHour(loc, name, timeline, hour)}/index.json`;
  for (let attempt = 0; attempt < 8; attempt++) {
    const found = await getJson<HourIndex>(loc, key, signal);
    const index: HourIndex = found?.value ?? { formatVersion: 1, name, timeline, hour: new Date(hour).toISOString(), objects: [] };
    if (index.objects.some((o) => o.key === entry.key)) return;
    index.objects.push(entry);
    index.objects.sort((a, b) => a.seq - b.seq || a.key.localeCompare(b.key));
    const result = await putConditional(loc, caps, key, found?.etag, JSON.stringify(index), signal ? { signal } : {});
    if (result.written) return;
  }
  throw new StorageError(`the hourly index ${key} kept changing under concurrent writers`);
}

/** Reads an hour's index (undefined when the hour has none). */
export async function readHourIndex(loc: S3Location, name: string, timeline: number, hour: number, signal?: AbortSignal): Promise<HourIndex | undefined> {
  return (await getJson<HourIndex>(loc, `${keys.streamHour(loc, name, timeline, hour)}/index.json`, signal))?.value;
}

/** Downloads a stream object, checks its SHA-256 and record count, and parses its records. */
export async function readStreamObject(loc: S3Location, entry: IndexedObject, signal?: AbortSignal): Promise<StreamRecord[]> {
  const found = await getObject(loc, entry.key, signal ? { signal } : {});
  if (!found) throw new BackupIncompleteError('a stream object listed in its index is missing', [{ key: entry.key, message: 'missing' }]);
  if (sha256(found.body).toString('hex') !== entry.sha256) throw new BackupCorruptedError('a stream object does not match its checksum', [{ key: entry.key, message: 'SHA-256 mismatch' }]);
  const records: StreamRecord[] = [];
  for await (const line of gunzipLines(found.body)) records.push(JSON.parse(line) as StreamRecord);
  if (records.length !== entry.count) throw new BackupCorruptedError('a stream object holds another number of records', [{ key: entry.key, message: `${records.length} records, index says ${entry.count}` }]);
  return records;
}
