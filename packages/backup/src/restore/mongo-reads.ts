/**
 * What a MongoDB restore target reads of its database before it writes (mongo.ts): a target
 * collection, its indexes, whether it holds documents, and whether its indexes clash with a
 * backup's. Reads only.
 */
import { IndexConflictError } from '../errors.js';
import type { Manifest } from '../format/manifest.js';
import type { MongoDbLike } from '../sources/mongo.js';
import { resolveClient, type ClientInput } from '../sources/types.js';
import { FERRETDB_UNKEPT_OPTIONS, fromListed, indexConflicts, type IndexDefinition } from './mongo-indexes.js';

/** The reads of a target on database `db`, its collections named by `rename` (backed-up name → target name). */
export function mongoTargetReads(db: ClientInput<MongoDbLike>, rename: (name: string) => string) {
  /** The target collection of backed-up collection `name` (a driver `Collection`). */
  async function collectionFor(name: string): Promise<any> {
    return (await resolveClient(db)).collection(rename(name));
  }

  /** The target collection's indexes (none when it does not exist). */
  async function existingIndexes(name: string, signal?: AbortSignal): Promise<IndexDefinition[]> {
    const found = await (await resolveClient(db)).listCollections({ name: rename(name) }, { nameOnly: true, ...(signal ? { signal } : {}) }).toArray();
    if (found.length === 0) return [];
    return ((await (await collectionFor(name)).indexes(signal ? { signal } : {})) as Array<Record<string, unknown>>).map(fromListed);
  }

  /**
   * What the target collection of backed-up collection `name` holds, said as `<n> document(s)`;
   * undefined when it holds none or does not exist. Whether it is empty is exact (one indexed
   * `findOne` of an `_id`); the count is the estimate (collection metadata, no scan), which can
   * be wrong (after an unclean shutdown, on a sharded cluster): `at least 1` when it says 0.
   */
  async function heldDocuments(name: string, signal?: AbortSignal): Promise<string | undefined> {
    const withSignal = signal ? { signal } : {};
    if ((await (await resolveClient(db)).listCollections({ name: rename(name) }, { nameOnly: true, ...withSignal }).toArray()).length === 0) return undefined;
    const collection = await collectionFor(name);
    if ((await collection.findOne({}, { projection: { _id: 1 }, ...withSignal })) === null) return undefined;
    const estimated = Number(await collection.estimatedDocumentCount(withSignal));
    return `${estimated > 0 ? estimated : 'at least 1'} document(s)`;
  }

  /**
   * Compares the target's indexes with `manifest`'s (on FerretDB, `ferret`, without the options it does not keep).
   * @throws {IndexConflictError} the target's indexes clash with the backup's (nothing was written)
   */
  async function checkIndexes(manifest: Manifest, ferret: boolean, signal?: AbortSignal): Promise<void> {
    const problems: Array<{ key: string; message: string }> = [];
    for (const dataset of manifest.datasets) {
      const conflicts = indexConflicts(await existingIndexes(dataset.name, signal), dataset.indexes ?? [], ferret ? FERRETDB_UNKEPT_OPTIONS : []);
      for (const c of conflicts) problems.push({ key: rename(dataset.name), message: c.message });
    }
    if (problems.length > 0) throw new IndexConflictError(`the target's indexes clash with backup ${manifest.backupId}'s; nothing was written`, problems);
  }

  return { collectionFor, existingIndexes, heldDocuments, checkIndexes };
}
