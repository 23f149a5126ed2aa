/**
 * The MongoDB-wire store's documents. Each generation of a key is its own immutable document,
 * written once by an insert whose `_id` names the key and the generation:
 *
 *   { _id: '<key>#<g>', k: key, g, s: 'h' | 'd' | 'f', o: owner, d?: data, e: Date, p: Date, c: Date }
 *
 * s: held, done or released; o: who claimed or settled it; e: when the lease or keep time
 * ends; p: the latest `e` of this generation and every one before it (purge counts from it,
 * so a generation is never deleted before those under it); c: when it was written (all by the
 * server's clock). The key's state is its highest generation. Moving a key from
 * generation n to n + 1 — a claim, a takeover, a settle — is an insert of `<key>#<n+1>`, so
 * of all who try, exactly one succeeds: a unique `_id` is the one thing every MongoDB-wire
 * server enforces atomically (FerretDB 1.24 does not run a filtered update as a
 * compare-and-set).
 */
import { ConfigurationError, throwIfAborted } from '@steadyfn/handler/internal';
import { LeaseRecordUnreadableError } from '../errors.js';
import type { LeaseRecord, SettleRequest } from '../types.js';

/**
 * The collection methods the store calls: a driver `Collection` satisfies it. Structural, so
 * the package's types import no driver.
 */
export interface MongoLeaseCollection {
  find(...args: any[]): { toArray(): Promise<any[]> };
  insertOne(...args: any[]): Promise<unknown>;
  insertMany(...args: any[]): Promise<unknown>;
  deleteMany(...args: any[]): Promise<unknown>;
  createIndex(...args: any[]): Promise<unknown>;
  /** The driver's `Db`, for the server's clock (`hello`). Without it the local clock is used. */
  readonly db?: { command(...args: any[]): Promise<any> };
  /** The driver's write concern of the collection (inherited from its `Db` and client); `w: 0` is refused. */
  readonly writeConcern?: { readonly w?: unknown } | undefined;
}

/**
 * Refuses a collection whose writes are not acknowledged (`writeConcern: { w: 0 }`): an insert
 * then never says whether it landed or met a duplicate, so no claim can be known to be won.
 * @throws {ConfigurationError} field `collection` (named as `owner`'s option), terminal.
 */
export function refuseUnacknowledged(owner: string, col: MongoLeaseCollection): void {
  if (col.writeConcern?.w !== 0) return;
  throw new ConfigurationError(
    `${owner}(): option "collection" must acknowledge writes; got one with writeConcern { w: 0 }, whose inserts never say whether they landed, so no claim can be known to be won: use w: 1 or 'majority' (the default) for this collection`,
    { field: 'collection', expected: "a collection whose writeConcern acknowledges writes (w ≥ 1 or 'majority')" },
  );
}

/**
 * A driver `ClientSession` (structural): pass one to run a call inside the caller's
 * transaction (`session.withTransaction(...)`).
 */
export interface MongoLeaseSession {
  inTransaction(): boolean;
}

export interface LeaseDocument {
  _id: string;
  k: string;
  g: number;
  s: 'h' | 'd' | 'f';
  o?: string;
  d?: string;
  e: Date;
  p: Date;
  c: Date;
}

export const DUPLICATE_KEY = 11000;

/**
 * Read options of every `find` of a record: numbers decoded as numbers whatever the client's
 * `promoteValues` / `promoteLongs` say (with `false` a generation came back as an `Int32`
 * object, and every record read as unreadable).
 */
export const PROMOTED = { promoteValues: true, promoteLongs: true } as const;

export function docId(key: string, generation: number): string {
  // Injective: the generation is digits after the last '#', whatever the key holds.
  return `${key}#${generation}`;
}

/**
 * The numeric `code` of a driver error: a number, or a BSON number object (`Int32`, `Double`,
 * `Long`: a client with `promoteValues: false` decodes the server's reply so) read by its
 * `valueOf()`; `undefined` for anything else.
 */
export function errorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'number') return code;
  if (typeof code === 'object' && code !== null && typeof (code as { _bsontype?: unknown })._bsontype === 'string') {
    const value = Number((code as { valueOf(): unknown }).valueOf());
    return Number.isFinite(value) ? value : undefined;
  }
  return undefined;
}

/**
 * An insert that met its collection being dropped on FerretDB (SQLite backend), which answers
 * with an internal error (code 1) where MongoDB creates the collection again: `no such table`
 * (the table went between the lookup and the insert), or a failure inside the implicit
 * `collectionCreate` that precedes the insert (creating its indexes while other inserts
 * re-create the collection: `UNIQUE constraint failed: index '…_id_'`, seen about 1 in 400
 * probe-and-claim rounds under drops). Either way the statement failed before this document
 * was written, so the insert may be sent again. A restore lock
 * (`@steadyfn/backup`) drops its collection when its restore ends, while another restore may be
 * claiming.
 */
export function droppedUnderInsert(error: unknown): boolean {
  const message = (error as { message?: unknown } | null)?.message;
  return errorCode(error) === 1 && typeof message === 'string' && (message.includes('no such table') || message.includes('collectionCreate'));
}

/** How many times an insert that met its collection being dropped (`droppedUnderInsert`) is sent in all. */
export const DROPPED_INSERT_ATTEMPTS = 3;

/**
 * `col.insertOne(doc, options)`, sent again (up to `DROPPED_INSERT_ATTEMPTS` in all) while it
 * meets its collection being dropped; any other outcome is the insert's own. Once `signal`
 * has aborted nothing more is sent: it rejects with the signal's reason (what every store call
 * rejects with after an abort), before the first send or instead of a resend — a call past its
 * deadline must not land a generation its caller was already told it did not get.
 */
export async function insertOneAcrossDrop(col: MongoLeaseCollection, doc: object, options: object, signal?: AbortSignal): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    try {
      await col.insertOne(doc, options);
      return;
    } catch (error) {
      if (attempt >= DROPPED_INSERT_ATTEMPTS || !droppedUnderInsert(error)) throw error;
    }
  }
}

/** The per-operation errors of a failed `insertMany`, or undefined when it does not say. */
export function writeErrorsOf(error: unknown): Array<{ index: number; code: number | undefined }> | undefined {
  const raw = (error as { writeErrors?: unknown } | null)?.writeErrors;
  const list = Array.isArray(raw) ? raw : raw && typeof raw === 'object' ? [raw] : undefined;
  if (!list) return undefined;
  const out: Array<{ index: number; code: number | undefined }> = [];
  for (const item of list) {
    const index = (item as { index?: unknown }).index;
    if (typeof index !== 'number') return undefined;
    out.push({ index, code: errorCode(item) });
  }
  return out;
}

/**
 * A generation this store wrote: the fields of `LeaseDocument`, under the `_id` its key and
 * generation make (`docId`) — a document under `<key>#<g>` that is not generation g of key is
 * another program's, as is one whose fields do not hold.
 */
export function isDocument(value: unknown): value is LeaseDocument {
  const doc = value as Partial<LeaseDocument> | null;
  return (
    typeof doc === 'object' &&
    doc !== null &&
    typeof doc.k === 'string' &&
    typeof doc.g === 'number' &&
    Number.isSafeInteger(doc.g) &&
    doc._id === docId(doc.k, doc.g) &&
    (doc.s === 'h' || doc.s === 'd' || doc.s === 'f') &&
    doc.e instanceof Date &&
    doc.p instanceof Date &&
    doc.c instanceof Date
  );
}

/** The highest generation of each key among `docs` (what a read found), with every document per key. */
export function byKey(docs: unknown[]): Map<string, { top: LeaseDocument; all: LeaseDocument[] }> {
  const out = new Map<string, { top: LeaseDocument; all: LeaseDocument[] }>();
  for (const doc of docs) {
    if (!isDocument(doc)) throw new LeaseRecordUnreadableError('collection');
    const entry = out.get(doc.k);
    if (!entry) out.set(doc.k, { top: doc, all: [doc] });
    else {
      entry.all.push(doc);
      if (doc.g > entry.top.g) entry.top = doc;
    }
  }
  return out;
}

/** The record a document shows, or undefined when it is released or expired at `serverNow`. */
export function recordOf(doc: LeaseDocument, serverNow: number, toLocal: (serverMs: number) => number): LeaseRecord | undefined {
  if (doc.s === 'f' || doc.e.getTime() <= serverNow) return undefined;
  const expiresAt = toLocal(doc.e.getTime());
  if (doc.s === 'd') return { state: 'done', fence: doc.g, expiresAt, data: doc.d ?? '' };
  if (typeof doc.o !== 'string') throw new LeaseRecordUnreadableError('collection');
  const held: LeaseRecord = { state: 'held', fence: doc.g, owner: doc.o, expiresAt };
  if (typeof doc.d === 'string') held.data = doc.d;
  return held;
}

/** A new generation of `key` above generation `below` (purge base `belowP`), ending at `end`, written at `serverNow` (epoch ms, the server's clock). */
export function nextGeneration(key: string, below: number, belowP: number, fields: Pick<LeaseDocument, 's' | 'o'> & { d?: string }, end: number, serverNow: number): LeaseDocument {
  const g = below + 1;
  const doc: LeaseDocument = { _id: docId(key, g), k: key, g, s: fields.s, o: fields.o, e: new Date(end), p: new Date(Math.max(end, belowP)), c: new Date(serverNow) };
  if (fields.d !== undefined) doc.d = fields.d;
  return doc;
}

/** The generation a settle writes on top of generation `g` (purge base `p`). */
export function successor(r: SettleRequest, g: number, p: number, serverNow: number): LeaseDocument {
  return r.data === undefined
    ? nextGeneration(r.key, g, p, { s: 'f', o: r.owner }, serverNow, serverNow)
    : nextGeneration(r.key, g, p, { s: 'd', o: r.owner, d: r.data }, serverNow + r.keepMs!, serverNow);
}

/** The key's top generation `top` (one above the request's fence) is what settle `r` writes. */
export function settledAs(r: SettleRequest, top: LeaseDocument): boolean {
  return top.o === r.owner && (r.data === undefined ? top.s === 'f' && top.d === undefined : top.s === 'd' && top.d === r.data);
}
