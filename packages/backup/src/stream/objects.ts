/**
 * Stream objects and their hourly index. An object holds one flushed buffer (gzip NDJSON of
 * records). Its name is deterministic — timeline, hour of its first record's event time,
 * object number (`seq`) on the timeline, first and last source position, and the start of its
 * SHA-256 — and it is written with `If-None-Match: *`, so a retried write of the same records
 * adopts the existing object instead of making a second one. Each hour has an index object
 * listing its objects (position and event-time ranges), so a restore never lists a prefix.
 *
 * A sink killed after listing object `n` but before its checkpoint moved past it leaves that
 * entry behind; the next sink reads the source again from the checkpoint, maybe into other
 * buffer boundaries (another key), and lists its own object `n` too. Once its checkpoint is
 * saved (chained by ETag: only one of two sinks continuing the same checkpoint can save), its
 * entry is the one on the chain, and it removes the other entries of `n` from the index
 * (`dropRepeats`). Indexes that still list a number twice (a kill between that checkpoint and
 * the removal, or an index of an older version) are read without the repeats off the chain
 * (`withoutRepeats`): the entry whose last position the next object continues from (or the
 * checkpoint's position, for its last object) is the one kept.
 */
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { BackupCorruptedError, BackupIncompleteError, StorageError } from '../errors.js';
import { sha256 } from '../format/content-hash.js';
import { hex64 } from '../format/manifest.js';
import { decodeLines } from '../format/ndjson.js';
import { getStored } from '../format/stored.js';
import { getObject, headObject, statusOf, type S3Location } from '../s3/client.js';
import { putConditional, putIfAbsent } from '../s3/conditional.js';
import type { S3Capabilities } from '../s3/probe.js';
import { keys } from '../target.js';
import { parseStreamRecord, type StreamRecord } from './types.js';

export const HOUR_MS = 3_600_000;

const isoTime = z.string().refine((t) => Number.isFinite(Date.parse(t)), 'an ISO 8601 time');

/** An object as the hourly index lists it. */
export const indexedObjectSchema = z.object({
  key: z.string().min(1),
  timeline: z.number().int().min(1),
  seq: z.number().int().min(1),
  /** Position of the last record before this object (null: the timeline's first object). */
  prev: z.string().nullable(),
  first: z.string(),
  last: z.string(),
  minTime: isoTime,
  maxTime: isoTime,
  count: z.number().int().min(1),
  bytes: z.number().int().min(1),
  sha256: hex64,
});
export type IndexedObject = z.infer<typeof indexedObjectSchema>;

/** The hourly index object. */
export const hourIndexSchema = z.object({
  formatVersion: z.literal(1),
  name: z.string().min(1),
  timeline: z.number().int().min(1),
  hour: isoTime,
  objects: z.array(indexedObjectSchema),
});
export type HourIndex = z.infer<typeof hourIndexSchema>;

/** The longest a position gets in an object's key (ASCII only: `safe`). */
const POSITION_KEY_CHARS = 48;

/** Characters safe in a key; positions are shortened to keep names readable. */
function safe(position: string): string {
  const cleaned = position.replace(/[^A-Za-z0-9-]/g, '_');
  return cleaned.length > POSITION_KEY_CHARS ? cleaned.slice(-POSITION_KEY_CHARS) : cleaned;
}

/** The key of object `seq` of `timeline`, filed under `hour`, from `first` to `last` (positions). */
function objectKey(loc: S3Location, name: string, timeline: number, hour: number, seq: number, first: string, last: string, digest: string): string {
  return `${keys.streamHour(loc, name, timeline, hour)}/${String(seq).padStart(12, '0')}_${safe(first)}_${safe(last)}_${digest.slice(0, 12)}.ndjson.gz`;
}

/**
 * The bytes of the longest key a stream writes under `loc` (an object's, in the worst case: a
 * 10-digit timeline, a 12-digit object number, both positions at their longest), to check a
 * name against S3's 1,024-byte keys when the job is defined, not at its first write.
 */
export function longestStreamKeyBytes(loc: S3Location, name: string): number {
  const longest = 'x'.repeat(POSITION_KEY_CHARS);
  return Buffer.byteLength(objectKey(loc, name, 9_999_999_999, Date.UTC(9999, 11, 31, 23), 999_999_999_999, longest, longest, '0'.repeat(64)));
}

/** The hour (epoch ms, UTC) an object is filed under. */
export function hourOf(time: string): number {
  return Math.floor(Date.parse(time) / HOUR_MS) * HOUR_MS;
}

/**
 * Writes `records` as object `seq` of `timeline` and lists it in its hour's index. Resolves to
 * the index entry (the existing object's, when the same object was written before), its hour,
 * and whether the index already listed object `seq` under another key (`repeated`: a dead
 * sink's entry, to remove with `dropRepeats` once the checkpoint names this one).
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
): Promise<{ entry: IndexedObject; hour: number; repeated: boolean }> {
  const body = gzipSync(Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join(''), 'utf8'));
  const digest = sha256(body).toString('hex');
  const first = records[0]!;
  const last = records.at(-1)!;
  const times = records.map((r) => r.time).sort();
  const hour = hourOf(first.time);
  const key = objectKey(loc, name, timeline, hour, seq, first.position, last.position, digest);
  const written = await putIfAbsent(loc, caps, key, body, { contentType: 'application/gzip', metadata: { sha256: digest }, ...(signal ? { signal } : {}) });
  if (!written.written) {
    const existing = await headObject(loc, key, signal);
    if (existing?.metadata.sha256 !== digest) throw new StorageError(`stream object ${key} exists with other content`);
  }
  const entry: IndexedObject = { key, timeline, seq, prev, first: first.position, last: last.position, minTime: times[0]!, maxTime: times.at(-1)!, count: records.length, bytes: body.length, sha256: digest };
  const repeated = await changeIndex(loc, caps, name, timeline, hour, signal, (objects) => ({
    repeated: objects.some((o) => isRepeatOf(o, entry)),
    objects: objects.some((o) => o.key === key) ? undefined : [...objects, entry],
  }));
  return { entry, hour, repeated };
}

/**
 * Removes from `hour`'s index every other entry of `entry`'s object number: call it only once
 * the stream's checkpoint names `entry` (its chained save succeeded), which makes the others a
 * dead sink's.
 */
export async function dropRepeats(loc: S3Location, caps: Pick<S3Capabilities, 'ifMatch' | 'ifNoneMatch'>, name: string, hour: number, entry: IndexedObject, signal?: AbortSignal): Promise<void> {
  await changeIndex(loc, caps, name, entry.timeline, hour, signal, (objects) => {
    const kept = objects.filter((o) => !isRepeatOf(o, entry));
    return { repeated: false, objects: kept.length !== objects.length && kept.some((o) => o.key === entry.key) ? kept : undefined };
  });
}

/** The object number a stream object's key starts with (NaN for another key). */
function seqOfKey(key: string): number {
  return Number(/(\d{12})_[^/]*\.ndjson\.gz$/.exec(key)?.[1] ?? NaN);
}

/**
 * Whether `o` is another sink's object of `entry`'s number: another key, the same number (in
 * its entry and its key) and the same previous position (both sinks continued one checkpoint).
 * An entry a damaged index gives another number or position is never taken for one.
 */
function isRepeatOf(o: Pick<IndexedObject, 'key' | 'seq' | 'prev'>, entry: Pick<IndexedObject, 'key' | 'seq' | 'prev'>): boolean {
  return o.key !== entry.key && o.seq === entry.seq && o.prev === entry.prev && seqOfKey(o.key) === o.seq && seqOfKey(entry.key) === entry.seq;
}

/** Reads the hour's index and writes back the entries `change` gives (none: nothing to write), conditionally, retried when another writer came first. */
async function changeIndex(
  loc: S3Location,
  caps: Pick<S3Capabilities, 'ifMatch' | 'ifNoneMatch'>,
  name: string,
  timeline: number,
  hour: number,
  signal: AbortSignal | undefined,
  change: (objects: IndexedObject[]) => { repeated: boolean; objects: IndexedObject[] | undefined },
): Promise<boolean> {
  const key = hourIndexKey(loc, name, timeline, hour);
  for (let attempt = 0; attempt < 8; attempt++) {
    const found = await getStored(loc, key, hourIndexSchema, { what: 'hourly index', version: 1 }, signal);
    const index: HourIndex = found?.value ?? { formatVersion: 1, name, timeline, hour: new Date(hour).toISOString(), objects: [] };
    const { repeated, objects } = change(index.objects);
    if (!objects) return repeated;
    index.objects = objects.sort((a, b) => a.seq - b.seq || a.key.localeCompare(b.key));
    const result = await putConditional(loc, caps, key, found?.etag, JSON.stringify(index), signal ? { signal } : {});
    if (result.written) return repeated;
  }
  throw new StorageError(`the hourly index ${key} kept changing under concurrent writers`);
}

/**
 * `objects` (entries of one timeline) without the repeats of an object number that are off the
 * chain: an entry is dropped only when another entry of its number (see `isRepeatOf`) is on the
 * chain — its last position is the one the entries of `n + 1` continue from (all of them from
 * one position), or, for the checkpoint's last object, the checkpoint's position — and it is
 * not. Otherwise all are kept (the next object in another hour's index; an index whose damage
 * gave an entry another number): a restore drops a repeat's records by event id.
 */
export function withoutRepeats<T extends Pick<IndexedObject, 'key' | 'timeline' | 'seq' | 'prev' | 'last'>>(objects: T[], checkpoint?: { timeline: number; seq: number; position: string | null }): T[] {
  const bySeq = new Map<number, T[]>();
  for (const o of objects) bySeq.set(o.seq, [...(bySeq.get(o.seq) ?? []), o]);
  if (bySeq.size === objects.length) return objects;
  const onChain = (o: T): boolean => {
    if (checkpoint && checkpoint.timeline === o.timeline && checkpoint.seq === o.seq) return o.last === checkpoint.position;
    const next = new Set((bySeq.get(o.seq + 1) ?? []).map((n) => n.prev));
    return next.size === 1 && next.has(o.last);
  };
  return objects.filter((o) => onChain(o) || !bySeq.get(o.seq)!.some((x) => isRepeatOf(x, o) && onChain(x)));
}

/** The key of an hour's index object. */
export function hourIndexKey(loc: S3Location, name: string, timeline: number, hour: number): string {
  return `${keys.streamHour(loc, name, timeline, hour)}/index.json`;
}

/**
 * Reads an hour's index (undefined when the hour has none).
 * @throws {BackupCorruptedError | UnsupportedFormatError} the index is not a valid one
 */
export async function readHourIndex(loc: S3Location, name: string, timeline: number, hour: number, signal?: AbortSignal): Promise<HourIndex | undefined> {
  return (await getStored(loc, hourIndexKey(loc, name, timeline, hour), hourIndexSchema, { what: 'hourly index', version: 1 }, signal))?.value;
}

/**
 * Decodes a stream object's bytes, checked against its index entry: SHA-256, gzip, one valid
 * record per line, the record count.
 * @throws {BackupCorruptedError} anything else
 */
export async function decodeStreamObject(body: Uint8Array, entry: Pick<IndexedObject, 'key' | 'sha256' | 'count'>): Promise<StreamRecord[]> {
  if (sha256(body).toString('hex') !== entry.sha256) throw new BackupCorruptedError('a stream object does not match its checksum', [{ key: entry.key, message: 'SHA-256 mismatch' }]);
  const records: StreamRecord[] = [];
  await decodeLines(body, entry.key, (line) => void records.push(parseStreamRecord(line, entry.key, records.length + 1)));
  if (records.length !== entry.count) throw new BackupCorruptedError('a stream object holds another number of records', [{ key: entry.key, message: `${records.length} records, index says ${entry.count}` }]);
  return records;
}

/**
 * Downloads a stream object, checks its size, SHA-256 and record count, and parses its records.
 * At most one byte past the size its index gives is read: an object replaced by a larger one is
 * refused by its size without being downloaded (into memory) whole.
 * @throws {BackupIncompleteError} the object is missing
 * @throws {BackupCorruptedError} it is not the size its index gives, or fails `decodeStreamObject`'s checks
 */
export async function readStreamObject(loc: S3Location, entry: IndexedObject, signal?: AbortSignal): Promise<StreamRecord[]> {
  let found;
  try {
    found = await getObject(loc, entry.key, { range: [0, entry.bytes], ...(signal ? { signal } : {}) });
  } catch (error) {
    // A ranged GET of an empty object is 416 (Range Not Satisfiable): an object of 0 bytes.
    if (statusOf(error) !== 416) throw error;
    found = { body: Buffer.alloc(0) };
  }
  if (!found) throw new BackupIncompleteError('a stream object listed in its index is missing', [{ key: entry.key, message: 'missing' }]);
  const size = found.body.length;
  if (size !== entry.bytes) {
    const message = size > entry.bytes ? `larger than the ${entry.bytes} bytes its index gives` : `${size} bytes, its index gives ${entry.bytes}`;
    throw new BackupCorruptedError('a stream object is not the size its index gives', [{ key: entry.key, message }]);
  }
  return decodeStreamObject(found.body, entry);
}
