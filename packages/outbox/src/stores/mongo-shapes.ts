/**
 * The MongoDB driver surface the outbox calls, structural so its types import no driver (a
 * `Db`, `Collection` and `ClientSession` from `mongodb` satisfy them), and the embedded
 * outbox's document fields.
 */
import { createHash } from 'node:crypto';
import { checkedGetter, clientOption, raceSignal, throwIfAborted } from '@steadyfn/handler/internal';

/** A collection, as the outbox uses it. */
export interface CollectionLike {
  readonly collectionName: string;
  findOne(filter: object, options?: object): Promise<any>;
  find(filter: object, options?: object): { sort(spec: object): any; limit(n: number): any; project(p: object): any; toArray(): Promise<any[]> };
  updateOne(filter: object, update: object, options?: object): Promise<{ matchedCount: number; modifiedCount: number; upsertedCount?: number; upsertedId?: unknown }>;
  insertMany(docs: object[], options?: object): Promise<unknown>;
  insertOne(doc: object, options?: object): Promise<unknown>;
  deleteOne(filter: object, options?: object): Promise<{ deletedCount: number }>;
  deleteMany(filter: object, options?: object): Promise<{ deletedCount: number }>;
  updateMany(filter: object, update: object, options?: object): Promise<{ matchedCount: number; modifiedCount: number }>;
  findOneAndUpdate(filter: object, update: object, options?: object): Promise<any>;
  createIndex(spec: object, options?: object): Promise<string>;
}

/** A database as the outbox receives it: a driver `Db` (structural, so no driver types are imported). */
export interface DbLike {
  collection(name: string): unknown;
  command(command: any, options?: any): Promise<any>;
}

/** A database, or a getter (e.g. from `@steadyfn/connections`). */
export type DbOption = DbLike | (() => DbLike | Promise<DbLike>);

/** The database with its collections typed as the outbox calls them. */
export interface Database {
  collection(name: string): CollectionLike;
  command(command: object, options?: object): Promise<any>;
}

/**
 * The database getter; refuses (ConfigurationError naming `db`) what is not a `Db` — nothing,
 * or the `MongoClient` given where its `client.db(name)` goes. A getter is checked at first use.
 */
export function dbGetter(owner: string, option: DbOption): () => Promise<Database> {
  clientOption(owner, 'db', option, ['collection', 'command'], 'a MongoDB Db (client.db(name))');
  return checkedGetter<Database>(owner, 'db', option, ['collection', 'command'], 'a MongoDB Db (client.db(name))');
}

/** The fields the embedded outbox keeps in the author's document. */
export const FIELDS = {
  /** Pending events: `{ i: id, s: seq, t: type, e: envelope JSON, c: committed at, p?: traceparent }`. */
  events: '_outbox',
  /** Last seq assigned. */
  seq: '_outboxSeq',
  /** How many events are pending. */
  count: '_outboxCount',
  /** Bytes of pending envelopes. */
  bytes: '_outboxBytes',
  /** When the oldest pending event was committed; absent when none is (indexed). */
  pendingSince: '_outboxPendingSince',
  /** The last request keys applied (bounded), for exactly-once updates. */
  applied: '_outboxApplied',
  /**
   * Answers of applied requests an idempotency plugin held: `{ <sha256(key), base64url>:
   * encoded answer }`, bounded with `applied` (an evicted key's answer goes with it). A key
   * that an earlier version recorded in `applied` as "matched nothing" holds {@link NOT_MATCHED}.
   */
  answers: '_outboxAnswers',
  /**
   * The last request keys whose update matched nothing (bounded by `maxAppliedKeys`, apart from
   * `applied` so that recording a miss never evicts an applied key): a redelivery's update
   * under one answers `matched: false` again.
   */
  missed: '_outboxMissed',
  /** Highest relay fencing token that marked events. */
  fence: '_outboxFence',
} as const;

/** The outbox's field names in a document (the values of {@link FIELDS}). */
export const OUTBOX_FIELDS: ReadonlyArray<string> = Object.values(FIELDS);

/**
 * Whether a field path is the outbox's: one of {@link FIELDS} exactly, or a path inside one
 * (`_outboxAnswers.x`, `_outbox.0`). Another field starting with `_outbox` (`_outboxedAt`) is
 * the author's.
 */
export function isOutboxField(path: string): boolean {
  return OUTBOX_FIELDS.some((name) => path === name || path.startsWith(`${name}.`));
}

/** One pending event in an embedded outbox array. */
export interface EmbeddedEvent {
  i: string;
  s: number;
  t: string;
  e: string;
  c: Date;
  /** The envelope's traceparent, when it has one. */
  p?: string;
}


/** In `_outboxAnswers`, as earlier versions recorded a miss: the request key's update matched nothing (a redelivery answers `matched: false` again; now kept in `_outboxMissed`). An answer kept is a string. */
export const NOT_MATCHED = false;

/** The field name an applied request key's answer is kept under (no `.` or `$`: base64url). */
export function answerField(requestKey: string): string {
  return createHash('sha256').update(requestKey).digest('base64url');
}

/** Whether the server is FerretDB (its `buildInfo` carries `ferretdbVersion`). */
export async function isFerretDB(db: Database): Promise<boolean> {
  const info = (await db.command({ buildInfo: 1 })) as Record<string, unknown>;
  return 'ferretdbVersion' in info || 'ferretdb' in info;
}

/** Whether a stored quarantine is the one a redrive reference names (its `fromSeq` and `quarantinedAt`). */
export function quarantineMatches(ref: { fromSeq: number; quarantinedAt: number }, fromSeq: number, at: Date): boolean {
  return ref.fromSeq === fromSeq && ref.quarantinedAt === at.getTime();
}

/** A stored quarantine (`q` of a state document) as the relay writes it. */
export interface StoredQuarantine {
  fromSeq: number;
  reason: string;
  at: Date;
}

/** `q` of a state document when it is the relay's `{ fromSeq, reason, at }`; undefined when it is not (never thrown: one bad document must not hide the others). */
export function storedQuarantine(q: unknown): StoredQuarantine | undefined {
  if (q === null || typeof q !== 'object' || Array.isArray(q)) return undefined;
  const { fromSeq, reason, at } = q as Record<string, unknown>;
  return Number.isSafeInteger(fromSeq) && typeof reason === 'string' && at instanceof Date && !Number.isNaN(at.getTime()) ? { fromSeq: fromSeq as number, reason, at } : undefined;
}

/**
 * Why the quarantine of `aggregate` kept in `collection` (its document `_id`'s field `q`) cannot
 * be read: names them, never what it holds. `idNotString`: the document's `_id` is not a string
 * (the relay writes only string ids, so no redrive reference can name it), whatever its `q`.
 */
export function unreadableQuarantineReason(aggregate: string, collection: string, id: string, idNotString = false): string {
  return idNotString
    ? `the quarantine of ${JSON.stringify(aggregate)} (field "q" of the document ${JSON.stringify(id)} in "${collection}") is under an _id that is not a string, as the relay writes it: no redrive reference can name it`
    : `the quarantine of ${JSON.stringify(aggregate)} (field "q" of the document ${JSON.stringify(id)} in "${collection}") is not the relay's { fromSeq, reason, at }`;
}

/**
 * A non-string `_id` as an operator can find it: a BSON value (ObjectId, number, Date…) as its
 * driver prints it, an embedded document as its JSON (`String` made every one `[object Object]`).
 */
function idText(id: unknown): string {
  if (id !== null && typeof id === 'object' && !('_bsontype' in id) && !(id instanceof Date)) {
    try {
      return JSON.stringify(id) ?? String(id);
    } catch {
      return String(id);
    }
  }
  return String(id);
}

/**
 * The quarantined documents of `col` (`q` present), in `_id` order, read with one cursor (in
 * batches of `limit`): at most `limit` readable ones, as `toEntry` makes them; each whose `q`
 * is not the relay's record, or whose `_id` is not a string (the relay writes only strings),
 * is passed to `onUnreadable` instead (`idNotString` saying which) and does not count (as the
 * Redis store's listing does). One cursor, not pages from the last `_id` read: a `$gt` on an
 * `_id` matches only `_id`s of its BSON type, so pages skipped every document of another type.
 * @throws `signal`'s reason once it aborts: before the first read, between documents, or during a read.
 */
export async function readQuarantines<T>(
  col: CollectionLike,
  limit: number,
  toEntry: (id: string, q: StoredQuarantine) => T,
  onUnreadable: (id: string, idNotString: boolean) => void,
  signal?: AbortSignal,
): Promise<T[]> {
  const out: T[] = [];
  // As the Redis store's listing: a limit below 1 lists nothing (the loop below checks after an entry).
  if (!(limit >= 1)) return out;
  throwIfAborted(signal);
  const cursor = col.find({ q: { $exists: true } }).sort({ _id: 1 }).batchSize(limit) as QuarantineCursor;
  let aborted = false;
  try {
    for (;;) {
      // Aborted: checked before each document (a batch already read included) and raced during a
      // batch's read, so nothing more is read and the signal's reason is thrown.
      throwIfAborted(signal);
      const doc = await raceSignal(cursor.next(), signal, () => (aborted = true));
      if (doc === null) break;
      const q = storedQuarantine(doc.q);
      if (typeof doc._id !== 'string') onUnreadable(idText(doc._id), true);
      else if (q) out.push(toEntry(doc._id, q));
      else onUnreadable(doc._id, false);
      if (out.length >= limit) break;
    }
  } finally {
    // Aborted during a read: the cursor is closed without waiting (the read may still be in flight on it).
    if (aborted) void cursor.close().catch(() => undefined);
    else await cursor.close();
  }
  return out;
}

/** The driver cursor `readQuarantines` reads: documents one at a time (`null` after the last). */
interface QuarantineCursor {
  next(): Promise<{ _id: unknown; q?: unknown } | null>;
  close(): Promise<void>;
}
