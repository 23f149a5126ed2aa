/**
 * The MongoDB embedded outbox: events live in the `_outbox` array of their aggregate's own
 * document (see `capture/mongo-embedded.ts`); the relay's view is in
 * `mongo-embedded-relay.ts`. Collections:
 *
 *   <collection>                  the aggregates, each with its `_outbox*` fields
 *   <collection>_outbox           relay bookkeeping per aggregate: the head's attempts, a quarantine
 *   <collection>_outbox_pending   FerretDB only: `{ _id, p }` per document with pending events, so
 *                                 a sweep reads the pending documents, not the whole collection
 */
import { checkKnownKeys, intOption, invalidOption, isRecord, keysOf, mongoCollectionOption, msOption, oneOfOption, stringOption } from '@steadyfn/handler/internal';
import type { EmbeddedLimits, PendingRegistry, WriteSerialisation } from '../capture/mongo-embedded.js';
import type { RelayLease, RelayStore } from '../relay/types.js';
import { embeddedRelayStore } from './mongo-embedded-relay.js';
import { AGGREGATE_TYPE } from '../envelope.js';
import { dbGetter, FIELDS, isFerretDB, type CollectionLike, type DbOption } from './mongo-shapes.js';

/** Options of `mongoEmbeddedOutbox`. */
export interface MongoEmbeddedOutboxOptions {
  /** The database (a driver `Db`) or a getter. */
  db: DbOption;
  /**
   * The collection of the aggregates; each document's `_id` (a string) is its aggregate id.
   * A MongoDB collection name under the server's rule — non-empty, no `$` or NUL, not starting
   * with `.`, not `system.*` (`orders.` and `a..b` are taken); another is refused
   * (`CONFIG_INVALID`, field `collection`).
   */
  collection: string;
  /** The aggregate type of every document (and every event) of this collection: 1-64 characters of A-Z a-z 0-9 . _ -. */
  aggregateType: string;
  /** Most events pending in one document. @default 1000 */
  maxPendingEvents?: number;
  /**
   * Most bytes of pending events in one document, as MongoDB stores them: their BSON size
   * (`BSON.calculateObjectSize` of the driver's `bson`: the envelope's UTF-8 bytes and every
   * field beside it). The rest of the document must stay under 16 MiB minus this.
   * @default 4194304 (4 MiB)
   */
  maxPendingBytes?: number;
  /**
   * Request keys remembered per document for exactly-once updates (the oldest is dropped when a
   * write adds one more). A retry whose key was dropped — more than this many later writes to the
   * same document came first — is applied again. The keys of updates that matched nothing are
   * kept in a list of their own, bounded the same (`_outboxMissed`). @default 100
   */
  maxAppliedKeys?: number;
  /**
   * Largest answer, in bytes, kept beside an applied request key when an idempotency plugin
   * holds the request (a retry replays it); larger answers are not kept (the retry runs the
   * function again, writing nothing twice). At most `maxAppliedKeys` answers per document.
   * @default 16384
   */
  maxAnswerBytes?: number;
  /**
   * How concurrent writers of one document are kept apart. `'server'`: the server's
   * filtered update is atomic (MongoDB). `'lease'`: each writer takes `writeLease` first
   * (FerretDB, whose filtered updates are not atomic). `'auto'` (default): `'lease'` on
   * FerretDB (found with `buildInfo`), `'server'` otherwise.
   */
  atomicity?: 'auto' | 'server' | 'lease';
  /** A `@steadyfn/lease` store on this server; needed for `'lease'`. */
  writeLease?: RelayLease;
  /** The write lease's length. @default 10000 */
  writeLeaseMs?: number;
  /**
   * How long a writer waits for the write lease before a retryable 503, in milliseconds. The
   * relay's marks wait for it too, so `outbox()` refuses a `relay.leaseMs` below twice this
   * (`CONFIG_INVALID`, field `relay.leaseMs`) where writers take the write lease: with
   * `atomicity: 'lease'` when `outbox()` is called; with `'auto'` once the server is known
   * (FerretDB), at the first `ctx.outbox.updateOne` or relay entry point, before anything is
   * written or sent — on MongoDB, where writers never wait, such a lease is fine.
   * @default 2000
   */
  writeWaitMs?: number;
}

/** The embedded outbox store. */
export interface MongoEmbeddedOutboxStore {
  readonly mode: 'mongo-embedded';
  readonly aggregateType: string;
  readonly limits: EmbeddedLimits;
  /**
   * How long a write — a relay round's marks included — may wait for another writer's write
   * lease, in milliseconds: `writeWaitMs` where writers may take one (`atomicity` `'lease'`, or
   * `'auto'` with a `writeLease`: FerretDB), `undefined` where they never wait (`'server'`, or no
   * `writeLease`). `outbox()` checks `relay.leaseMs` against it.
   */
  readonly writeWaitMs: number | undefined;
  /**
   * The `atomicity` option: with `'auto'` whether writers take the write lease is known only
   * once `serialisation()` has asked the server (FerretDB: they do; MongoDB: they never do).
   */
  readonly atomicity: 'auto' | 'server' | 'lease';
  collection(): Promise<CollectionLike>;
  /** How writers are serialised on this server (decided on first use). */
  serialisation(): Promise<WriteSerialisation>;
  /** Where writes register pending documents (FerretDB: `<collection>_outbox_pending`); undefined where the index serves the sweeper. */
  registry(): Promise<PendingRegistry | undefined>;
  readonly relay: RelayStore;
  /** Creates the `_outboxPendingSince` index (sparse) the sweeper reads by (and the registry's index). Run once at deploy time. */
  ensureIndexes(): Promise<void>;
}

const OWNER = 'mongoEmbeddedOutbox';
const OPTION_KEYS = keysOf<MongoEmbeddedOutboxOptions>({
  db: true,
  collection: true,
  aggregateType: true,
  maxPendingEvents: true,
  maxPendingBytes: true,
  maxAppliedKeys: true,
  maxAnswerBytes: true,
  atomicity: true,
  writeLease: true,
  writeLeaseMs: true,
  writeWaitMs: true,
});

/**
 * The MongoDB embedded outbox.
 *
 * @throws ConfigurationError for invalid options or an unknown option key.
 * @example outbox({ events, store: mongoEmbeddedOutbox({ db, collection: 'orders', aggregateType: 'order', writeLease }), relay })
 */
export function mongoEmbeddedOutbox(options: MongoEmbeddedOutboxOptions): MongoEmbeddedOutboxStore {
  if (!isRecord(options)) invalidOption(OWNER, 'options', 'an object { db, collection, aggregateType }', options);
  checkKnownKeys(OWNER, '', options, OPTION_KEYS);
  const collectionName = mongoCollectionOption(OWNER, 'collection', options.collection);
  const aggregateType = stringOption(OWNER, 'aggregateType', options.aggregateType);
  // Checked here, not left to outbox(): there a bad name would be reported against the event declarations.
  if (!AGGREGATE_TYPE.test(aggregateType)) invalidOption(OWNER, 'aggregateType', 'an aggregate type name of 1-64 characters of A-Z a-z 0-9 . _ -', aggregateType);
  const limits: EmbeddedLimits = {
    maxPendingEvents: intOption(OWNER, 'maxPendingEvents', options.maxPendingEvents, 1000, 1, 100_000),
    maxPendingBytes: intOption(OWNER, 'maxPendingBytes', options.maxPendingBytes, 4 * 1024 * 1024, 1024, 12 * 1024 * 1024),
    maxAppliedKeys: intOption(OWNER, 'maxAppliedKeys', options.maxAppliedKeys, 100, 1, 10_000),
    maxAnswerBytes: intOption(OWNER, 'maxAnswerBytes', options.maxAnswerBytes, 16 * 1024, 0, 1024 * 1024),
  };
  const atomicity = oneOfOption(OWNER, 'atomicity', options.atomicity, ['auto', 'server', 'lease'] as const, 'auto');
  if (options.writeLease !== undefined && (typeof options.writeLease !== 'object' || typeof options.writeLease.claim !== 'function')) invalidOption(OWNER, 'writeLease', 'a @steadyfn/lease store', options.writeLease);
  const leaseMs = msOption(OWNER, 'writeLeaseMs', options.writeLeaseMs, 10_000, 100);
  const waitMs = msOption(OWNER, 'writeWaitMs', options.writeWaitMs, 2_000, 0);
  const getDb = dbGetter(OWNER, options.db);
  const collection = async (): Promise<CollectionLike> => (await getDb()).collection(collectionName);
  const side = async (): Promise<CollectionLike> => (await getDb()).collection(`${collectionName}_outbox`);
  let decided: Promise<WriteSerialisation> | undefined;
  const serialisation = (): Promise<WriteSerialisation> => {
    decided ??= (async () => {
      const mode = atomicity === 'auto' ? ((await isFerretDB(await getDb())) ? 'lease' : 'server') : atomicity;
      return { mode, lease: options.writeLease, leaseMs, waitMs };
    })();
    // A failed probe is tried again next time.
    decided.catch(() => (decided = undefined));
    return decided;
  };
  const registry = async (): Promise<PendingRegistry | undefined> => ((await serialisation()).mode === 'lease' ? { collection: (await getDb()).collection(`${collectionName}_outbox_pending`) } : undefined);
  const relay = embeddedRelayStore({ collectionName, aggregateType, collection, side, registry, serialisation });

  return {
    mode: 'mongo-embedded',
    aggregateType,
    limits,
    writeWaitMs: atomicity === 'server' || options.writeLease === undefined ? undefined : waitMs,
    atomicity,
    collection,
    serialisation,
    registry,
    relay,
    async ensureIndexes() {
      await (await collection()).createIndex({ [FIELDS.pendingSince]: 1 }, { sparse: true, name: 'steadyfn_outbox_pendingSince' });
      await (await getDb()).collection(`${collectionName}_outbox_pending`).createIndex({ p: 1 }, { name: 'steadyfn_outbox_pending' });
    },
  };
}
