/** Where the newest snapshot is kept: the newest document of a MongoDB collection (an S3 object: `s3-snapshot.ts`, in the `@steadyfn/state/s3` entry). */
import { checkKnownKeys, keysOf } from '@steadyfn/handler/internal';
import { SourceError } from '../errors.js';
import type { MongoTarget, MongoVersionDocument } from '../sources/mongo.js';
import { checkTarget, checkVersionDocument, readVersion } from '../sources/mongo.js';
import { mongoClientOption, optionalString, recordOption } from '../options.js';
import { abortReason, getPath, resolveClient, sameVersion } from '../util.js';
import type { Snapshot, SnapshotStore } from './types.js';

type Doc = Record<string, any>;

/**
 * An internal method of `s3Snapshot`'s and `mongoSnapshot`'s stores (a registered symbol, not
 * part of `SnapshotStore`): the snapshot unless it is still the one read with `tag`
 * (`'unchanged'`: s3, a conditional GET, no body; mongo, the newest document's `_id` and position
 * alone), with the tag to ask with next time (`undefined`: none, the next call reads in full).
 * `hydrate` asks it where it would read the same snapshot again and again (the snapshot's own
 * event archived, nothing appended), and only with a tag got at the position it applied last:
 * 'unchanged' must mean "the newest snapshot is still at that position".
 */
export const SNAPSHOT_IF_CHANGED = Symbol.for('@steadyfn/state.snapshotIfChanged');

/** The signature of the `SNAPSHOT_IF_CHANGED` method. */
export type SnapshotIfChanged<S, P> = (tag: unknown, signal: AbortSignal) => Promise<{ snapshot: Snapshot<S, P> | undefined; tag: unknown } | 'unchanged'>;

/** Options of `mongoSnapshot()`: the collection (`client`, `db`, `collection`) and its fields. */
export interface MongoSnapshotOptions extends MongoTarget {
  /** Only these snapshots (e.g. `{ stream: 'cart-42' }`). */
  filter?: Doc;
  /** Field holding the position of the last event the snapshot includes. Default `position`. */
  positionField?: string;
  /**
   * Field that orders snapshots; the highest is the newest. Default: `positionField`. Give
   * another (a number) when positions do not sort as stored values, e.g. Redis stream ids
   * held as strings (`…-9` sorts after `…-10`).
   */
  orderField?: string;
  /** Default `state`. */
  stateField?: string;
  /**
   * Opt-in, for stores where finding the newest snapshot reads every document (FerretDB 1.x
   * sorts in memory after a scan; MongoDB without an index on `orderField`): a document whose
   * `field` every writer of snapshots bumps (`$inc`) AFTER each insert, update or delete of a
   * snapshot this store reads. With it, a quiet revalidation (the snapshot's own event archived,
   * nothing appended) reads that field alone — a `filter` of `{ _id: … }` alone is one lookup on
   * FerretDB too — and the snapshots only when it changed. The version is read before the
   * snapshot, so a write between the two costs one more read later, never a missed change. A
   * writer that does not bump it leaves its snapshot unseen by warm instances until the next bump
   * (a cold start reads it). While the document (or its field) is not there, the newest document's
   * `_id` and position are checked as without this option. Bump with `$inc` (upsert): a
   * timestamp can repeat (two writes in one millisecond, a writer's clock behind), and a version
   * document deleted or reset can hand an old value back — never delete or reset it. Kept in
   * `collection` by default: there the snapshot reads leave out the documents its `filter`
   * matches (whatever the snapshots' `filter`).
   * @default none (off: the quiet check reads the newest document's `_id` and position)
   * @example { filter: { _id: 'snapshots:cart-42' }, field: 'version' }
   */
  versionDocument?: MongoVersionDocument;
}

const MONGO_SNAPSHOT_KEYS = keysOf<MongoSnapshotOptions>({ client: true, db: true, collection: true, filter: true, positionField: true, orderField: true, stateField: true, versionDocument: true });

/**
 * What identifies the snapshot read for `mongoSnapshot`'s quiet check: its `_id` and position, or
 * the `versionDocument`'s version read before it (when there was one).
 */
type MongoSnapshotTag = { id: unknown; position: unknown } | { version: unknown };

/**
 * The newest snapshot document (highest `orderField`) of a MongoDB collection. None means replay from the start.
 *
 * Where `hydrate` reads the snapshot again and again (its own event archived, nothing appended), a
 * snapshot already confirmed at the position applied last is asked for its `_id` and position
 * alone (a projection, no state): while the newest document is still that one at that position,
 * nothing more is read. Any other answer — another document newest (one inserted, the newest
 * deleted), its position changed (an update), none left — reads the newest document in full.
 * A document rewritten in place at the same position (same `_id`) is not read again: `hydrate`
 * keeps the state it holds at that position either way (a snapshot at a position is the state
 * after that event, as the cached state is). Give `orderField` unique values (an index on it
 * makes both reads one index step on MongoDB): between equal values the store picks either.
 * FerretDB 1.x scans and sorts the collection for either read (only an `_id` equality is looked
 * up); there, opt in to `versionDocument` to make the quiet check one lookup.
 * @throws ConfigurationError (`CONFIG_INVALID`) naming the option: a `client` that is not a MongoClient,
 *   an empty `collection` or field name, a `filter` that is not an object, a `versionDocument`
 *   with an unknown key, without `filter` or with an empty one (`{}`), with an empty `field`/`collection`.
 * @example
 * mongoSnapshot<Cart, number>({ client, collection: 'snapshots', filter: { stream: 'cart-42' }, versionDocument: { filter: { _id: 'version:cart-42' }, field: 'v' } });
 */
export function mongoSnapshot<S, P = number>(options: MongoSnapshotOptions): SnapshotStore<S, P> {
  checkKnownKeys('mongoSnapshot', '', options, MONGO_SNAPSHOT_KEYS);
  checkTarget('mongoSnapshot', options);
  const version = checkVersionDocument('mongoSnapshot', options.versionDocument);
  recordOption('mongoSnapshot', 'filter', options.filter, 'a MongoDB filter object');
  // In the snapshots' collection the version document is left out of the snapshot query itself
  // (`$nor` of its filter): a `filter` that also matches it (`{}`, or none) would read it as a
  // snapshot — the newest, when there is no other — where there is none yet.
  const query: Doc =
    version !== undefined && (version.collection ?? options.collection) === options.collection
      ? options.filter === undefined ? { $nor: [version.filter] } : { $and: [options.filter, { $nor: [version.filter] }] }
      : (options.filter ?? {});
  for (const field of ['positionField', 'stateField', 'orderField'] as const) optionalString('mongoSnapshot', field, options[field]);
  const positionField = options.positionField ?? 'position';
  const stateField = options.stateField ?? 'state';
  const orderField = options.orderField ?? positionField;
  const sort = { [orderField]: -1 };
  // `_id` and the position alone; `{ _id: 1, '_id.seq': 1 }` would be a path collision.
  const headProjection = positionField === '_id' || positionField.startsWith('_id.') ? { _id: 1 } : { _id: 1, [positionField]: 1 };

  const newest = async (projection: Doc | undefined, signal: AbortSignal): Promise<Doc | null> => {
    const client = await resolveClient(options.client, (c) => mongoClientOption('mongoSnapshot', c));
    if (signal.aborted) throw abortReason(signal);
    const collection = client.db(options.db).collection(options.collection);
    return collection.findOne(query, projection ? { sort, projection, signal } : { sort, signal });
  };
  const tagOf = (doc: Doc): { id: unknown; position: unknown } => ({ id: doc._id, position: getPath(doc, positionField) });
  const toSnapshot = (doc: Doc | null): Snapshot<S, P> | undefined => {
    if (doc === null) return undefined;
    const position = getPath(doc, positionField);
    if (position === undefined || position === null) throw new SourceError(`the newest snapshot has no ${positionField}`);
    return { position: position as P, state: getPath(doc, stateField) as S };
  };

  const ifChanged: SnapshotIfChanged<S, P> = async (tag, signal) => {
    const known = tag as MongoSnapshotTag | undefined;
    // The version first (before the snapshot): a write in between is seen by the next check.
    const current = version ? await readVersion('mongoSnapshot', options, version, signal) : null;
    if (current !== null && known !== undefined && 'version' in known && sameVersion(current, known.version)) return 'unchanged';
    if (current === null && known !== undefined && 'id' in known) {
      const head = await newest(headProjection, signal);
      // None left: nothing more to read (no tag: the next check reads in full).
      if (head === null) return { snapshot: undefined, tag: undefined };
      const now = tagOf(head);
      if (now.position !== undefined && now.position !== null && sameVersion(now.id, known.id) && sameVersion(now.position, known.position)) return 'unchanged';
    }
    const doc = await newest(undefined, signal);
    const next: MongoSnapshotTag | undefined = current !== null ? { version: current } : doc === null ? undefined : tagOf(doc);
    return { snapshot: toSnapshot(doc), tag: next };
  };
  const store: SnapshotStore<S, P> & { [SNAPSHOT_IF_CHANGED]: SnapshotIfChanged<S, P> } = {
    description: `snapshot mongodb ${options.collection}`,
    read: async (signal) => toSnapshot(await newest(undefined, signal)),
    [SNAPSHOT_IF_CHANGED]: ifChanged,
  };
  // Not enumerable: the store's keys stay those of SnapshotStore.
  Object.defineProperty(store, SNAPSHOT_IF_CHANGED, { enumerable: false });
  return store;
}
