/**
 * MongoDB-compatible snapshot source (MongoDB, FerretDB): each collection read in `_id` order
 * and written as canonical Extended JSON v2 (the `bson` package's EJSON, so types survive),
 * with its indexes (TTL included), options and validator from `listCollections`/`listIndexes`.
 * Views hold no documents: each one's definition is saved in the manifest's `views` and named in its warnings (mongo-views.ts).
 *
 * Resume is by `_id` range, never by keeping a cursor alive across invocations (idle cursors
 * time out after 10 minutes and FerretDB lacks `noCursorTimeout`). A range query only matches
 * within one BSON type, so a resume reads the rest of the last `_id`'s type by range and every
 * later type (in BSON sort order) by `$type`. `_id`s of types FerretDB has no `$type` alias for
 * (MinKey, MaxKey, symbol, JavaScript) are not reached by a resume: keep `_id`s to the common types.
 */
import { RESTORE_LOCK_COLLECTION, RESTORE_MARKER_COLLECTION } from '../restore/lock-places.js';
import { SCRATCH_MARKER_COLLECTION } from '../restore/mongo-scratch.js';
import { EJSON } from 'bson';
import { z } from 'zod';
import { BackupCorruptedError } from '../errors.js';
import { firstIssue } from '../format/stored.js';
import { checkKnownKeys, intOption, invalidOption, keysOf } from '@steadyfn/handler/internal';
import { sha256 } from '../format/content-hash.js';
import { readAhead } from './read-ahead.js';
import { fromListed } from '../restore/mongo-indexes.js';
import type { ClientInput, DatasetInfo, SnapshotRecord, SnapshotSource, SourceDescription } from './types.js';
import { resolveClient } from './types.js';
import { isView, refuseNamedViews, viewDefinition, viewWarning, type ListedCollection } from './mongo-views.js';

/** The part of a `mongodb` `Db` this source uses. */
export interface MongoDbLike {
  readonly databaseName: string;
  collection(name: string): any;
  command(command: Record<string, unknown>, options?: Record<string, unknown>): Promise<any>;
  listCollections(filter?: Record<string, unknown>, options?: Record<string, unknown>): { toArray(): Promise<any[]> };
}

/**
 * steadyfn's bookkeeping, never backed up by default: a restore target's own lock collections
 * (restore/lock-places.ts) and a drill's scratch marker (restore/mongo-scratch.ts; a drill's kept
 * scratch holds it with the restored data), as `redisSource` skips their Redis keys.
 */
const RESTORE_LOCK_NAMES = [RESTORE_LOCK_COLLECTION, RESTORE_MARKER_COLLECTION, SCRATCH_MARKER_COLLECTION];

/** Options of `mongoSource()`. */
export interface MongoSourceOptions {
  /** The database to back up: a `Db`, or a function giving one (e.g. `async () => (await store.get()).db`). */
  db: ClientInput<MongoDbLike>;
  /** Collections to back up (a non-empty list of distinct names; an empty one, or one naming a collection twice, is refused with `ConfigurationError`). A view is refused (`ConfigurationError` on `collections` saying it is a view: it holds no documents). @default every collection except `system.*`, views (each one's definition — `viewOn`, `pipeline`, `collation` — is saved in the manifest's `views` instead, and named by a `MONGODB_VIEW_DEFINITION_SAVED` line in the manifest's and the run's `warnings`), a restore target's own lock collections (`steadyfn_restore_lock`, `steadyfn_restore_marker`) and a drill's scratch marker (`steadyfn_drill_marker`) */
  collections?: string[];
  /** Documents per `find` batch. @default 1000 */
  batchSize?: number;
}

/** `_id` type brackets in BSON comparison order, by `$type` aliases FerretDB also knows. */
const BRACKETS = ['null', 'number', 'string', 'object', 'binData', 'objectId', 'bool', 'date', 'timestamp', 'regex'] as const;

const resumeSchema = z.object({
  /** Index into BRACKETS of the last `_id`'s type. */
  bracket: z.number().int().min(0).max(BRACKETS.length - 1),
  /** Canonical EJSON of the last `_id` written. */
  lastId: z.string(),
});
type MongoResume = z.infer<typeof resumeSchema>;

/**
 * The filter for the documents after a resume point: the rest of the last `_id`'s type by
 * range, and every later type.
 * @throws {BackupCorruptedError} a resume point this source did not write (a damaged checkpoint)
 */
function afterFilter(resume: unknown): Record<string, unknown> {
  const parsed = resumeSchema.safeParse(resume);
  let after: unknown;
  try {
    if (!parsed.success) throw new TypeError(firstIssue(parsed.error));
    after = EJSON.parse(parsed.data.lastId, { relaxed: false });
    if (bracketOf(after) !== parsed.data.bracket) throw new TypeError('the last _id is not of its type bracket');
  } catch (error) {
    throw new BackupCorruptedError("the checkpoint's resume point is not one this source wrote", [{ key: 'checkpoint', message: (error as Error).message }]);
  }
  const later = BRACKETS.slice(parsed.data!.bracket + 1);
  return { $or: [{ _id: { $gt: after } }, ...(later.length > 0 ? [{ _id: { $type: [...later] } }] : [])] };
}

/** Whether the server is FerretDB (its `buildInfo` carries `ferretdbVersion`). */
export async function mongoEngine(db: MongoDbLike, signal?: AbortSignal): Promise<{ engine: 'ferretdb' | 'mongodb'; version: string }> {
  const info = (await db.command({ buildInfo: 1 }, signal ? { signal } : undefined)) as { version?: string; ferretdbVersion?: string };
  return info.ferretdbVersion !== undefined ? { engine: 'ferretdb', version: `${info.version ?? 'unknown'} (FerretDB ${info.ferretdbVersion})` } : { engine: 'mongodb', version: info.version ?? 'unknown' };
}

/**
 * Cursor options that read documents as the server holds them. The driver's defaults turn
 * int32, int64 and double into JS numbers (a double `5.0` was then written as an int32, an int64
 * `7` too) and regular expressions into JS `RegExp`s (the `x`, `l` and `u` options lost, `s`
 * failing the read): every read whose documents are written out uses these.
 */
export const RAW_DOCUMENTS = { promoteValues: false, promoteLongs: false, bsonRegExp: true } as const;

/** Canonical Extended JSON v2 of a value (the manifest's and the segments' encoding). */
export function toEjson(value: unknown): string {
  return EJSON.stringify(value, { relaxed: false });
}

/**
 * Backs up MongoDB collections.
 *
 * A view holds no documents: with `collections` left out, each view's definition (`viewOn`,
 * `pipeline` with its keys in order, `collation`) is saved in the manifest's `views`, and
 * `mongoTarget` recreates it after the collections (not on FerretDB, which cannot create views).
 * Each view is named, with the collection it reads, in a warning line starting
 * `MONGODB_VIEW_DEFINITION_SAVED:` in the manifest's `warnings`, the complete run's `warnings`
 * (logged once as a code and a count), and every restore's and drill's `warnings` of the backup
 * (an earlier version's restore, which recreates no view, repeats it too).
 *
 * @example
 * const source = mongoSource({ db: async () => (await store.get()).db, collections: ['orders', 'customers'] });
 * @throws {ConfigurationError} `db` missing, `collections` not a non-empty list of distinct names, `batchSize` out of range;
 *   when a run starts, `collections` naming a collection the database does not have, or a view
 */
export function mongoSource(options: MongoSourceOptions): SnapshotSource {
  checkKnownKeys('mongoSource', '', options, keysOf<MongoSourceOptions>({ db: true, collections: true, batchSize: true }));
  if (options === null || typeof options !== 'object' || options.db === undefined || options.db === null) invalidOption('mongoSource', 'db', 'a mongodb Db or a function giving one', options?.db);
  // An empty list would make every run a complete backup of nothing, which retention then counts
  // among the kept verified backups: leave `collections` out to back up every collection.
  if (options.collections !== undefined && (!Array.isArray(options.collections) || options.collections.length === 0 || options.collections.some((c) => typeof c !== 'string' || c === ''))) {
    invalidOption('mongoSource', 'collections', 'a non-empty array of collection names (leave it out for every collection)', options.collections);
  }
  // Each collection is a dataset whose name keys its segments: one named twice would be read twice into the same objects.
  if (options.collections !== undefined && new Set(options.collections).size !== options.collections.length) invalidOption('mongoSource', 'collections', 'a list of distinct collection names', options.collections);
  const batchSize = intOption('mongoSource', 'batchSize', options.batchSize, 1000, 1, 100_000);

  return {
    kind: 'mongodb',

    async describe(signal) {
      const db = await resolveClient(options.db);
      const { engine, version } = await mongoEngine(db, signal);
      const listed = ((await db.listCollections({}, { nameOnly: false }).toArray()) as ListedCollection[]).filter((c) => !c.name.startsWith('system.') && !RESTORE_LOCK_NAMES.includes(c.name));
      // A view holds no documents: named in `collections`, refused as one; otherwise its definition is saved, said in the warnings (mongo-views.ts).
      const views = listed.filter(isView).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      refuseNamedViews(options.collections, views, db.databaseName);
      const byName = new Map(listed.filter((c) => !isView(c)).map((c) => [c.name, c]));
      const names = options.collections ?? [...byName.keys()].sort();
      // A typo (or a collection dropped since the job was written) is the job's configuration, not a
      // failure of the source to retry: refuse it naming the collection, before anything is written.
      const missing = names.filter((name) => !byName.has(name));
      if (missing.length > 0) invalidOption('mongoSource', 'collections', `names of collections database "${db.databaseName}" has (it has no ${missing.map((m) => JSON.stringify(m)).join(', ')})`, options.collections);
      const datasets: DatasetInfo[] = [];
      for (const name of names) {
        const indexes = ((await db.collection(name).indexes()) as Array<Record<string, unknown>>).filter((i) => i.name !== '_id_').map(fromListed);
        const info = byName.get(name);
        datasets.push({
          name,
          kind: 'mongodb-collection',
          encoding: 'ejson',
          options: JSON.parse(toEjson(info?.options ?? {})) as Record<string, unknown>,
          indexes,
        });
      }
      const description: SourceDescription = { kind: 'mongodb', engine, serverVersion: version, database: db.databaseName, datasets, warnings: [] };
      // Every view of the database, as every collection, when `collections` is left out.
      if (options.collections === undefined && views.length > 0) Object.assign(description, { warnings: views.map(viewWarning), views: views.map(viewDefinition) });
      return description;
    },

    async serverTime(signal) {
      const db = await resolveClient(options.db);
      const hello = (await db.command({ hello: 1 }, signal ? { signal } : undefined)) as { localTime?: Date };
      return hello.localTime instanceof Date ? hello.localTime.toISOString() : undefined;
    },

    read(dataset, resume, signal) {
      return readCollection(options.db, dataset.name, resume, batchSize, signal);
    },

    async owns(description) {
      return description.kind === 'mongodb' && description.database === (await resolveClient(options.db)).databaseName;
    },
  };
}

async function* readCollection(input: ClientInput<MongoDbLike>, name: string, resume: unknown, batchSize: number, signal?: AbortSignal): AsyncGenerator<SnapshotRecord> {
  const db = await resolveClient(input);
  const collection = db.collection(name);
  // From the start: one scan in _id order (BSON order across types). On resume: the rest of
  // the last _id's type bracket by range, and every later bracket, still in one scan (on
  // FerretDB each query is a full scan, so a query per bracket would cost one scan each).
  const filter = resume === undefined ? {} : afterFilter(resume);
  const cursor = collection.find(filter, { sort: { _id: 1 }, batchSize, ...RAW_DOCUMENTS, ...(signal ? { signal } : {}) });
  try {
    for await (const doc of readAhead(cursor as AsyncIterable<Record<string, unknown>>, 2 * batchSize)) {
      const line = toEjson(doc);
      const key = toEjson(doc._id);
      yield { key, line, digest: sha256(line), resume: { bracket: bracketOf(doc._id), lastId: key } satisfies MongoResume };
    }
  } finally {
    await cursor.close?.().catch?.(() => undefined);
  }
}

/** The type bracket of an `_id` (index into BRACKETS; rarer types sort with the last). */
function bracketOf(id: unknown): number {
  if (id === null || id === undefined) return 0;
  if (typeof id === 'number' || typeof id === 'bigint') return 1;
  if (typeof id === 'string') return 2;
  if (typeof id === 'boolean') return 6;
  if (id instanceof Date) return 7;
  if (id instanceof RegExp) return 9;
  switch ((id as { _bsontype?: string })._bsontype) {
    case 'Int32':
    case 'Double':
    case 'Long':
    case 'Decimal128':
      return 1;
    case 'Binary':
      return 4;
    case 'ObjectId':
      return 5;
    case 'Timestamp':
      return 8;
    case 'BSONRegExp':
      return 9;
    case undefined:
      return 3;
    default:
      return BRACKETS.length - 1;
  }
}
