/**
 * A MongoDB collection tailed by a watermark field (e.g. `updatedAt`, set on every write), for
 * servers without change streams (FerretDB). Limits, by design of watermark tailing:
 * - it cannot see a delete: use soft deletes (`deletedField`, a tombstone that is kept);
 * - a write that commits late with an older watermark is missed unless it falls inside the
 *   re-read window: each pull reads from `checkpoint − overlapMs` and only up to
 *   `now − lagMs`, and drops documents already archived at that watermark;
 * - only the latest version of a document at each read is seen (intermediate versions between
 *   two pulls are not); a version is the `_id`, the watermark and the content (`versionOf`), so
 *   a write that changes a document without moving its watermark is still streamed;
 * - a document whose watermark is not a Date (a string, a number, missing) is never streamed:
 *   the first pull of a process, and then one an hour, counts them (one more query, a scan of
 *   the collection on FerretDB) and reports them as a `WATERMARK_NOT_DATE` notice (logged, and
 *   in the run's `notices`: the count and the first `_id`, never a value).
 */
import { createHash } from 'node:crypto';
import { checkKnownKeys, intOption, invalidOption, msOption, stringOption, keysOf } from '@steadyfn/handler/internal';
import { RAW_DOCUMENTS, toEjson, type MongoDbLike } from '../../sources/mongo.js';
import { resolveClient, type ClientInput } from '../../sources/types.js';
import type { PulledBatch, StreamNotice, StreamRecord, StreamSource } from '../types.js';

/** Options of `mongoWatermarkSource()`. */
export interface MongoWatermarkSourceOptions {
  db: ClientInput<MongoDbLike>;
  collection: string;
  /** A Date field set on every insert and update. @default 'updatedAt' */
  field?: string;
  /** A Date field set instead of deleting (a tombstone): such a document is streamed as a delete. */
  deletedField?: string;
  /** Only documents whose watermark is older than this are read (late commits). @default 5000 */
  lagMs?: number;
  /** Each read starts this far before the checkpoint (late commits). @default 60000 */
  overlapMs?: number;
  /** Documents per read. @default 1000 */
  batchSize?: number;
  /** The clock (tests). */
  now?: () => number;
}

interface WatermarkState {
  /**
   * Versions of documents archived within the overlap window: `<id>@<watermark ms>#<content>`
   * (`#…`: the first 16 hex digits of the SHA-256 of the document's canonical EJSON). A
   * checkpoint written before the content part holds `<id>@<ms>`: it still loads, and such an
   * entry no longer matches a document read again (one more copy of it archived, once).
   */
  seen: string[];
}

/**
 * A document's version: its `_id`, its watermark (ms) and a short hash of its content. A write
 * that leaves the watermark unchanged but changes the document is another version (archived);
 * the same content read again by an overlapping read is the same one (dropped).
 */
export function versionOf(id: string, ms: number, line: string): string {
  return `${id}@${ms}#${createHash('sha256').update(line).digest('hex').slice(0, 16)}`;
}

/** The watermark (ms) of a version, with or without its content part. */
function msOfVersion(version: string): number {
  const at = version.lastIndexOf('@');
  const hash = version.indexOf('#', at);
  return Number(version.slice(at + 1, hash === -1 ? undefined : hash));
}

/** A watermark position: the time, zero-padded, then the `_id`. */
function positionOf(ms: number, id: string): string {
  return `${String(ms).padStart(15, '0')}|${id}`;
}

/**
 * A watermark-tailed collection source.
 *
 * @example
 * const source = mongoWatermarkSource({ db, collection: 'orders', field: 'updatedAt', deletedField: 'deletedAt' });
 * @throws {ConfigurationError} a missing db or collection, or an option out of range
 */
export function mongoWatermarkSource(options: MongoWatermarkSourceOptions): StreamSource {
  checkKnownKeys(
    'mongoWatermarkSource',
    '',
    options,
    keysOf<MongoWatermarkSourceOptions>({ db: true, collection: true, field: true, deletedField: true, lagMs: true, overlapMs: true, batchSize: true, now: true }),
  );
  if (options === null || typeof options !== 'object' || !options.db) invalidOption('mongoWatermarkSource', 'db', 'a mongodb Db or a function giving one', options?.db);
  const collection = stringOption('mongoWatermarkSource', 'collection', options.collection);
  const field = stringOption('mongoWatermarkSource', 'field', options.field, 'updatedAt');
  const deletedField = options.deletedField === undefined ? undefined : stringOption('mongoWatermarkSource', 'deletedField', options.deletedField);
  const lagMs = msOption('mongoWatermarkSource', 'lagMs', options.lagMs, 5_000, 0);
  const overlapMs = msOption('mongoWatermarkSource', 'overlapMs', options.overlapMs, 60_000, 0);
  const batchSize = intOption('mongoWatermarkSource', 'batchSize', options.batchSize, 1000, 1, 100_000);
  const now = options.now ?? Date.now;
  /** When documents without a Date watermark were last looked for (by the real clock: `now` may be a test's). */
  let checkedAt: number | undefined;

  return {
    kind: 'mongo-watermark',
    async identity() {
      return `${(await resolveClient(options.db)).databaseName}.${collection}|${field}`;
    },
    async pull(from, max, signal): Promise<PulledBatch> {
      const db = await resolveClient(options.db);
      const checkpointMs = from.position === null ? undefined : Number(from.position.split('|')[0]);
      const seen = new Set((from.state as WatermarkState | undefined)?.seen ?? []);
      const upper = new Date(now() - lagMs);
      const filter: Record<string, unknown> = { [field]: { ...(checkpointMs === undefined ? {} : { $gte: new Date(checkpointMs - overlapMs) }), $lte: upper } };
      const limit = Math.min(max, batchSize);
      const docs = (await db
        .collection(collection)
        .find(filter, { sort: { [field]: 1, _id: 1 }, limit: limit + seen.size, ...RAW_DOCUMENTS, ...(signal ? { signal } : {}) })
        .toArray()) as Array<Record<string, unknown>>;
      const notices = checkedAt !== undefined && Date.now() - checkedAt < NOT_DATE_CHECK_EVERY_MS ? [] : await notDates(db, collection, field, signal);
      checkedAt = Date.now();
      const records: StreamRecord[] = [];
      for (const doc of docs) {
        const mark = doc[field];
        if (!(mark instanceof Date)) continue;
        const id = toEjson(doc._id);
        const line = toEjson(doc);
        const version = versionOf(id, mark.getTime(), line);
        if (seen.has(version)) continue;
        seen.add(version);
        const deleted = deletedField !== undefined && doc[deletedField] !== undefined && doc[deletedField] !== null;
        records.push({
          id: version,
          position: positionOf(mark.getTime(), id),
          time: mark.toISOString(),
          op: deleted ? 'delete' : 'upsert',
          namespace: collection,
          key: id,
          ...(deleted ? {} : { doc: line }),
        });
        if (records.length >= limit) break;
      }
      // Keep only versions still inside the next read's window.
      const newest = records.at(-1) ? Number(records.at(-1)!.position.split('|')[0]) : (checkpointMs ?? 0);
      const kept = [...seen].filter((v) => msOfVersion(v) >= newest - overlapMs);
      return { records, drained: records.length < limit, state: { seen: kept } satisfies WatermarkState, ...(notices.length > 0 ? { notices } : {}) };
    },
  };
}

/** How often a source looks for documents without a Date watermark (ms). */
const NOT_DATE_CHECK_EVERY_MS = 3_600_000;
/** Such documents are counted up to this many (a bounded count). */
const NOT_DATE_COUNT_CAP = 10_000;

/**
 * Documents of `collection` whose `field` is not a Date (a string, a number, null, missing):
 * the watermark filter never matches them, so they are never streamed. Counted (up to a cap)
 * with the first one's `_id`; never a value.
 */
async function notDates(db: MongoDbLike, collection: string, field: string, signal?: AbortSignal): Promise<StreamNotice[]> {
  const filter = { [field]: { $not: { $type: 'date' } } };
  const options = signal ? { signal } : {};
  const first = (await db.collection(collection).findOne(filter, { projection: { _id: 1 }, sort: { _id: 1 }, ...RAW_DOCUMENTS, ...options })) as { _id: unknown } | null;
  if (first === null) return [];
  const count = (await db.collection(collection).countDocuments(filter, { limit: NOT_DATE_COUNT_CAP, ...options })) as number;
  return [{
    code: 'WATERMARK_NOT_DATE',
    count,
    ...(count >= NOT_DATE_COUNT_CAP ? { countCapped: true } : {}),
    key: toEjson(first._id),
    message: `documents of collection ${collection} whose ${field} is not a Date (a string, a number, null or missing) are not streamed: set ${field} to a Date on every write`,
  }];
}
