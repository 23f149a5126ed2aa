/**
 * The options of `idempotency()`, checked once when the plugin is made, and the settings every
 * hook reads from them (`Settings`: one object per plugin instance, never one per invocation).
 */
import type { SteadyError } from '@steadyfn/handler';
import { checkKnownKeys, intOption, invalidOption, isRecord, keysOf, msOption, oneOfOption, stringOption } from '@steadyfn/handler/internal';
import { MAX_DURATION_MS } from '@steadyfn/lease/internal';
import type { KeySource, ScopeSource } from './key.js';
import { LocalCache } from './lru.js';
import { noticesOf, type TakeNotice } from './stores/notices.js';
import type { IdempotencyStore } from './types.js';

/** Bounds of the in-memory cache of completed records. */
export interface LocalCacheOptions {
  /** Most completed records kept in memory. @default 1000 */
  maxEntries?: number;
  /** Most bytes of stored results kept in memory, counted as UTF-8. @default 8388608 (8 MiB) */
  maxBytes?: number;
}

/** Options of `idempotency()`. Durations are whole milliseconds. */
export interface IdempotencyOptions {
  /** Where records live: `redisStore(...)`, `mongoStore(...)`, or `memoryStore()` for tests. */
  store: IdempotencyStore;
  /** Where the key comes from; see `KeySource`. HTTP GET, HEAD, OPTIONS and TRACE never have one: they always run. @default 'auto' */
  key?: KeySource;
  /**
   * When no key can be found (`key: 'header'` without the header, or a key function that
   * returns nothing): `true` answers 400 `IDEMPOTENCY_KEY_MISSING`; `false` runs the
   * function without idempotency.
   * @default true
   */
  required?: boolean;
  /**
   * How long a completed result is replayed, in ms (e.g. `24 * 3_600_000`). Required; at most
   * 10^12 (about 31 years), the longest keep time the lease stores accept.
   */
  ttlMs: number;
  /**
   * Longest a running invocation holds its key, in ms. Unset, the key is held until the
   * invocation's deadline (`ctx.deadline`: Lambda's remaining time, OpenWhisk's
   * `__OW_DEADLINE`, Azure's `timeoutMs`, GCF's configured timeout), as long as the function
   * can run, so a duplicate can never take over a run that is still going; with no deadline
   * known (`ctx.deadline` infinite: GCF without a timeout variable, `invoke()` without one) for
   * 300000 ms (5 minutes), warning `IDEMPOTENCY_LEASE_NO_DEADLINE` once per plugin instance
   * (not for `invoke()`). Set, it is capped by the deadline too, so a killed attempt's key
   * frees itself; one shorter than an invocation's remaining time warns
   * `IDEMPOTENCY_LEASE_SHORT` once per plugin instance: a run that outlasts it loses its key
   * and a retry may run alongside it (`allowShortLease: true` says the short lease is meant and
   * silences it). Set, it never warns `IDEMPOTENCY_LEASE_NO_DEADLINE`: `leaseMs: 300_000` keeps
   * the 5 minutes and says so. The lease is not renewed while the function runs. At most
   * 10^12 (about 31 years), the longest lease the lease stores accept.
   * @default the invocation's deadline (300000, 5 minutes, when none is known)
   */
  leaseMs?: number;
  /**
   * `true` says a `leaseMs` shorter than the invocations' deadline is meant — a function whose
   * effect is known to finish well within it, whose key a crashed attempt should free quickly
   * — and silences the `IDEMPOTENCY_LEASE_SHORT` warning. The lease is the same either way: a
   * run that outlasts `leaseMs` still loses its key. `true` without `leaseMs` is refused
   * (`CONFIG_INVALID`): with no `leaseMs` there is no short lease to allow (to silence
   * `IDEMPOTENCY_LEASE_NO_DEADLINE`, set `leaseMs`).
   * @default false
   * @example
   * idempotency({ store, ttlMs: 86_400_000, leaseMs: 10_000, allowShortLease: true });
   */
  allowShortLease?: boolean;
  /**
   * A duplicate that arrives while the first is still running: `'reject'` answers 409 with
   * `Retry-After` (retryable, so a queue redelivers it later); `'wait'` polls until the first
   * finishes — up to the duplicate's own deadline (less the handler's margin), whatever the
   * lease — and replays its result, or runs itself if the first gave its record up.
   * @default 'reject'
   */
  onConcurrent?: 'reject' | 'wait';
  /**
   * Whether a failure is stored and replayed. `false` releases the record so a retry runs
   * again. `true` stores terminal (non-retryable) errors; retryable ones are always released,
   * since storing them would turn every retry into the same failure. A function decides per error,
   * synchronously; one that throws or returns anything but a boolean (a Promise: it cannot be
   * `async`; a truthy value such as `1` or `'yes'` too) counts as `false` (the record released,
   * the function's own error answered, warning `IDEMPOTENCY_CACHE_ERRORS_FAILED` logged: each
   * time for one that throws, once per plugin instance for one that returns no boolean). A
   * rejected Promise from an `async` one is caught, never an unhandled rejection.
   * `504 DEADLINE_EXCEEDED` is never stored, whatever a function says: the function (or work it
   * raced against a timer) may still be running, so its record is left to its lease. Nor is
   * `503 NOT_PROCESSED`, the core's error for a message of an ordered batch (an SQS FIFO queue)
   * that never ran after an earlier one failed: its record is released, so its redelivery runs it.
   * Nor is any failure of a batch message whose function never ran (another plugin's
   * `beforeBatch` threw, its input failed validation): not the function's, it is released.
   * An HTTP response the function returns with a status that asks for a retry (any 5xx, 429,
   * 408) is a retryable failure too: released under `true`; a function is shown it as a
   * `SteadyError` with code `IDEMPOTENCY_RESPONSE_RETRYABLE` and the response's status, and
   * `true` stores the response (see cache-errors.ts).
   * @default false
   */
  cacheErrors?: boolean | ((error: SteadyError) => boolean);
  /**
   * In-memory cache of completed records: a warm replay makes no store call. Any other value
   * than a boolean or an options object is refused (`CONFIG_INVALID`).
   * @default true
   */
  localCache?: boolean | LocalCacheOptions;
  /**
   * Names the records' scope instead of the function name (e.g. to share records across
   * deployments). A non-blank string without leading or trailing whitespace: empty, whitespace
   * only or padded (`' orders'`) is refused (`CONFIG_INVALID`).
   * @default the function name
   */
  namespace?: string;
  /**
   * Whose records an HTTP request's key belongs to (see `ScopeSource`): `'principal'` keeps
   * each authenticated caller's keys apart (`ctx.principal`, hashed into the store key), so a
   * caller never gets another caller's stored answer; `'none'` shares keys across callers; a
   * function names the scope. Queue, stream and event triggers are never scoped.
   * @default 'principal'
   * @example
   * idempotency({ store, ttlMs: 86_400_000, scope: (ctx) => (ctx.input as { tenantId: string }).tenantId });
   */
  scope?: ScopeSource;
}

/** The checked options, shared by the hooks' modules (claim.ts, settle.ts, batch.ts) as one explicit argument. */
export interface Settings {
  readonly store: IdempotencyStore;
  readonly source: KeySource;
  readonly required: boolean;
  readonly ttlMs: number;
  /** Undefined: the lease follows the invocation's deadline (`leaseUntil` in claim.ts). */
  readonly leaseMs: number | undefined;
  readonly waitForFirst: boolean;
  readonly cacheErrors: boolean | ((error: SteadyError) => boolean);
  readonly namespace: string | undefined;
  readonly scope: ScopeSource;
  /** Undefined with `localCache: false`. */
  readonly local: LocalCache | undefined;
  /** Function name (or namespace) → its scope hash, at most 64 kept (see `scopeFor` in claim.ts). */
  readonly scopes: Map<string, string>;
  /** The store's notices to log once (`LEASE_STORE_EVICTS` of `redisStore`); undefined for a store without. */
  readonly notices: TakeNotice | undefined;
  /** Configuration bugs already warned about, so each is logged once per plugin instance (`shouldCache`). */
  readonly noted: { cacheErrorsNotBoolean: boolean; leaseShort: boolean; noDeadline: boolean };
}

// Unknown keys are refused: a typo or a pre-`…Ms` name (`ttl`) would leave the default in force.
const OPTION_KEYS = keysOf<IdempotencyOptions>({
  store: true,
  key: true,
  required: true,
  ttlMs: true,
  leaseMs: true,
  allowShortLease: true,
  onConcurrent: true,
  cacheErrors: true,
  localCache: true,
  namespace: true,
  scope: true,
});
const LOCAL_CACHE_KEYS = keysOf<LocalCacheOptions>({ maxEntries: true, maxBytes: true });

/** Refuses a store missing one of the methods the hooks call, when the plugin is made rather than mid-invocation. */
function checkStore(store: unknown): IdempotencyStore {
  const s = store as Partial<IdempotencyStore> | null | undefined;
  const methods = ['claim', 'claimMany', 'complete', 'release', 'completeMany', 'get'] as const;
  if (typeof s !== 'object' || s === null || methods.some((m) => typeof s[m] !== 'function')) {
    invalidOption('idempotency', 'store', 'an IdempotencyStore: redisStore(...), mongoStore(...) or memoryStore()', store);
  }
  return s as IdempotencyStore;
}

/** Checks `idempotency()`'s options (ConfigurationError `CONFIG_INVALID` on the first bad one) and fills in the defaults. */
export function settingsOf(options: IdempotencyOptions): Settings {
  if (typeof options !== 'object' || options === null) invalidOption('idempotency', 'options', 'an options object', options);
  checkKnownKeys('idempotency', '', options, OPTION_KEYS);
  // Anything else (`'false'` from an environment variable, `0`, `null`) would leave the cache on.
  const localCache: unknown = options.localCache;
  if (localCache !== undefined && typeof localCache !== 'boolean' && !isRecord(localCache)) {
    invalidOption('idempotency', 'localCache', 'true, false or { maxEntries?, maxBytes? }', localCache);
  }
  checkKnownKeys('idempotency', 'localCache', options.localCache, LOCAL_CACHE_KEYS);
  const store = checkStore(options.store);
  // `null` is refused like every other option's, not read as the default: `key: null` or
  // `scope: null` would otherwise read as "no key" / "no scope" and get 'auto' / 'principal'.
  const source = options.key === undefined ? 'auto' : options.key;
  if (typeof source !== 'function' && source !== 'auto' && source !== 'header' && source !== 'input') {
    invalidOption('idempotency', 'key', '"auto", "header", "input" or a function (ctx) => string | undefined', source);
  }
  const required = oneOfOption('idempotency', 'required', options.required, [true, false], true);
  if (options.ttlMs === undefined) invalidOption('idempotency', 'ttlMs', `a whole number of milliseconds ≥ 1 and ≤ ${MAX_DURATION_MS}`, undefined);
  // Longer ones pass here but every claim or completion would be refused by the lease store.
  const ttlMs = msOption('idempotency', 'ttlMs', options.ttlMs, 0, 1, MAX_DURATION_MS);
  const leaseMs = options.leaseMs === undefined ? undefined : msOption('idempotency', 'leaseMs', options.leaseMs, 0, 1, MAX_DURATION_MS);
  const allowShortLease = oneOfOption('idempotency', 'allowShortLease', options.allowShortLease, [true, false], false);
  if (allowShortLease && leaseMs === undefined) {
    invalidOption('idempotency', 'allowShortLease', 'false or unset while leaseMs is unset (true allows a leaseMs shorter than the deadline; setting leaseMs is what silences IDEMPOTENCY_LEASE_NO_DEADLINE)', true);
  }
  const waitForFirst = oneOfOption('idempotency', 'onConcurrent', options.onConcurrent, ['reject', 'wait'] as const, 'reject') === 'wait';
  const cacheErrors = options.cacheErrors === undefined ? false : options.cacheErrors;
  if (typeof cacheErrors !== 'boolean' && typeof cacheErrors !== 'function') invalidOption('idempotency', 'cacheErrors', 'a boolean or (error) => boolean', cacheErrors);
  const namespace = options.namespace === undefined ? undefined : stringOption('idempotency', 'namespace', options.namespace);
  // A blank one (an unset variable padded with spaces) would scope records to nothing anyone
  // meant; a padded one (' orders', from a template or a .env line) to another scope than the
  // 'orders' every other deployment names: each would run the other's retries again.
  if (namespace !== undefined && (namespace.trim() === '' || namespace.trim() !== namespace)) {
    invalidOption('idempotency', 'namespace', 'a non-blank string without leading or trailing whitespace', namespace);
  }
  const scope = options.scope === undefined ? 'principal' : options.scope;
  if (typeof scope !== 'function' && scope !== 'principal' && scope !== 'none') {
    invalidOption('idempotency', 'scope', '"principal", "none" or a function (ctx) => string | undefined', scope);
  }
  const cacheOptions = isRecord(localCache) ? (localCache as LocalCacheOptions) : {};
  const local =
    options.localCache === false
      ? undefined
      : new LocalCache(
          intOption('idempotency', 'localCache.maxEntries', cacheOptions.maxEntries, 1000, 1),
          intOption('idempotency', 'localCache.maxBytes', cacheOptions.maxBytes, 8 * 1024 * 1024, 1),
        );
  return {
    store, source, required, ttlMs, leaseMs, waitForFirst, cacheErrors, namespace, scope, local, scopes: new Map<string, string>(),
    // An allowed short lease counts as already said: `leaseUntil` of
    // `@steadyfn/lease/internal` then never says it, whatever version of it is installed.
    notices: noticesOf(store),
    noted: { cacheErrorsNotBoolean: false, leaseShort: allowShortLease, noDeadline: false },
  };
}
