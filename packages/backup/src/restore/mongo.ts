/**
 * MongoDB restore target: idempotent upserts by `_id` (`replaceOne … upsert`, unordered bulk
 * writes) in batches within the server's `maxWriteBatchSize` and message size, collection
 * options first, indexes after the data, the backup's views once every collection is written
 * (mongo-views.ts). On FerretDB, documents it cannot store and metadata
 * it does not support (TTL indexes, validators) are refused before anything is written, and so
 * are existing indexes of the target that clash with the backup's (`IndexConflictError`).
 */
import { EJSON } from 'bson';
import { checkKnownKeys, intOption, invalidOption, keysOf, oneOfOption } from '@steadyfn/handler/internal';
import { IndexBuildError, RestoreApplyError, RestoreUnsupportedError, describeError } from '../errors.js';
import { ferretdbProblem, parseDocument } from '../format/records.js';
import { RAW_DOCUMENTS, mongoEngine, toEjson, type MongoDbLike } from '../sources/mongo.js';
import { resolveClient, type ClientInput } from '../sources/types.js';
import type { ChangeToApply, RestoreTarget } from './targets.js';
import { FERRETDB_UNKEPT_OPTIONS } from './mongo-indexes.js';
import { mongoTargetReads } from './mongo-reads.js';
import type { Manifest, ManifestDataset } from '../format/manifest.js';
import { RESTORE_LOCK_COLLECTION, RESTORE_MARKER_COLLECTION, mongoLockPlace } from './lock-places.js';
import { duplicateKeyBuild, noneRefused, writeBatch, writeRefused } from './mongo-writes.js';
import { SCRATCH_MARKER_COLLECTION, clearScratch, dropCollection, readScratchMarker, writeScratchMarker } from './mongo-scratch.js';
import { distinctTargetNames } from './mongo-names.js';
import { ferretViewProblems, recreateViews, viewNames } from './mongo-views.js';

/** Options of `mongoTarget()`. */
export interface MongoTargetOptions {
  /** The database to restore into (a `Db` or a function giving one). */
  db: ClientInput<MongoDbLike>;
  /**
   * Maps a backed-up collection name to the target's, one to one: a mapping of two collections (or
   * streamed namespaces) to one is refused with `ConfigurationError` on `collectionName` before
   * they are written (it would merge them). @default the same name
   */
  collectionName?: (name: string) => string;
  /** Documents per bulk write (capped by the server's `maxWriteBatchSize`). @default 1000 */
  batchSize?: number;
  /**
   * What to do with metadata the target does not support (FerretDB: TTL indexes, validators, views):
   * `refuse` the restore, or `skip` it with a warning. Documents it cannot store are always refused.
   * @default 'refuse'
   */
  unsupportedMetadata?: 'refuse' | 'skip';
}

const MAX_BATCH_BYTES = 8 * 1024 * 1024;

/**
 * A MongoDB (or FerretDB) restore target. The backup's views (`mongoSource`'s saved definitions)
 * are created once every collection is written (`createCollection(name, { viewOn, pipeline,
 * collation })`, `collectionName` mapping the view and `viewOn`; a view or collection already
 * there under the name is left as it is); a drill drops them with its collections.
 *
 * @example
 * await restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db: client.db('shop') }) });
 * @throws {ConfigurationError} a missing `db` or an option out of range
 */
export function mongoTarget(options: MongoTargetOptions): RestoreTarget {
  checkKnownKeys('mongoTarget', '', options, keysOf<MongoTargetOptions>({ db: true, collectionName: true, batchSize: true, unsupportedMetadata: true }));
  if (options === null || typeof options !== 'object' || !options.db) invalidOption('mongoTarget', 'db', 'a mongodb Db or a function giving one', options?.db);
  if (options.collectionName !== undefined && typeof options.collectionName !== 'function') invalidOption('mongoTarget', 'collectionName', 'a function (backed-up name) => target name', options.collectionName);
  const rename = options.collectionName ?? ((name: string) => name);
  // Two collections mapped to one are refused (mongo-names.ts); the default mapping cannot do it.
  const distinct = options.collectionName === undefined ? () => undefined : distinctTargetNames(rename);
  const batchSize = intOption('mongoTarget', 'batchSize', options.batchSize, 1000, 1, 100_000);
  const unsupported = oneOfOption('mongoTarget', 'unsupportedMetadata', options.unsupportedMetadata, ['refuse', 'skip'] as const, 'refuse');
  let ferret = false;
  let maxBatch = batchSize;
  const skipped = new Set<string>();

  // A drill's marker (mongo-scratch.ts) that a backup made by an earlier version holds as a
  // dataset: steadyfn's bookkeeping, never restored (counted, with a warning). Written into a
  // drill's scratch it would replace that drill's own marker; into a database, name it a scratch.
  const bookkeeping = (dataset: ManifestDataset): boolean => dataset.name === SCRATCH_MARKER_COLLECTION;

  const { collectionFor, existingIndexes, heldDocuments, checkIndexes: checkIndexesOn } = mongoTargetReads(options.db, rename);
  const checkIndexes = (manifest: Manifest, signal?: AbortSignal): Promise<void> => checkIndexesOn(manifest, ferret, signal);

  return {
    kind: 'mongodb',

    async heldData(names, signal) {
      const held: Array<{ where: string; count: string }> = [];
      for (const name of new Set(names)) {
        if (name === SCRATCH_MARKER_COLLECTION) continue;
        const count = await heldDocuments(name, signal);
        if (count) held.push({ where: `collection ${rename(name)}`, count });
      }
      return held;
    },

    async prepare(manifest, signal) {
      if (manifest.source.kind !== 'mongodb') throw new RestoreUnsupportedError(`backup ${manifest.backupId} is a ${manifest.source.kind} backup; this target is MongoDB`);
      distinct([...manifest.datasets.filter((d) => !bookkeeping(d)).map((d) => d.name), ...(manifest.views ?? []).map((v) => v.name)]);
      const db = await resolveClient(options.db);
      ferret = (await mongoEngine(db, signal)).engine === 'ferretdb';
      const hello = (await db.command({ hello: 1 }, signal ? { signal } : undefined)) as { maxWriteBatchSize?: number };
      maxBatch = Math.min(batchSize, hello.maxWriteBatchSize ?? 100_000);
      // The restore lock's own collections (lock-places.ts) are never written by a restore.
      const reserved = manifest.datasets.filter((d) => [RESTORE_LOCK_COLLECTION, RESTORE_MARKER_COLLECTION].includes(rename(d.name)));
      if (reserved.length > 0) {
        throw new RestoreUnsupportedError(
          `backup ${manifest.backupId} would restore into the target's restore-lock collections; nothing was written (map them elsewhere with collectionName)`,
          reserved.map((d) => ({ key: d.name, message: `restores into ${rename(d.name)}` })),
        );
      }
      // Fails fast here; checked again under the restore's lock (`checkLocked`), where no other restore can add an index.
      await checkIndexes(manifest, signal);
      const warnings: string[] = [];
      // A restore merges into what is there: say which restored collections were not empty
      // (whether empty is exact; the count is estimated: collection metadata, no scan).
      for (const dataset of manifest.datasets) {
        if (bookkeeping(dataset)) {
          warnings.push(`dataset ${dataset.name} (a drill's marker an earlier version backed up) skipped: its ${dataset.count} record(s) are counted, not written`);
          continue;
        }
        const held = await heldDocuments(dataset.name, signal);
        if (held) warnings.push(`collection ${rename(dataset.name)} already held ${held} before the restore: documents the backup has are replaced by _id, the others are kept`);
      }
      if (!ferret) return { warnings };
      const problems: Array<{ key: string; message: string }> = [];
      for (const dataset of manifest.datasets) {
        for (const index of dataset.indexes ?? []) {
          if (index.options.expireAfterSeconds !== undefined) problems.push({ key: dataset.name, message: `TTL index ${index.name} (FerretDB has no TTL indexes)` });
        }
        if (dataset.options?.validator !== undefined) problems.push({ key: dataset.name, message: 'collection validator (FerretDB 1.x does not support validators)' });
      }
      problems.push(...ferretViewProblems(manifest));
      if (problems.length > 0 && unsupported === 'refuse') {
        throw new RestoreUnsupportedError('the target (FerretDB) does not support metadata in this backup; pass unsupportedMetadata: "skip" to restore without it', problems);
      }
      for (const p of problems) {
        skipped.add(`${p.key}\u0000${p.message}`);
        warnings.push(`skipped on FerretDB: ${p.key}: ${p.message}`);
      }
      return { warnings };
    },

    checkLocked: (manifest, signal) => checkIndexes(manifest, signal),

    async finishAll(manifest, signal) {
      // FerretDB cannot create views: prepare refused them, or skipped them with a warning.
      if (ferret || !manifest.views?.length) return;
      await recreateViews(await resolveClient(options.db), manifest.views, rename, signal);
    },

    skips(dataset) {
      return bookkeeping(dataset);
    },

    check(dataset, line) {
      // A streamed change's namespace (a snapshot's collections were checked by prepare).
      if (!bookkeeping(dataset)) distinct([dataset.name]);
      if (!ferret) return undefined;
      return ferretdbProblem(parseDocument(line));
    },

    async apply(dataset, lines, signal) {
      if (bookkeeping(dataset)) {
        let counted = 0;
        for await (const _line of lines) counted++;
        return counted;
      }
      const collection = await collectionFor(dataset.name);
      const db = await resolveClient(options.db);
      const createOptions = EJSON.parse(JSON.stringify(dataset.options ?? {}), { relaxed: false }) as Record<string, unknown>;
      if (ferret) delete createOptions.validator;
      // Created here even without options: an empty collection (no documents, no secondary index)
      // is part of the backup, and nothing else below would create it.
      const exists = (await db.listCollections({ name: rename(dataset.name) }, { nameOnly: true }).toArray()).length > 0;
      if (!exists) {
        await (db as unknown as { createCollection(n: string, o: unknown): Promise<unknown> }).createCollection(rename(dataset.name), createOptions).catch((error: unknown) => {
          // Created by someone else in between (NamespaceExists): the restore goes on, as it would have.
          if ((error as { code?: unknown }).code !== 48) throw error;
        });
      }
      let ops: Array<Record<string, unknown>> = [];
      let bytes = 0;
      let applied = 0;
      let writing: Promise<void> | undefined;
      const refused = noneRefused();
      const flush = async (): Promise<void> => {
        const batch = ops;
        ops = [];
        bytes = 0;
        await writing;
        // A restore under a deadline stops between batches: whole batches of the verified backup are
        // in the target but for the documents in `refused` (deleted, not yet written again: the
        // restore is incomplete and its marker stays), and running it again (idempotent) completes it.
        signal?.throwIfAborted();
        writing = writeBatch(collection, batch, refused);
        // Handled here so a failure while the next records are read (a part downloading) is not an
        // unhandled rejection, which ends the process; the next flush (or the end) awaits it and throws.
        writing.catch(() => undefined);
      };
      for await (const line of lines) {
        const doc = parseDocument(line);
        ops.push(doc);
        bytes += line.length;
        applied++;
        if (ops.length >= maxBatch || bytes >= MAX_BATCH_BYTES) await flush();
      }
      if (ops.length > 0) await flush();
      await writing;
      // After the last batch: a value a refused document met may have moved with a later batch.
      signal?.throwIfAborted();
      await writeRefused(collection, refused);
      return applied;
    },

    async finish(dataset: ManifestDataset, signal?: AbortSignal) {
      if (bookkeeping(dataset)) return;
      const collection = await collectionFor(dataset.name);
      for (const index of dataset.indexes ?? []) {
        signal?.throwIfAborted();
        const indexOptions = EJSON.parse(JSON.stringify(index.options), { relaxed: false }) as Record<string, unknown>;
        if (ferret && indexOptions.expireAfterSeconds !== undefined) continue;
        const key = EJSON.parse(JSON.stringify(index.key), { relaxed: false }) as Record<string, unknown>;
        try {
          await collection.createIndex(key, { ...indexOptions, name: index.name });
        } catch (error) {
          if (indexOptions.unique === true && duplicateKeyBuild(error)) {
            throw new IndexBuildError(
              `unique index ${index.name} on ${rename(dataset.name)} cannot be built: the collection holds documents with the same ${Object.keys(key).join(', ')} (documents the backup does not have were in the target before the restore). The data was written; remove the clashing documents or restore into an empty collection, then restore again`,
              [{ key: rename(dataset.name), message: `unique index ${index.name}` }],
              error,
            );
          }
          throw new RestoreApplyError(`creating index ${index.name} on ${rename(dataset.name)} failed (${describeError(error)})`, error);
        }
      }
    },

    async applyChanges(changes: ChangeToApply[], signal?: AbortSignal) {
      // Only the last change of each document in the batch decides its state: per collection,
      // delete every document the batch touches, then insert the ones whose last change is an upsert.
      const last = new Map<string, ChangeToApply>();
      for (const change of changes) {
        const key = `${change.namespace}\u0000${change.id}`;
        last.delete(key);
        last.set(key, change);
      }
      const byCollection = new Map<string, ChangeToApply[]>();
      for (const change of last.values()) byCollection.set(change.namespace, [...(byCollection.get(change.namespace) ?? []), change]);
      distinct(byCollection.keys());
      for (const [name, list] of byCollection) {
        const collection = await collectionFor(name);
        const refused = noneRefused();
        for (let i = 0; i < list.length; i += maxBatch) {
          signal?.throwIfAborted();
          const slice = list.slice(i, i + maxBatch);
          try {
            await collection.deleteMany({ _id: { $in: slice.map((c) => EJSON.parse(c.id, { relaxed: false })) } });
          } catch (error) {
            throw new RestoreApplyError(`applying streamed changes to ${rename(name)} failed (${describeError(error)})`, error);
          }
          const docs = slice.filter((c) => c.op === 'upsert').map((c) => ({ ...parseDocument(c.doc!), _id: EJSON.parse(c.id, { relaxed: false }) }));
          if (docs.length > 0) await writeBatch(collection, docs, refused);
        }
        // Per call (one replay batch, up to 2,000 records): a unique value that moved between a
        // snapshot document and a streamed one, or between two calls, is not retried across them.
        signal?.throwIfAborted();
        await writeRefused(collection, refused);
      }
    },

    async *readBack(dataset, signal) {
      if (bookkeeping(dataset)) return;
      const collection = await collectionFor(dataset.name);
      for await (const doc of collection.find({}, { batchSize: 1000, ...RAW_DOCUMENTS, ...(signal ? { signal } : {}) }) as AsyncIterable<unknown>) yield toEjson(doc);
    },

    async readIndexes(dataset, signal) {
      const indexes = (await existingIndexes(dataset.name, signal)).filter((i) => i.name !== '_id_');
      const skippedTtl = ferret && unsupported === 'skip' ? (dataset.indexes ?? []).filter((i) => i.options.expireAfterSeconds !== undefined).map((i) => i.name) : [];
      return { indexes, unkeptOptions: ferret ? FERRETDB_UNKEPT_OPTIONS : [], skipped: skippedTtl };
    },

    async drop(manifest, signal) {
      const db = await resolveClient(options.db);
      // A collection that is not there is fine; any other failure is the drill's to report.
      for (const dataset of manifest.datasets) if (!bookkeeping(dataset)) await dropCollection(db, rename(dataset.name), signal);
      for (const name of viewNames(manifest, rename)) await dropCollection(db, name, signal);
      await dropCollection(db, SCRATCH_MARKER_COLLECTION, signal);
    },

    lock: mongoLockPlace(() => resolveClient(options.db)),

    scratchCollections: (manifest) => [...manifest.datasets.filter((d) => !bookkeeping(d)).map((d) => rename(d.name)), ...viewNames(manifest, rename)],
    markScratch: async (marker) => writeScratchMarker(await resolveClient(options.db), marker),
    readScratchMarker: async () => readScratchMarker(await resolveClient(options.db)),
    clearScratch: async (marker, signal) => clearScratch(await resolveClient(options.db), marker, signal),
  };
}
