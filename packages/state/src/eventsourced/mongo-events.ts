/** Events in a MongoDB collection, ordered by a position field, read page by page. */
import { checkKnownKeys, keysOf } from '@steadyfn/handler/internal';
import { SourceError } from '../errors.js';
import { checkTarget, type MongoCollectionLike, type MongoTarget } from '../sources/mongo.js';
import { describePosition, kindOf, markGone, order, samePosition } from './positions.js';
import { functionOption, mongoClientOption, optionalString, recordOption } from '../options.js';
import { abortReason, getPath, resolveClient } from '../util.js';
import type { EventStore } from './types.js';

type Doc = Record<string, any>;

/** Options of `mongoEvents()`: the collection (`client`, `db`, `collection`) and how to read it. */
export interface MongoEventsOptions<E> extends MongoTarget {
  /** Only these events (e.g. `{ stream: 'cart-42' }`). */
  filter?: Doc;
  /** Field holding the position (a number or other ordered value, unique, increasing). Default `position`. Index it. */
  positionField?: string;
  /** Turns a stored document into an event. Default: the document. */
  map?: (doc: Doc) => E;
}

// Unknown keys are refused: a typo would leave the default in force without a word.
const EVENTS_KEYS = keysOf<MongoEventsOptions<unknown>>({ client: true, db: true, collection: true, filter: true, positionField: true, map: true });

/**
 * Events from a MongoDB collection (FerretDB included), in `positionField` order, `limit` per
 * round trip.
 * @throws ConfigurationError (`CONFIG_INVALID`) naming the option: a `client` that is not a MongoClient,
 *   an empty `collection` or `positionField`, a `filter` that is not an object, a `map` that is not a function.
 */
export function mongoEvents<E = Doc, P = number>(options: MongoEventsOptions<E>): EventStore<E, P> {
  checkKnownKeys('mongoEvents', '', options, EVENTS_KEYS);
  checkTarget('mongoEvents', options);
  recordOption('mongoEvents', 'filter', options.filter, 'a MongoDB filter object');
  optionalString('mongoEvents', 'positionField', options.positionField);
  functionOption('mongoEvents', 'map', options.map, 'a function (document) => event');
  const field = options.positionField ?? 'position';
  const filter = options.filter ?? {};
  const hasFilter = Object.keys(filter).length > 0;
  /**
   * Refuses a collection whose newest event is before `after`, or of another kind (a string
   * snapshot position over number positions: MongoDB compares within a type only, so `$gte` found
   * nothing) — written anew or restored from an older backup, or a snapshot of other events —
   * rather than reading no event until its positions pass `after`. Asked only when not even the
   * event at `after` is there (no round trip when nothing changed). Strings are not ordered here.
   * No event at all: a page marked gone (no events), which `hydrate` judges against the snapshot.
   */
  const checkNotBehind = async (collection: MongoCollectionLike, after: unknown, signal: AbortSignal): Promise<void> => {
    const newest: Doc | null = await collection.findOne(filter, { sort: { [field]: -1 }, projection: { _id: 0, [field]: 1 }, signal });
    // No event at all: hydrate tells an archive up to the snapshot from events lost.
    if (newest === null) return;
    const last = getPath(newest, field);
    if (last === undefined || last === null) return;
    const otherKind = kindOf(last) !== kindOf(after);
    if (!otherKind && order(last, after) !== -1) return;
    const newestAt = `position ${describePosition(last)}${otherKind ? ` (${kindOf(last)})` : ''}`;
    const afterAt = `position ${describePosition(after)}${otherKind ? ` (${kindOf(after)})` : ''}`;
    throw new SourceError(
      `the newest event is at ${newestAt}, ${otherKind ? 'of another kind than' : 'before'} ${afterAt} read after: the collection was written anew or restored from an older backup, or the snapshot is of other events; no event would be read until positions pass it`,
    );
  };
  return {
    description: `mongodb ${options.collection} events`,
    async readAfter(after, limit, signal) {
      const client = await resolveClient(options.client, (c) => mongoClientOption('mongoEvents', c));
      if (signal.aborted) throw abortReason(signal);
      const collection = client.db(options.db).collection(options.collection);
      // From the event at `after` itself (`$gte`), one more than the page: a second event at that
      // position — two writers that took the same next position, without a unique index — is
      // then seen, and refused by hydrate, rather than skipped by `$gt` at a page boundary.
      const range = after === undefined ? {} : { [field]: { $gte: after } };
      const query = hasFilter ? (after === undefined ? filter : { $and: [filter, range] }) : range;
      const docs: Doc[] = await collection.find(query, { sort: { [field]: 1 }, limit: after === undefined ? limit : limit + 1, signal }).toArray();
      // The event at `after` was applied already (or is the snapshot's): dropped once, before
      // `map` sees it. A second one stays first in the page, where hydrate finds it read again.
      const atAfter = after !== undefined && docs.length > 0 && samePosition(getPath(docs[0], field), after);
      const page = atAfter ? docs.slice(1) : docs;
      // Not even the event at `after` (applied, or the snapshot's): is the newest event before it?
      if (after !== undefined && docs.length === 0) await checkNotBehind(collection, after, signal);
      const events = page.slice(0, limit).map((doc) => ({ position: getPath(doc, field) as P, event: options.map ? options.map(doc) : (doc as E) }));
      // The event at `after` is gone (later ones there, or none): hydrate judges it against the snapshot.
      if (after !== undefined && !atAfter) return markGone(events);
      return events;
    },
  };
}

