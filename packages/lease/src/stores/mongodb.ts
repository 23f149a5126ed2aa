/**
 * The lease store on MongoDB-wire servers: MongoDB, and FerretDB 1.24 (SQLite or PostgreSQL),
 * where a filtered `findOneAndUpdate` is not an atomic compare-and-set and bulk upsert results
 * are misreported. Layout and the one atomic step it relies on: see `mongodb-docs.ts`.
 *
 *   claim / claimMany    find the keys' generations; insert generation n + 1 where the top one
 *                        is absent, released or expired (insertMany, one error per duplicate)
 *   settle / settleMany  find; insert generation n + 1 (done or released) where the caller
 *                        holds generation n
 *   get                  find
 *
 * Timing rules that keep an insert from winning a generation that existed before (so exactly
 * one attempt ever holds generation n of a key):
 *   - an insert is sent within SEND_WINDOW_MS of the read it is based on, and is assumed to
 *     reach the server within DELIVERY_MS (ACT_MARGIN_MS = their sum);
 *   - a superseded generation is deleted no sooner than SUPERSEDED_GRACE_MS (> ACT_MARGIN_MS)
 *     after it was written;
 *   - the top generation is deleted (purge, TTL index) no sooner than `retainMs` after it
 *     ended, and nobody builds on a top generation within ACT_MARGIN_MS of that moment.
 */
import { invalidOption, msOption } from '@steadyfn/handler/internal';
import { ConfigurationError } from '@steadyfn/handler';
import { LeaseStoreUnsupportedError } from '../errors.js';
import { abortable, throwIfAborted } from '../signal.js';
import type { CallOptions, ClaimRequest, ClaimResult, LeaseRecord, LeaseStore, SettleRequest } from '../types.js';
import { checkBatch, checkClaim, checkGetKey, checkSettle } from '../validate.js';
import { serverClock } from './mongodb-clock.js';
import { DUPLICATE_KEY, byKey, docId, errorCode, recordOf, writeErrorsOf, type LeaseDocument, type MongoLeaseCollection, type MongoLeaseSession } from './mongodb-docs.js';
import { probeServer, type ProbeResult } from './mongodb-probe.js';

export type { MongoLeaseCollection, MongoLeaseSession } from './mongodb-docs.js';

/** An insert is sent within this long of the read it is based on, or the read is repeated. */
export const SEND_WINDOW_MS = 10_000;
/** Assumed longest time a sent request takes to reach the server. */
export const DELIVERY_MS = 20_000;
const ACT_MARGIN_MS = SEND_WINDOW_MS + DELIVERY_MS;
/** A superseded generation is kept at least this long after it was written. */
export const SUPERSEDED_GRACE_MS = 60_000;
/** Smallest `retainMs`: a top generation must outlive the act margin plus the grace. */
export const MIN_RETAIN_MS = 120_000;
/** Read-and-insert rounds before a contended key is reported as held. */
const MAX_ROUNDS = 4;
/** Most documents per insertMany. */
const INSERT_CHUNK = 100;
/** NotImplemented (FerretDB), CommandNotSupported, InvalidOptions. */
const NOT_SUPPORTED = new Set([238, 115, 72]);
/** IndexOptionsConflict, IndexKeySpecsConflict. */
const INDEX_CONFLICT = new Set([85, 86]);

/** Options of every MongoDB store call. */
export interface MongoCallOptions extends CallOptions {
  /**
   * A driver `ClientSession`: the reads and inserts join its transaction, so a settle commits
   * or aborts with the caller's own writes. A settle that loses inside a transaction returns
   * `false` after the server has aborted the transaction: abort it (throw). Needs a replica set.
   */
  session?: MongoLeaseSession;
}

/** Options of `mongoLeaseStore`. */
export interface MongoLeaseStoreOptions {
  /** The collection holding leases (a driver `Collection`), or a function returning it (e.g. from a cached client). */
  collection: MongoLeaseCollection | (() => MongoLeaseCollection | Promise<MongoLeaseCollection>);
  /**
   * How long a record is kept after its lease or keep time ends: its generation (the fence) is
   * remembered that long, and then the TTL index (`ensureIndexes`) or `purge()` deletes it.
   * Whole milliseconds ≥ 120,000.
   * @default 3_600_000 (1 hour)
   */
  retainMs?: number;
}

/** What `probe()` found. */
export interface MongoProbeResult extends ProbeResult {
  /** Leases are judged by the server's clock (from `hello`); false: this process's clock. */
  serverClock: boolean;
}

/** A lease store on a MongoDB-wire server. */
export interface MongoLeaseStore extends LeaseStore<MongoCallOptions> {
  /**
   * Creates the index on (key, generation) and, where the server has TTL indexes, the TTL
   * index that deletes records `retainMs` after they end. Run once at deploy time.
   * `{ ttl: false }` on servers without TTL indexes (FerretDB): call `purge()` on a schedule.
   * @throws ConfigurationError when a TTL index with another `retainMs` exists.
   */
  ensureIndexes(options?: CallOptions): Promise<{ ttl: boolean }>;
  /**
   * Checks the server once (runs by itself before the first call): an insert of an existing
   * `_id` must fail as a duplicate key, also 8 at once.
   * @throws LeaseStoreUnsupportedError when the server does not enforce a unique `_id`.
   */
  probe(options?: CallOptions): Promise<MongoProbeResult>;
  /**
   * Deletes records that ended more than `retainMs` ago (what the TTL index does on MongoDB):
   * for servers without TTL indexes. Costs a collection scan on FerretDB.
   */
  purge(options?: CallOptions): Promise<{ deleted: number }>;
}

/**
 * A lease store on MongoDB or FerretDB.
 * @throws ConfigurationError (from `@steadyfn/handler`) for bad options.
 * @example
 * ```ts
 * import { MongoClient } from 'mongodb';
 * import { mongoLeaseStore } from '@steadyfn/lease';
 *
 * const mongo = new MongoClient(process.env.MONGODB_URI!);
 * const leases = mongoLeaseStore({ collection: mongo.db('app').collection('leases') });
 * await leases.ensureIndexes();
 * ```
 */
export function mongoLeaseStore(options: MongoLeaseStoreOptions): MongoLeaseStore {
  if (typeof options !== 'object' || options === null) invalidOption('mongoLeaseStore', 'options', 'an object', options);
  const source = options.collection;
  const isCollection = typeof source === 'object' && source !== null && typeof source.find === 'function' && typeof source.insertOne === 'function';
  if (typeof source !== 'function' && !isCollection) invalidOption('mongoLeaseStore', 'collection', 'a MongoDB Collection, or a function returning one', source);
  const retainMs = msOption('mongoLeaseStore', 'retainMs', options.retainMs, 3_600_000, MIN_RETAIN_MS);
  const getCollection = typeof source === 'function' ? source : () => source;

  let current: MongoLeaseCollection | undefined;
  const clock = serverClock(() => current?.db);
  let probing: Promise<ProbeResult> | undefined;

  const probe = (col: MongoLeaseCollection): Promise<ProbeResult> => {
    probing ??= probeServer(col).catch((error: unknown) => {
      // A refusal stands; anything else (the server was down) is tried again next call.
      if (!(error instanceof LeaseStoreUnsupportedError)) probing = undefined;
      throw error;
    });
    return probing;
  };

  /** The collection, probed, with a fresh clock offset. */
  const ready = async (signal: AbortSignal | undefined): Promise<{ col: MongoLeaseCollection; probed: ProbeResult }> => {
    throwIfAborted(signal);
    const col = await abortable(Promise.resolve(getCollection()), signal);
    current = col;
    const probed = await abortable(probe(col), signal);
    await abortable(clock.refresh(), signal);
    return { col, probed };
  };

  const withSession = (session: MongoLeaseSession | undefined): Record<string, unknown> => (session ? { session } : {});

  const readKeys = async (col: MongoLeaseCollection, keys: string[], options: MongoCallOptions | undefined) => {
    const filter = keys.length === 1 ? { k: keys[0] } : { k: { $in: keys } };
    return byKey(await abortable(col.find(filter, withSession(options?.session)).toArray(), options?.signal));
  };

  /**
   * Inserts each document; true where it was inserted, false where its `_id` existed. Any
   * other failure rejects (then some of the documents may have been inserted).
   */
  const insertAll = async (col: MongoLeaseCollection, probed: ProbeResult, docs: LeaseDocument[], options: MongoCallOptions | undefined): Promise<boolean[]> => {
    const signal = options?.signal;
    const session = withSession(options?.session);
    throwIfAborted(signal);
    const single = async (doc: LeaseDocument): Promise<boolean> => {
      try {
        await col.insertOne(doc, session);
        return true;
      } catch (error) {
        if (errorCode(error) === DUPLICATE_KEY) return false;
        throw error;
      }
    };
    if (docs.length === 1) return [await abortable(single(docs[0]!), signal)];
    const out: boolean[] = [];
    for (let start = 0; start < docs.length; start += INSERT_CHUNK) {
      const chunk = docs.slice(start, start + INSERT_CHUNK);
      if (!probed.batchInsertErrorsPerOperation) {
        out.push(...(await abortable(Promise.all(chunk.map(single)), signal)));
        continue;
      }
      const inserted = chunk.map(() => true);
      try {
        await abortable(col.insertMany(chunk, { ordered: false, ...session }), signal);
      } catch (error) {
        const errors = writeErrorsOf(error);
        // Trust only one duplicate-key error per failed insert; anything else is a failure to report.
        if (!errors || errors.some((e) => e.code !== DUPLICATE_KEY || e.index < 0 || e.index >= chunk.length)) throw error;
        for (const e of errors) inserted[e.index] = false;
      }
      out.push(...inserted);
    }
    return out;
  };

  /** Superseded generations old enough to delete, removed in the background (housekeeping only). */
  const sweep = (col: MongoLeaseCollection, docs: LeaseDocument[], serverNow: number): void => {
    const ids = docs.filter((d) => d.c.getTime() < serverNow - clock.uncertaintyMs() - SUPERSEDED_GRACE_MS).map((d) => d._id);
    if (ids.length === 0) return;
    col.deleteMany(ids.length === 1 ? { _id: ids[0] } : { _id: { $in: ids } }).catch(() => undefined);
  };

  /** The top generation can be built on: it is not within ACT_MARGIN_MS of being purged. */
  const actionable = (top: LeaseDocument | undefined, serverNow: number): boolean =>
    top === undefined || top.p.getTime() + retainMs - (serverNow + clock.uncertaintyMs()) >= ACT_MARGIN_MS;

  const purgeable = (top: LeaseDocument, serverNow: number): boolean => top.p.getTime() + retainMs <= serverNow - clock.uncertaintyMs();

  /** A new generation on top of `top`, ending at `end`; purge counts from the latest end so far. */
  const generation = (key: string, top: LeaseDocument | undefined, fields: Pick<LeaseDocument, 's' | 'o'> & { d?: string }, end: number, serverNow: number): LeaseDocument => {
    const g = (top?.g ?? 0) + 1;
    const doc: LeaseDocument = { _id: docId(key, g), k: key, g, s: fields.s, o: fields.o, e: new Date(end), p: new Date(Math.max(end, top?.p.getTime() ?? end)), c: new Date(serverNow) };
    if (fields.d !== undefined) doc.d = fields.d;
    return doc;
  };

  /** What a claim reports when it cannot decide yet: held, by nobody known, for a moment. */
  const undecided = (fence: number): ClaimResult => ({ claimed: false, record: { state: 'held', fence, owner: '', expiresAt: Date.now() + 1000 } });

  const claimBatch = async (requests: ClaimRequest[], options: MongoCallOptions | undefined): Promise<ClaimResult[]> => {
    if (requests.length === 0) return [];
    const { col, probed } = await ready(options?.signal);
    const results = new Array<ClaimResult | undefined>(requests.length);
    const lastFence = new Array<number>(requests.length).fill(0);
    let pending = requests.map((_, i) => i);
    for (let round = 0; round < MAX_ROUNDS && pending.length > 0; round++) {
      const readAt = performance.now();
      const found = await readKeys(col, pending.map((i) => requests[i]!.key), options);
      const now = clock.now();
      const next: number[] = [];
      const purge: string[] = [];
      const attempts: Array<{ index: number; doc: LeaseDocument; superseded: LeaseDocument[] }> = [];
      for (const index of pending) {
        const r = requests[index]!;
        const entry = found.get(r.key);
        const top = entry?.top;
        lastFence[index] = top?.g ?? 0;
        const live = top && recordOf(top, now - clock.uncertaintyMs(), clock.toLocal);
        if (live) {
          results[index] = { claimed: false, record: live };
        } else if (!actionable(top, now)) {
          if (purgeable(top!, now)) {
            purge.push(r.key);
            next.push(index);
          } else results[index] = undecided(top!.g);
        } else {
          const doc = generation(r.key, top, r.data === undefined ? { s: 'h', o: r.owner } : { s: 'h', o: r.owner, d: r.data }, now + r.leaseMs, now);
          attempts.push({ index, doc, superseded: entry?.all ?? [] });
        }
      }
      if (purge.length > 0) {
        // Whole records past their retention: what the TTL index would delete.
        await abortable(col.deleteMany({ k: { $in: purge }, p: { $lt: new Date(now - clock.uncertaintyMs() - retainMs) } }, withSession(options?.session)), options?.signal);
      }
      if (attempts.length > 0 && performance.now() - readAt > SEND_WINDOW_MS) {
        // The read is too old to build on: read again.
        next.push(...attempts.map((a) => a.index));
      } else if (attempts.length > 0) {
        const inserted = await insertAll(col, probed, attempts.map((a) => a.doc), options);
        const done: LeaseDocument[] = [];
        attempts.forEach((a, j) => {
          if (inserted[j]) {
            results[a.index] = { claimed: true, fence: a.doc.g, expiresAt: clock.toLocal(a.doc.e.getTime()) };
            done.push(...a.superseded);
          } else next.push(a.index);
        });
        sweep(col, done, now);
      }
      pending = next;
    }
    for (const index of pending) results[index] = undecided(lastFence[index]!);
    return results as ClaimResult[];
  };

  const settleBatch = async (requests: SettleRequest[], options: MongoCallOptions | undefined): Promise<boolean[]> => {
    if (requests.length === 0) return [];
    const { col, probed } = await ready(options?.signal);
    const results = requests.map(() => false);
    let pending = requests.map((_, i) => i);
    // A second round only when the first read got too old before the insert could be sent.
    for (let round = 0; round < 2 && pending.length > 0; round++) {
      const readAt = performance.now();
      const found = await readKeys(col, pending.map((i) => requests[i]!.key), options);
      const now = clock.now();
      const attempts: Array<{ index: number; doc: LeaseDocument; superseded: LeaseDocument[] }> = [];
      for (const index of pending) {
        const r = requests[index]!;
        const entry = found.get(r.key);
        const top = entry?.top;
        // Still ours: the top generation is the caller's, held by its owner, and not about to be purged.
        if (!top || top.g !== r.fence || top.s !== 'h' || top.o !== r.owner || !actionable(top, now)) continue;
        const doc = r.data === undefined ? generation(r.key, top, { s: 'f', o: r.owner }, now, now) : generation(r.key, top, { s: 'd', o: r.owner, d: r.data }, now + r.keepMs!, now);
        attempts.push({ index, doc, superseded: entry!.all });
      }
      if (attempts.length > 0 && performance.now() - readAt > SEND_WINDOW_MS) {
        pending = attempts.map((a) => a.index);
        continue;
      }
      if (attempts.length > 0) {
        const inserted = await insertAll(col, probed, attempts.map((a) => a.doc), options);
        const done: LeaseDocument[] = [];
        attempts.forEach((a, j) => {
          results[a.index] = inserted[j]!;
          if (inserted[j]) done.push(...a.superseded);
        });
        sweep(col, done, now);
      }
      pending = [];
    }
    return results;
  };

  return {
    async claim(request, callOptions) {
      return (await claimBatch([checkClaim(request)], callOptions))[0]!;
    },
    async claimMany(requests, callOptions) {
      return claimBatch(checkBatch(requests, checkClaim), callOptions);
    },
    async settle(request, callOptions) {
      return (await settleBatch([checkSettle(request)], callOptions))[0]!;
    },
    async settleMany(requests, callOptions) {
      return settleBatch(checkBatch(requests, checkSettle), callOptions);
    },
    async get(key, callOptions): Promise<LeaseRecord | undefined> {
      const k = checkGetKey(key);
      const { col } = await ready(callOptions?.signal);
      const top = (await readKeys(col, [k], callOptions)).get(k)?.top;
      return top && recordOf(top, clock.now() - clock.uncertaintyMs(), clock.toLocal);
    },
    async ensureIndexes(callOptions) {
      const signal = callOptions?.signal;
      throwIfAborted(signal);
      const col = await abortable(Promise.resolve(getCollection()), signal);
      await abortable(col.createIndex({ k: 1, g: -1 }, { name: 'steadyfn_lease_key' }), signal);
      try {
        await abortable(col.createIndex({ p: 1 }, { name: 'steadyfn_lease_purge', expireAfterSeconds: Math.ceil(retainMs / 1000) }), signal);
        return { ttl: true };
      } catch (error) {
        const code = errorCode(error);
        if (code !== undefined && NOT_SUPPORTED.has(code)) return { ttl: false };
        if (code !== undefined && INDEX_CONFLICT.has(code)) {
          throw new ConfigurationError(`mongoLeaseStore(): option "retainMs" (${retainMs} ms) differs from the TTL index steadyfn_lease_purge already on the collection; drop that index or use the retainMs it was made with`, {
            field: 'retainMs',
            expected: 'the retainMs the existing TTL index was made with',
            cause: error,
          });
        }
        throw error;
      }
    },
    async probe(callOptions) {
      const { probed } = await ready(callOptions?.signal);
      return { ...probed, serverClock: clock.fromServer() };
    },
    async purge(callOptions) {
      const { col } = await ready(callOptions?.signal);
      const cutoff = new Date(clock.now() - clock.uncertaintyMs() - retainMs);
      const result = (await abortable(col.deleteMany({ p: { $lt: cutoff } }), callOptions?.signal)) as { deletedCount?: number };
      return { deleted: result.deletedCount ?? 0 };
    },
  };
}
