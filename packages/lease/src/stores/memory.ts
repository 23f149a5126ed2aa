/**
 * The lease store in this process's memory, with the same rules as the real stores
 * (generations, retention, expiry): for pure logic tests and local development. Records are
 * not shared between processes.
 */
import { checkKnownKeys, intOption, invalidOption, keysOf, msOption } from '@steadyfn/handler/internal';
import type { CallOptions, ClaimRequest, ClaimResult, LeaseRecord, LeaseStore, RenewRequest, RenewResult, SettleRequest } from '../types.js';
import { checkBatch, checkClaim, checkGetKey, checkRenew, checkSettle } from '../validate.js';
import { throwIfAborted } from '@steadyfn/handler/internal';

/**
 * The brand of an in-process lease store: a registry symbol (`Symbol.for`), so every copy of
 * this package (ESM and CJS, two versions) sets and reads the same one.
 */
const IN_PROCESS = Symbol.for('steadyfn.lease.inProcess');

/**
 * Whether `store` keeps its leases in this process only (`memoryLeaseStore`), so they are not
 * shared with other instances: callers that need a lease every instance sees (the outbox
 * relay) refuse it. Judged by a brand the store carries, not by its class or name; a wrapper
 * that spreads the store keeps the brand.
 *
 * @example
 * isInProcessLeaseStore(memoryLeaseStore()); // true
 * isInProcessLeaseStore(redisLeaseStore({ client })); // false
 */
export function isInProcessLeaseStore(store: unknown): boolean {
  return typeof store === 'object' && store !== null && (store as Record<symbol, unknown>)[IN_PROCESS] === true;
}

/** Options of `memoryLeaseStore`. */
export interface MemoryLeaseStoreOptions {
  /** The clock, in epoch ms (tests move it by hand). @default Date.now */
  now?: () => number;
  /** As the Redis store's `retainMs`: how long a generation is remembered after it stops being live. @default 3_600_000 */
  retainMs?: number;
  /**
   * Most records kept: beyond it, the oldest-written records that are no longer live are
   * forgotten (their fences start again at 1). A live lease or done record is never forgotten;
   * while all are live the store holds more.
   * @default 100_000
   */
  maxRecords?: number;
}

/** A lease store in memory, with `clear()` for tests. */
export interface MemoryLeaseStore extends LeaseStore {
  /** Forgets every record. */
  clear(): void;
}

/** Whether `entry` is what settle `r` makes of the key: generation fence + 1, its owner, done with its data or released. */
function settledBy(entry: Entry, r: SettleRequest): boolean {
  if (entry.fence !== r.fence + 1 || entry.owner !== r.owner) return false;
  return r.data === undefined ? entry.state === 'f' : entry.state === 'd' && entry.data === r.data;
}

interface Entry {
  state: 'h' | 'd' | 'f';
  fence: number;
  /** The holder; for a done or released entry, the owner that settled it (a settle sent again is recognised by it). */
  owner: string;
  data: string | undefined;
  /** Epoch ms until which the record is live. */
  liveUntil: number;
  /** Epoch ms when the entry (and its generation) is forgotten. */
  dropAt: number;
}

/**
 * A lease store in this process's memory. It is branded in-process (see
 * `isInProcessLeaseStore`): the outbox relay refuses it unless told `allowInProcessLease`.
 * @throws ConfigurationError (from `@steadyfn/handler`, code `CONFIG_INVALID`, with the `field` and
 *   what was `expected`) for bad options: not an object, `now` not a function, a bad `retainMs` or `maxRecords`.
 */
export function memoryLeaseStore(options: MemoryLeaseStoreOptions = {}): MemoryLeaseStore {
  if (typeof options !== 'object' || options === null) invalidOption('memoryLeaseStore', 'options', 'an object', options);
  checkKnownKeys('memoryLeaseStore', '', options, keysOf<MemoryLeaseStoreOptions>({ now: true, retainMs: true, maxRecords: true }));
  if (options.now !== undefined && typeof options.now !== 'function') invalidOption('memoryLeaseStore', 'now', 'a function returning epoch milliseconds', options.now);
  const now = options.now ?? Date.now;
  const retainMs = msOption('memoryLeaseStore', 'retainMs', options.retainMs, 3_600_000, 0);
  const maxRecords = intOption('memoryLeaseStore', 'maxRecords', options.maxRecords, 100_000, 1);
  const entries = new Map<string, Entry>();

  const current = (key: string, at: number): Entry | undefined => {
    const entry = entries.get(key);
    if (entry && entry.dropAt <= at) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };

  /**
   * Writes `entry` as the key's newest. Beyond `maxRecords`, forgets the oldest-written records
   * that are no longer live (released, or past their lease or keep time), never a live one: a
   * live lease forgotten would let the next claim take the key at fence 1 while its holder runs
   * (two holders), and a done record forgotten would let its work run again. While every record
   * is live, the store holds more than `maxRecords`.
   */
  const put = (key: string, entry: Entry): void => {
    entries.delete(key);
    entries.set(key, entry);
    if (entries.size <= maxRecords) return;
    const at = now();
    for (const [k, e] of entries) {
      if (entries.size <= maxRecords) break;
      if (e.state === 'f' || e.liveUntil <= at) entries.delete(k);
    }
  };

  const view = (entry: Entry, at: number): LeaseRecord | undefined => {
    if (entry.state === 'f' || entry.liveUntil <= at) return undefined;
    if (entry.state === 'd') return { state: 'done', fence: entry.fence, expiresAt: entry.liveUntil, data: entry.data ?? '' };
    const held: LeaseRecord = { state: 'held', fence: entry.fence, owner: entry.owner, expiresAt: entry.liveUntil };
    if (entry.data !== undefined) held.data = entry.data;
    return held;
  };

  const claim = (r: ClaimRequest): ClaimResult => {
    const at = now();
    const entry = current(r.key, at);
    const live = entry && view(entry, at);
    if (live) return { claimed: false, record: live };
    const fence = (entry?.fence ?? 0) + 1;
    put(r.key, { state: 'h', fence, owner: r.owner, data: r.data, liveUntil: at + r.leaseMs, dropAt: at + r.leaseMs + retainMs });
    return { claimed: true, fence, expiresAt: at + r.leaseMs };
  };

  /**
   * Settles a held key (generation fence + 1, done or released, naming its settling owner); when
   * the key is not held at `fence` by `owner`, answers true (writing nothing) if it already is
   * what this settle makes of it — this settle sent again, as the Redis store's
   * `steadyfn_lease_settle_once` answers. A release with `retainMs` 0 dropped the key: false.
   */
  const settle = (r: SettleRequest): boolean => {
    const at = now();
    const entry = current(r.key, at);
    if (!entry || entry.state !== 'h' || entry.fence !== r.fence || entry.owner !== r.owner) return entry !== undefined && settledBy(entry, r);
    const liveUntil = r.data === undefined ? at : at + r.keepMs!;
    put(r.key, { state: r.data === undefined ? 'f' : 'd', fence: entry.fence + 1, owner: r.owner, data: r.data, liveUntil, dropAt: liveUntil + retainMs });
    return true;
  };

  const renew = (r: RenewRequest): RenewResult => {
    const at = now();
    const entry = current(r.key, at);
    if (!entry || entry.state !== 'h' || entry.fence !== r.fence || entry.owner !== r.owner) return { renewed: false };
    put(r.key, { ...entry, fence: entry.fence + 1, liveUntil: at + r.leaseMs, dropAt: at + r.leaseMs + retainMs });
    return { renewed: true, fence: entry.fence + 1, expiresAt: at + r.leaseMs };
  };

  const guard = (options: CallOptions | undefined): void => throwIfAborted(options?.signal);

  const store: MemoryLeaseStore = {
    async claim(request, callOptions) {
      guard(callOptions);
      return claim(checkClaim(request));
    },
    async claimMany(requests, callOptions) {
      guard(callOptions);
      return checkBatch(requests, checkClaim).map(claim);
    },
    async settle(request, callOptions) {
      guard(callOptions);
      return settle(checkSettle(request));
    },
    async settleMany(requests, callOptions) {
      guard(callOptions);
      return checkBatch(requests, checkSettle).map(settle);
    },
    async renew(request, callOptions) {
      guard(callOptions);
      return renew(checkRenew(request));
    },
    async get(key, callOptions) {
      guard(callOptions);
      const at = now();
      const entry = current(checkGetKey(key), at);
      return entry && view(entry, at);
    },
    clear() {
      entries.clear();
    },
  };
  // Enumerable, so a wrapper that spreads the store carries it along.
  (store as unknown as Record<symbol, unknown>)[IN_PROCESS] = true;
  return store;
}
