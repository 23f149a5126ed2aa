/**
 * A MongoDB restore target's writes of whole documents (mongo.ts): unordered bulk inserts whose
 * duplicate `_id`s are deleted and inserted again (`writeBatch`), and the documents a secondary
 * unique index refused, held and written again once after the collection's last batch
 * (`writeRefused`), failing with `IndexBuildError` naming the index when it still refuses them.
 * `collection` is the driver's `Collection`, typed as mongo.ts takes it.
 */
import { calculateObjectSize } from 'bson';
import { IndexBuildError, RestoreApplyError, describeError } from '../errors.js';

/**
 * At most this many documents a unique index refused are held per collection (or per
 * `applyChanges` call) to be written again after its last batch; one more fails the restore at
 * once with `IndexBuildError`. A target holding a copy of the data under other `_id`s refuses
 * every document: this bounds the memory and the round trips spent before it says so.
 */
const MAX_REFUSED_DOCS = 1000;
/** At most this many bytes (the refused documents' BSON size) held so; more fails the same way. */
const MAX_REFUSED_BYTES = 16 * 1024 * 1024;

/** Documents a unique index refused, held to be written again: their total BSON size and the driver errors' key patterns. */
export interface Refused {
  docs: Array<Record<string, unknown>>;
  bytes: number;
  errors: unknown[];
}

export const noneRefused = (): Refused => ({ docs: [], bytes: 0, errors: [] });

/**
 * Whether a failed index build is a unique index meeting duplicate values: MongoDB's
 * `DuplicateKey` (11000), or FerretDB's `InternalError` naming the UNIQUE constraint of its
 * backend (FerretDB 1.x on SQLite or PostgreSQL answers a failed unique build so).
 */
export function duplicateKeyBuild(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code === 11000 || code === 11001) return true;
  return code === 1 && typeof message === 'string' && /unique constraint|duplicate key/i.test(message);
}

/** The key pattern of the index a duplicate-key error names (MongoDB gives `keyPattern`; FerretDB does not). Never its `keyValue`. */
function keyPatternOf(error: unknown): Record<string, unknown> | undefined {
  const pattern = (error as { keyPattern?: unknown } | undefined)?.keyPattern;
  return pattern !== null && typeof pattern === 'object' ? (pattern as Record<string, unknown>) : undefined;
}

/** Whether an index key (as listed) is the key pattern of a duplicate-key error: the same fields in the same order. */
function sameKey(key: unknown, pattern: Record<string, unknown>): boolean {
  if (key === null || typeof key !== 'object') return false;
  const fields = Object.keys(key as Record<string, unknown>);
  return fields.join('\u0000') === Object.keys(pattern).join('\u0000') && fields.every((f) => String((key as Record<string, unknown>)[f]) === String(pattern[f]));
}

/** Indexes of the documents an unordered insert refused as duplicates; throws on any other error. */
async function insertNew(collection: any, docs: Array<Record<string, unknown>>): Promise<number[]> {
  try {
    await collection.insertMany(docs, { ordered: false });
    return [];
  } catch (error) {
    const writeErrors = (error as { writeErrors?: Array<{ index: number; code?: number }> | { index: number; code?: number } }).writeErrors;
    const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
    if (list.length === 0 || list.some((w) => w.code !== 11000)) {
      throw new RestoreApplyError(`writing to ${String(collection.collectionName)} failed (${describeError(error)})`, error);
    }
    return list.map((w) => w.index);
  }
}

/**
 * Inserts the batch unordered; documents that already exist (duplicate `_id`) are deleted
 * and inserted again. Idempotent like an upsert by `_id`, but two statements per batch
 * (FerretDB runs a bulk upsert as one slow statement per document). A document a secondary
 * unique index refuses is added to `refused`, to be written again after the collection's last
 * batch (`writeRefused`): the value may belong to a document of the backup that a later batch
 * moves to another value.
 * @throws {IndexBuildError} more than `MAX_REFUSED_DOCS` documents (or `MAX_REFUSED_BYTES`) refused so
 */
export async function writeBatch(collection: any, docs: Array<Record<string, unknown>>, refused: Refused): Promise<void> {
  const existing = (await insertNew(collection, docs)).map((i) => docs[i]!);
  if (existing.length === 0) return;
  try {
    await collection.deleteMany({ _id: { $in: existing.map((d) => d._id) } });
  } catch (error) {
    throw new RestoreApplyError(`writing to ${String(collection.collectionName)} failed (${describeError(error)})`, error);
  }
  // Written again by someone else in between, or refused by another unique key: replace it.
  for (const index of await insertNew(collection, existing)) {
    const doc = existing[index]!;
    const clash = await replaceDoc(collection, doc);
    if (clash === undefined) continue;
    refused.docs.push(doc);
    refused.bytes += calculateObjectSize(doc);
    refused.errors.push(clash);
    if (refused.docs.length > MAX_REFUSED_DOCS || refused.bytes > MAX_REFUSED_BYTES) {
      throw await uniqueClash(collection, refused.docs.length, refused.errors, true);
    }
  }
}

/**
 * Writes again, once, the documents a unique index refused while the collection's batches
 * were written (`writeBatch`).
 * @throws {IndexBuildError} a unique index still refuses one or more of them (not retryable)
 * @throws {RestoreApplyError} any other failure
 */
export async function writeRefused(collection: any, refused: Refused): Promise<void> {
  const clashes: unknown[] = [];
  for (const doc of refused.docs) {
    const clash = await replaceDoc(collection, doc);
    if (clash !== undefined) clashes.push(clash);
  }
  if (clashes.length > 0) throw await uniqueClash(collection, clashes.length, clashes);
}

/**
 * Upserts one document by `_id`. A duplicate key once may be an insert of the same `_id`
 * racing the upsert, and is retried; twice, it is a secondary unique index (named by the
 * error's `keyPattern` where the server gives one) that another document of the target holds
 * the same value of: resolves to that error. Where the collection has no secondary unique
 * index, a second duplicate is an `_id` race too (the indexes are listed only when the error has
 * no `keyPattern`: one other than `{ _id: 1 }` already proves a secondary unique index).
 * @returns undefined when written, or the duplicate-key error of a secondary unique index
 * @throws {RestoreApplyError} any other failure, or a second duplicate of `_id` (retryable)
 */
async function replaceDoc(collection: any, doc: Record<string, unknown>): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    try {
      await collection.replaceOne({ _id: doc._id }, doc, { upsert: true });
      return undefined;
    } catch (error) {
      if (!duplicateKeyBuild(error)) throw new RestoreApplyError(`writing to ${String(collection.collectionName)} failed (${describeError(error)})`, error);
      if (attempt < 1) continue;
      const pattern = keyPatternOf(error);
      const idOnly = pattern !== undefined && Object.keys(pattern).join() === '_id';
      if (idOnly || (pattern === undefined && (await uniqueIndexes(collection)).length === 0)) {
        throw new RestoreApplyError(`writing to ${String(collection.collectionName)} failed: a document's _id was written by someone else twice while the restore replaced it (${describeError(error)}); restore again`, error);
      }
      return error;
    }
  }
}

/** The target collection's unique indexes besides `_id_` (none when they cannot be listed). */
async function uniqueIndexes(collection: any): Promise<Array<{ name: string; key: unknown }>> {
  try {
    return ((await collection.indexes()) as Array<{ name?: unknown; key?: unknown; unique?: unknown }>)
      .filter((i) => i.unique === true && i.name !== '_id_')
      .map((i) => ({ name: String(i.name), key: i.key }));
  } catch {
    return [];
  }
}

/**
 * The typed error of `count` documents that a unique index of the target refuses: still after
 * the collection's other documents were written, or (`overflow`) more than the restore holds to
 * write again (`MAX_REFUSED_DOCS`, `MAX_REFUSED_BYTES`), thrown at once. Names the indexes the
 * errors' `keyPattern`s name (every one met), else every secondary unique index of the target
 * (FerretDB does not name the index). No value of a document is in it.
 */
async function uniqueClash(collection: any, count: number, errors: unknown[], overflow = false): Promise<IndexBuildError> {
  const name = String(collection.collectionName);
  const unique = await uniqueIndexes(collection);
  const patterns = errors.map(keyPatternOf).filter((p): p is Record<string, unknown> => p !== undefined);
  const named = unique.filter((i) => patterns.some((p) => sameKey(i.key, p)));
  const names = named.length > 0 ? named.map((i) => i.name) : [];
  const which =
    names.length === 1 ? `unique index ${names[0]}` : names.length > 1 ? `unique indexes ${names.join(', ')}` : unique.length > 0 ? `unique index ${unique.map((i) => i.name).join(' or ')}` : 'a unique index';
  const problems = names.length > 0 ? names.map((n) => ({ key: name, message: `unique index ${n}` })) : [{ key: name, message: which }];
  const message = overflow
    ? `writing to ${name} failed: ${which} refused at least ${count} documents of the backup (more than the ${MAX_REFUSED_DOCS} documents or ${MAX_REFUSED_BYTES / 1024 / 1024} MiB a restore holds to write again after the collection's last batch): other documents of the target hold the same values (most likely a copy of the data under other _ids). The restore stopped; the documents written so far stay. Remove the clashing documents or restore into an empty collection, then restore again`
    : `writing to ${name} failed: ${which} refuses ${count} document(s) of the backup, written again after every other document of the collection: other documents of the target hold the same values (most likely documents the backup does not have, kept by a restore into a non-empty collection). The rest of the data was written; remove the clashing documents or restore into an empty collection, then restore again`;
  return new IndexBuildError(message, problems, errors[0]);
}
