/**
 * The lease store on MongoDB-wire servers: MongoDB, and FerretDB 1.24 (SQLite or PostgreSQL),
 * where a filtered `findOneAndUpdate` is not an atomic compare-and-set and bulk upsert results
 * are misreported. Layout and the one atomic step it relies on: see `mongodb-docs.ts`.
 *
 *   claim / claimMany    find the keys' generations; insert generation n + 1 where the top one
 *                        is absent, released or expired (insertMany, one error per duplicate)
 *   settle / settleMany  find; insert generation n + 1 (done or released) where the caller
 *                        holds generation n
 *   renew                find; insert generation n + 1 (held by the caller, a new lease) where
 *                        the caller holds generation n
 *   get                  find
 *
 * The timing rules that keep an insert from winning a generation that existed before (so
 * exactly one attempt ever holds generation n of a key), and the grant memory a settle without
 * a read uses: `mongodb-timing.ts`. The options and the store's shape: `mongodb-types.ts`. The
 * claim rounds: `mongodb-claim.ts`; the settle and renewal rounds: `mongodb-change.ts`; what
 * they share with the store: `mongodb-context.ts`.
 */
import { checkedGetter, checkKnownKeys, invalidOption, keysOf, msOption, oneOfOption, sleep } from '@steadyfn/handler/internal';
import { LeaseStoreUnsupportedError } from '../errors.js';
import { raceSignal as abortable, throwIfAborted } from '@steadyfn/handler/internal';
import type { ClaimRequest, ClaimResult, LeaseRecord, RenewRequest, RenewResult, SettleRequest } from '../types.js';
import { checkBatch, checkClaim, checkGetKey, checkRenew, checkSettle, withDataLimit } from '../validate.js';
import { serverClock } from './mongodb-clock.js';
import { nextGeneration, recordOf, refuseUnacknowledged, settledAs, successor, type LeaseDocument, type MongoLeaseCollection } from './mongodb-docs.js';
import { changeBatch } from './mongodb-change.js';
import { claimRounds } from './mongodb-claim.js';
import type { Attempt, Below, Change, StoreContext } from './mongodb-context.js';
import { ensureLeaseIndexes } from './mongodb-indexes.js';
import { purgeBoundsOf, purgeInBatches } from './mongodb-purge.js';
import { ACT_MARGIN_MS, grantMemory, MIN_RETAIN_MS, SUPERSEDED_GRACE_MS, YOUNG_MS } from './mongodb-timing.js';
import type { MongoCallOptions, MongoLeaseStore, MongoLeaseStoreOptions } from './mongodb-types.js';
import { probeServer, type ProbeResult } from './mongodb-probe.js';
import { topReader } from './mongodb-read.js';
import { resendable, typedCall, typedOperations } from './store-unavailable.js';
import { insertAll, sweep } from './mongodb-write.js';
import { giveBack } from './give-back.js';

export type { MongoLeaseCollection, MongoLeaseSession } from './mongodb-docs.js';
export type { MongoCallOptions, MongoLeaseStore, MongoLeaseStoreOptions, MongoProbeResult } from './mongodb-types.js';
export { DELIVERY_MS, FAST_SETTLE_MS, MIN_RETAIN_MS, SEND_WINDOW_MS, SUPERSEDED_GRACE_MS } from './mongodb-timing.js';

/**
 * The most data a record's document holds: a document is at most 16 MiB of BSON
 * (https://www.mongodb.com/docs/manual/reference/limits/#mongodb-limit-BSON-Document-Size; the
 * driver refuses a larger `insertMany`, its serializer anything past 17 MiB, which FerretDB would
 * otherwise store), and its other fields — the key twice (at most 1,024 characters, 3 KiB of
 * UTF-8, each), the owner and three dates — take under 8 KiB; 16 KiB are left for them.
 */
const MAX_DATA_BYTES = 16 * 1024 * 1024 - 16 * 1024;
const checkSizedClaim = /* @__PURE__ */ withDataLimit(checkClaim, MAX_DATA_BYTES, 'a MongoDB-wire store (one document)');
const checkSizedSettle = /* @__PURE__ */ withDataLimit(checkSettle, MAX_DATA_BYTES, 'a MongoDB-wire store (one document)');

/**
 * A lease store on MongoDB or FerretDB.
 * @throws ConfigurationError (from `@steadyfn/handler`) for bad options; from the first call, a
 *   collection whose `writeConcern` is `{ w: 0 }` (field `collection`).
 * @throws LeaseStoreUnavailableError from the store's calls when the server cannot be reached
 *   (see `MongoLeaseStore`).
 * @example
 * ```ts
 * import { mongoLeaseStore } from '@steadyfn/lease';
 *
 * // mongo: a connected MongoClient
 * const leases = mongoLeaseStore({ collection: mongo.db('app').collection('leases') });
 * await leases.ensureIndexes();
 * ```
 */
export function mongoLeaseStore(options: MongoLeaseStoreOptions): MongoLeaseStore {
  return mongoLeaseStoreOf('mongoLeaseStore', options);
}

/**
 * `mongoLeaseStore()` built for a sibling's factory (`owner`, e.g. `mongoStore` of
 * `@steadyfn/idempotency`), so an option error names the function the user called.
 */
export function mongoLeaseStoreOf(owner: string, options: MongoLeaseStoreOptions): MongoLeaseStore {
  if (typeof options !== 'object' || options === null) invalidOption(owner, 'options', 'an object', options);
  checkKnownKeys(owner, '', options, keysOf<MongoLeaseStoreOptions>({ collection: true, retainMs: true, reads: true }));
  const source = options.collection;
  const isCollection = typeof source === 'object' && source !== null && typeof source.find === 'function' && typeof source.insertOne === 'function';
  if (typeof source !== 'function' && !isCollection) invalidOption(owner, 'collection', 'a MongoDB Collection, or a function returning one', source);
  const retainMs = msOption(owner, 'retainMs', options.retainMs, 3_600_000, MIN_RETAIN_MS);
  const reads = oneOfOption(owner, 'reads', options.reads, ['auto', 'by-id', 'query'], 'auto');
  // A getter's result is checked at each use (a connections handle, a Db or MongoClient: CONFIG_INVALID, not a TypeError).
  const getCollection = checkedGetter<MongoLeaseCollection>(owner, 'collection', source, ['find', 'insertOne'], 'a MongoDB Collection');

  const fromGetter = typeof source === 'function';
  let current: MongoLeaseCollection | undefined;
  const grants = grantMemory();
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
    refuseUnacknowledged(owner, col);
    current = col;
    const probed = await abortable(probe(col), signal);
    await abortable(clock.refresh(), signal);
    return { col, probed };
  };

  const reader = topReader();
  const byId = (probed: ProbeResult): boolean => reads === 'by-id' || (reads === 'auto' && probed.ferretdb);
  /** How a walk may settle a key (see mongodb-read.ts), or false to read by query. */
  const walkRule = (probed: ProbeResult, serverNow: number, settles: (top: LeaseDocument) => boolean) =>
    byId(probed) && { settles, isLiveDone: (doc: LeaseDocument) => doc.s === 'd' && live(doc, serverNow) !== undefined };

  const live = (top: LeaseDocument | undefined, serverNow: number): LeaseRecord | undefined => top && recordOf(top, serverNow - clock.uncertaintyMs(), clock.toLocal);

  /** Written recently enough that nothing above it can have been deleted (see mongodb-read.ts). */
  const young = (doc: LeaseDocument, serverNow: number): boolean => doc.c.getTime() > serverNow + clock.uncertaintyMs() - YOUNG_MS;

  /** The top generation can be built on: it is not within ACT_MARGIN_MS of being purged. */
  const actionable = (top: LeaseDocument | undefined, serverNow: number): boolean =>
    top === undefined || top.p.getTime() + retainMs - (serverNow + clock.uncertaintyMs()) >= ACT_MARGIN_MS;

  const purgeable = (top: LeaseDocument, serverNow: number): boolean => top.p.getTime() + retainMs <= serverNow - clock.uncertaintyMs();

  /** Inserts the attempts' documents; the results say which landed. Sweeps what the winners superseded. */
  const write = async (col: MongoLeaseCollection, probed: ProbeResult, attempts: Attempt[], serverNow: number, options: MongoCallOptions | undefined): Promise<boolean[]> => {
    const inserted = await insertAll(col, attempts.map((a) => a.doc), probed.batchInsertErrorsPerOperation, options);
    const superseded: LeaseDocument[] = [];
    attempts.forEach((a, j) => {
      // Landed or not, the generation exists now.
      reader.note(a.doc.k, a.doc.g);
      if (inserted[j]) superseded.push(...a.seen);
    });
    sweep(col, superseded, serverNow - clock.uncertaintyMs() - SUPERSEDED_GRACE_MS);
    return inserted;
  };

  const ctx: StoreContext = { retainMs, clock, reader, grants, ready, walkRule, write, live, young, actionable, purgeable };

  /**
   * Claims each request (`claim` is a batch of one). A call that throws holds no key, as the
   * Redis store's failed batch (`releaseClaimed`): an insert that fails other than by a
   * duplicate `_id` — a connection reset before the server saw it, or after it ran it and
   * before its reply — has an unknown outcome, so every generation this call claimed or sent is
   * given back (released, where this owner holds it) before the error is thrown; what cannot be
   * given back (the server still unreachable, an insert landing later) ends with its lease.
   * Inside a transaction nothing is given back: the transaction's abort undoes its inserts.
   *
   * A call whose collection comes from a getter, outside a session, that failed on the network
   * before it sent any insert (`resendable`: it wrote nothing) is run once more from the start,
   * on the getter's collection of then, while the caller's signal lets it: after a freeze during
   * which the server or a proxy dropped the driver's pooled sockets, the first read dies on a dead
   * socket (the driver does not retry reads' network errors on a standalone) and clears the pool;
   * the second gets a new connection.
   */
  const claimBatch = async (requests: ClaimRequest[], options: MongoCallOptions | undefined, retried = false): Promise<ClaimResult[]> => {
    if (requests.length === 0) return [];
    const taken: Change[] = [];
    try {
      return await claimRounds(ctx, requests, taken, options);
    } catch (error) {
      if (!retried && fromGetter && taken.length === 0 && options?.session === undefined && options?.signal?.aborted !== true && resendable(error)) {
        // One turn of the event loop first: the sockets whose FIN was read close in its close
        // phase, and the driver's pool then checks out none of them (see `MongoLeaseStore`).
        await sleep(0, options?.signal);
        return claimBatch(requests, options, true);
      }
      // Best effort and bounded (give-back.ts), without the caller's signal (it may be what ended the call).
      if (taken.length > 0 && !options?.session?.inTransaction()) await giveBack((signal) => typedCall('mongodb', undefined, () => settleBatch(taken, { signal })));
      throw error;
    }
  };

  /**
   * A settle answers `true` also when the key already is what it makes of it — generation
   * fence + 1, written by its owner, done with its `data` (or released, without): only the
   * holder of generation `fence` writes that generation done or released (a takeover writes it
   * held), so it is this settle's own earlier send, whose insert landed and whose reply was lost
   * (the caller sending it again after `LEASE_STORE_UNAVAILABLE`) — as the Redis store's
   * `SETTLE` / `SETTLE_ONE` answer a resend. Nothing is written then.
   */
  const settleBatch = async (requests: SettleRequest[], options: MongoCallOptions | undefined): Promise<boolean[]> =>
    (await changeBatch(ctx, requests, (r, below, now) => successor(r, below.g, below.p, now), options, settledAs)).map((written) => written !== undefined);

  /** The generation a renewal writes: held by the same owner with the same data, for leaseMs from now (erring long, as a claim). */
  const renewal = (r: RenewRequest, below: Below, serverNow: number): LeaseDocument =>
    nextGeneration(r.key, below.g, below.p, below.d === undefined ? { s: 'h', o: r.owner } : { s: 'h', o: r.owner, d: below.d }, serverNow + clock.uncertaintyMs() + r.leaseMs, serverNow);

  const store: MongoLeaseStore = {
    maxDataBytes: MAX_DATA_BYTES,
    async claim(request, callOptions) {
      return (await claimBatch([checkSizedClaim(request)], callOptions))[0]!;
    },
    async claimMany(requests, callOptions) {
      return claimBatch(checkBatch(requests, checkSizedClaim), callOptions);
    },
    async settle(request, callOptions) {
      return (await settleBatch([checkSizedSettle(request)], callOptions))[0]!;
    },
    async settleMany(requests, callOptions) {
      return settleBatch(checkBatch(requests, checkSizedSettle), callOptions);
    },
    async renew(request, callOptions): Promise<RenewResult> {
      const r = checkRenew(request);
      const written = (await changeBatch(ctx, [r], renewal, callOptions))[0];
      if (written === undefined || written === true) return { renewed: false };
      grants.add(written.doc, written.sentAt);
      // For the holder, the lease ends leaseMs after it sent the renewal: never later than the store's end.
      return { renewed: true, fence: written.doc.g, expiresAt: written.sentAtLocal + r.leaseMs };
    },
    async get(key, callOptions): Promise<LeaseRecord | undefined> {
      const k = checkGetKey(key);
      const { col, probed } = await ready(callOptions?.signal);
      const now = clock.now();
      // A top read by `_id` is the answer when it is live, or young (nothing above it can be missing).
      const { top } = (await reader.locate(col, [k], callOptions, walkRule(probed, now, (t) => live(t, now) !== undefined || young(t, now)))).get(k)!;
      return live(top, clock.now());
    },
    async ensureIndexes(callOptions) {
      const signal = callOptions?.signal;
      throwIfAborted(signal);
      const col = await abortable(Promise.resolve(getCollection()), signal);
      refuseUnacknowledged(owner, col);
      return ensureLeaseIndexes(col, owner, retainMs, signal);
    },
    async probe(callOptions) {
      const { probed } = await ready(callOptions?.signal);
      return { ...probed, serverClock: clock.fromServer() };
    },
    async purge(callOptions) {
      const bounds = purgeBoundsOf('purge', callOptions);
      const { col } = await ready(callOptions?.signal);
      // Fixed for the whole call: a later batch never deletes more than the first could have.
      const cutoff = new Date(clock.now() - clock.uncertaintyMs() - retainMs);
      return purgeInBatches(col, cutoff, bounds, callOptions?.signal);
    },
  };
  // Every call: a server that cannot be reached is a LeaseStoreUnavailableError (store-unavailable.ts).
  const typed = <T>(signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> => typedCall('mongodb', signal, call);
  return {
    ...typedOperations('mongodb', store),
    maxDataBytes: MAX_DATA_BYTES,
    ensureIndexes: (callOptions) => typed(callOptions?.signal, () => store.ensureIndexes(callOptions)),
    probe: (callOptions) => typed(callOptions?.signal, () => store.probe(callOptions)),
    purge: (callOptions) => typed(callOptions?.signal, () => store.purge(callOptions)),
  };
}

