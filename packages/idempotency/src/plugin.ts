/**
 * `idempotency({ store, ttlMs, ... })`: a repeated invocation replays the first one's result
 * instead of running its effects again.
 *
 *   first call:     claim (1 store call) -> run -> complete (1 store call)
 *   duplicate:      claim finds the completed record (1 store call) -> replay
 *   warm duplicate: local cache (0 store calls) -> replay
 *   batch:          one claim round trip for all messages, one complete round trip
 *
 * Per-invocation bookkeeping lives in the plugin's state slot (the core makes one per
 * invocation and hands it to every hook), never in module state. While it holds the record the
 * state is also reachable from `ctx` for `pendingCompletion` (see `join.ts`): another plugin's
 * atomic write may carry the completion, and the plugin then skips its own.
 */
import type { Context, Plugin, SteadyError } from '@steadyfn/handler';
import { checkKnownKeys, intOption, invalidOption, keysOf, msOption, oneOfOption, sleep, stringOption } from '@steadyfn/handler/internal';
import { settleLater as retrySettle } from '@steadyfn/lease/internal';
import { IdempotencyInProgressError, IdempotencyKeyMissingError, IdempotencyKeyReusedError, IdempotencyStoreUnavailableError } from './errors.js';
import { callerScope, fingerprintOf, resolveKey, runsWithoutKey, resolveKeyEarly, scopeOf, storeKey, type KeySource, type ResolvedKey, type ScopeSource } from './key.js';
import { LocalCache, type LocalEntry } from './lru.js';
import { newOwner } from './owner.js';
import { decodeStored, encodeStored, errorStored, replay, replayTooLarge, resultStored, type StoredResult } from './record.js';
import { isCompleteRequest, type ClaimRequest, type ClaimResult, type CompleteRequest, type IdempotencyStore, type ReleaseRequest, type StoredRecord } from './types.js';
import { JOIN, isRequestAlreadyApplied, type Joinable, type PendingCompletion } from './join.js';

/** Bounds of the in-memory cache of completed records. */
export interface LocalCacheOptions {
  /** Most completed records kept in memory. @default 1000 */
  maxEntries?: number;
  /** Most bytes of stored results kept in memory. @default 8388608 (8 MiB) */
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
  /** How long a completed result is replayed, in ms (e.g. `24 * 3_600_000`). Required. */
  ttlMs: number;
  /**
   * Longest a running invocation holds its key, in ms; also capped by the invocation's
   * deadline, so a killed attempt's key frees itself.
   * @default 300000 (5 minutes)
   */
  leaseMs?: number;
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
   * since storing them would turn every retry into the same failure. A function decides per error.
   * @default false
   */
  cacheErrors?: boolean | ((error: SteadyError) => boolean);
  /** In-memory cache of completed records: a warm replay makes no store call. @default true */
  localCache?: boolean | LocalCacheOptions;
  /** Names the records' scope instead of the function name (e.g. to share records across deployments). @default the function name */
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

/**
 * The plugin's state for one invocation (made fresh by the core for each invocation and each
 * message of a batch). Opaque to users.
 */
export interface IdempotencyState {
  /** The store key, once resolved. */
  key?: string;
  fingerprint?: string;
  /** Set while this invocation holds the record. */
  owner?: string;
  /** When the lease this invocation claimed ends (epoch ms, this process's clock), with `owner`. */
  leaseUntil?: number;
  /** What a batch claim found instead of claiming. */
  existing?: StoredRecord;
  /** Completion waits for `afterBatch`. */
  batch: boolean;
  /** In a batch, the key needs the validated input, so `before` claims it. */
  keyInBefore: boolean;
  /** Completion or release queued for `afterBatch`. */
  pending?: CompleteRequest | ReleaseRequest;
  /**
   * In a batch, the keys its messages claimed (one set shared by the batch's states): a
   * record held under one of them completes only in `afterBatch`, after every message ran.
   */
  batchClaims?: Set<string>;
  settled: boolean;
  /** Another write carried the completion (`PendingCompletion.joined`). */
  joined?: boolean;
  /** The plugin's side of `pendingCompletion` (one per plugin, shared by its states). */
  readonly join: Joiner;
}

/** Builds `PendingCompletion`s for one plugin instance. */
interface Joiner {
  completion(state: IdempotencyState, result: unknown): PendingCompletion | undefined;
}

const DEFAULT_LEASE_MS = 5 * 60_000;
// Unknown keys are refused: a typo or a pre-`…Ms` name (`ttl`) would leave the default in force.
const OPTION_KEYS = keysOf<IdempotencyOptions>({
  store: true,
  key: true,
  required: true,
  ttlMs: true,
  leaseMs: true,
  onConcurrent: true,
  cacheErrors: true,
  localCache: true,
  namespace: true,
  scope: true,
});
const LOCAL_CACHE_KEYS = keysOf<LocalCacheOptions>({ maxEntries: true, maxBytes: true });

function checkStore(store: unknown): IdempotencyStore {
  const s = store as Partial<IdempotencyStore> | null | undefined;
  const methods = ['claim', 'claimMany', 'complete', 'release', 'completeMany', 'get'] as const;
  if (typeof s !== 'object' || s === null || methods.some((m) => typeof s[m] !== 'function')) {
    invalidOption('idempotency', 'store', 'an IdempotencyStore: redisStore(...), mongoStore(...) or memoryStore()', store);
  }
  return s as IdempotencyStore;
}

/**
 * The idempotency plugin.
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) when an option is invalid, e.g.
 *   `idempotency(): option "ttlMs" must be a whole number of milliseconds ≥ 1; got -1`.
 * @example
 * handler({ use: [idempotency({ store: redisStore({ client: redis }), ttlMs: 24 * 3_600_000 })] }, fn);
 */
export function idempotency(options: IdempotencyOptions): Plugin<{}, IdempotencyState> {
  if (typeof options !== 'object' || options === null) invalidOption('idempotency', 'options', 'an options object', options);
  checkKnownKeys('idempotency', '', options, OPTION_KEYS);
  checkKnownKeys('idempotency', 'localCache', options.localCache, LOCAL_CACHE_KEYS);
  const store = checkStore(options.store);
  const source = options.key ?? 'auto';
  if (typeof source !== 'function') oneOfOption('idempotency', 'key', source, ['auto', 'header', 'input'] as const, 'auto');
  const required = oneOfOption('idempotency', 'required', options.required, [true, false], true);
  if (options.ttlMs === undefined) invalidOption('idempotency', 'ttlMs', 'a whole number of milliseconds ≥ 1', undefined);
  const ttlMs = msOption('idempotency', 'ttlMs', options.ttlMs, 0);
  const leaseMs = msOption('idempotency', 'leaseMs', options.leaseMs, DEFAULT_LEASE_MS);
  const waitForFirst = oneOfOption('idempotency', 'onConcurrent', options.onConcurrent, ['reject', 'wait'] as const, 'reject') === 'wait';
  const cacheErrors = options.cacheErrors ?? false;
  if (typeof cacheErrors !== 'boolean' && typeof cacheErrors !== 'function') invalidOption('idempotency', 'cacheErrors', 'a boolean or (error) => boolean', cacheErrors);
  const namespace = options.namespace === undefined ? undefined : stringOption('idempotency', 'namespace', options.namespace);
  const scope = options.scope ?? 'principal';
  if (typeof scope !== 'function') oneOfOption('idempotency', 'scope', scope, ['principal', 'none'] as const, 'principal');
  const cacheOptions = typeof options.localCache === 'object' && options.localCache !== null ? options.localCache : {};
  const local =
    options.localCache === false
      ? undefined
      : new LocalCache(
          intOption('idempotency', 'localCache.maxEntries', cacheOptions.maxEntries, 1000, 1),
          intOption('idempotency', 'localCache.maxBytes', cacheOptions.maxBytes, 8 * 1024 * 1024, 1),
        );
  const scopes = new Map<string, string>();

  const scopeFor = (ctx: Context): string => {
    const name = namespace ?? ctx.functionName;
    let scope = scopes.get(name);
    if (scope === undefined) {
      scope = scopeOf(name);
      if (scopes.size < 64) scopes.set(name, scope);
    }
    return scope;
  };

  const leaseUntil = (ctx: Context, now: number): number => Math.min(ctx.deadline, now + leaseMs);

  const shouldCache = (error: SteadyError): boolean => {
    if (typeof cacheErrors === 'function') return cacheErrors(error);
    return cacheErrors && !error.retryable;
  };

  const remember = (key: string, entry: LocalEntry): void => {
    local?.set(key, entry);
  };

  const storeUnavailable = (error: unknown): SteadyError =>
    // A call cut off by the deadline is the deadline's error, not the store's.
    error instanceof Error && error.name === 'DeadlineExceededError' ? (error as SteadyError) : new IdempotencyStoreUnavailableError(error);

  /** A completed record answers; an in-progress one is a 409 (or a wait); a different payload is a 422. */
  // Not async: a completed record is answered without another promise on the duplicate path.
  const answerExisting = (ctx: Context, state: IdempotencyState, record: StoredRecord): { answer: unknown } | Promise<void | { answer: unknown }> => {
    // An empty fingerprint is a record the store could not read: never replayed, never a 422.
    if (record.fingerprint !== state.fingerprint && record.fingerprint !== '') throw new IdempotencyKeyReusedError();
    if (record.status === 'completed') {
      remember(state.key!, { fingerprint: record.fingerprint, result: record.result, expiresAt: record.expiresAt });
      return { answer: replay(decodeStored(record.result)) };
    }
    // Held by another message of this batch: its completion waits for `afterBatch`, which runs
    // only once this message is done, so a wait would last until the deadline.
    if (!waitForFirst || state.batchClaims?.has(state.key!)) throw new IdempotencyInProgressError();
    return waitForCompletion(ctx, state);
  };

  /**
   * Polls until the first invocation completes (replay) or gives its record up (run
   * ourselves). Bounded by this invocation's deadline: `ctx.signal` aborts at the deadline less
   * the handler's margin, whatever the first one's lease.
   */
  const waitForCompletion = async (ctx: Context, state: IdempotencyState): Promise<void | { answer: unknown }> => {
    const signal = ctx.signal;
    let delay = 20;
    for (let round = 0; round < 100_000 && !signal.aborted; round++) {
      await sleep(delay, signal);
      if (signal.aborted) break;
      delay = Math.min(delay * 2, 250);
      let record: StoredRecord | undefined;
      try {
        record = await store.get(state.key!, { signal });
      } catch (error) {
        throw storeUnavailable(error);
      }
      if (record === undefined) {
        const claimed = await claimOne(ctx, state);
        if (claimed.claimed) return;
        record = claimed.record;
      }
      if (record.status === 'completed') return answerExisting(ctx, state, record);
      if (record.fingerprint !== state.fingerprint && record.fingerprint !== '') throw new IdempotencyKeyReusedError();
      // Claimed meanwhile by another message of this batch (they run concurrently): see answerExisting.
      if (state.batchClaims?.has(state.key!)) break;
    }
    throw new IdempotencyInProgressError();
  };

  // A plain `then`, not an async function: one promise fewer on every claim.
  const claimOne = (ctx: Context, state: IdempotencyState): Promise<ClaimResult> => {
    const owner = newOwner();
    const until = leaseUntil(ctx, Date.now());
    let pending: Promise<ClaimResult>;
    try {
      pending = Promise.resolve(store.claim({ key: state.key!, owner, fingerprint: state.fingerprint!, leaseUntil: until }, { signal: ctx.signal }));
    } catch (error) {
      return Promise.reject(storeUnavailable(error));
    }
    return pending.then(
      (result) => {
        if (result.claimed) {
          state.owner = owner;
          state.leaseUntil = until;
          // Known to the batch's other messages before any of them reads the claim's answer.
          state.batchClaims?.add(state.key!);
        }
        return result;
      },
      (error: unknown) => {
        throw storeUnavailable(error);
      },
    );
  };

  const fromLocal = (state: IdempotencyState): { answer: unknown } | undefined => {
    const hit = local?.get(state.key!);
    if (!hit) return undefined;
    if (hit.fingerprint !== state.fingerprint) throw new IdempotencyKeyReusedError();
    return { answer: replay(decodeStored(hit.result)) };
  };

  const resolveInto = (ctx: Context, state: IdempotencyState, key: ResolvedKey): void => {
    state.key = storeKey(scopeFor(ctx), key, callerScope(ctx, scope));
    state.fingerprint = fingerprintOf(ctx, key);
  };

  /**
   * Completes (or releases) now, or queues it for `afterBatch`. Never throws: the effects
   * already happened. No `ctx.signal` here: a completion is worth finishing even after the
   * answer (the record then replays instead of running twice); the core stops waiting for it
   * at the deadline.
   */
  const settle = async (ctx: Context, state: IdempotencyState, stored: StoredResult | string | undefined): Promise<void> => {
    const owner = state.owner!;
    state.settled = true;
    let request: CompleteRequest | ReleaseRequest = { key: state.key!, owner };
    if (stored !== undefined) {
      try {
        request = { key: state.key!, owner, fingerprint: state.fingerprint!, result: typeof stored === 'string' ? stored : encodeStored(stored), expiresAt: Date.now() + ttlMs };
      } catch {
        // Not storable as JSON: release, so a retry runs again rather than replaying nothing.
        ctx.log.warn('idempotency result is not JSON-serialisable; record released', { code: 'IDEMPOTENCY_RESULT_NOT_STORABLE' });
      }
    }
    if (state.batch) {
      state.pending = request;
      return;
    }
    try {
      const ok = isCompleteRequest(request) ? await store.complete(request) : await store.release(request);
      if (!ok) lostLease(ctx);
      else if (isCompleteRequest(request)) remember(state.key!, { fingerprint: request.fingerprint, result: request.result, expiresAt: request.expiresAt });
    } catch (error) {
      logStoreFailure(ctx, error);
      if ((error as { retryable?: unknown } | null)?.retryable !== false) void settleLater(ctx, request, state.leaseUntil ?? 0).catch(() => undefined);
    }
  };

  /**
   * A completion (or release) whose store call failed, repeated in the background while the
   * lease this invocation claimed lasts (`settleLater` of `@steadyfn/lease/internal`: backing
   * off 50 ms → 500 ms, stopping at a non-retryable error), without holding the answer. A store
   * that restarts under a completion — a Redis that keeps its data, reached through a client
   * that fails at once while disconnected (the `@steadyfn/connections` profile) — would
   * otherwise leave the record to expire, and the retry would run the function's effects again.
   * Repeating is safe: the store settles only the owner's generation, so a completion applied
   * before its answer was lost is refused the second time (and then read back).
   */
  const settleLater = async (ctx: Context, request: CompleteRequest | ReleaseRequest, until: number): Promise<void> => {
    const settled = await retrySettle(async () => {
      const ok = isCompleteRequest(request) ? await store.complete(request) : await store.release(request);
      if (ok && isCompleteRequest(request)) remember(request.key, { fingerprint: request.fingerprint, result: request.result, expiresAt: request.expiresAt });
      if (!ok && !(await appliedBefore(request))) lostLease(ctx);
    }, until);
    // A release given up costs nothing (the record frees itself when the lease ends); a
    // completion given up means a retry after the lease runs the function's effects again.
    if (!settled && isCompleteRequest(request)) completionAbandoned(ctx);
  };

  /** Whether a settle whose answer was lost took effect: the record holds its result (or, for a release, is gone). */
  const appliedBefore = async (request: CompleteRequest | ReleaseRequest): Promise<boolean> => {
    const record = await store.get(request.key);
    if (!isCompleteRequest(request)) return record === undefined;
    return record?.status === 'completed' && record.fingerprint === request.fingerprint && record.result === request.result;
  };

  const lostLease = (ctx: Context): void => {
    ctx.log.warn('idempotency record was taken over or expired before this invocation finished', { code: 'IDEMPOTENCY_LEASE_LOST' });
  };

  const completionAbandoned = (ctx: Context): void => {
    ctx.log.error('idempotency record could not be completed before its lease ended; a retry will run the function again', {
      code: 'IDEMPOTENCY_COMPLETION_ABANDONED',
    });
  };

  const logStoreFailure = (ctx: Context, error: unknown): void => {
    // The function's effects happened; failing now would make the provider run them again.
    // A store error marked not retryable is not tried again: the line must not promise it.
    const retried = (error as { retryable?: unknown } | null)?.retryable !== false;
    ctx.log.error(retried ? 'idempotency record could not be completed; retried until its lease ends' : 'idempotency record could not be completed; the store refused it, not retried', {
      code: 'IDEMPOTENCY_STORE_UNAVAILABLE',
      cause: error instanceof Error ? error.name : typeof error,
    });
  };

  const join: Joiner = {
    completion(state, result) {
      if (!state.owner || state.settled) return undefined;
      let request: CompleteRequest;
      const stored = resultStored(result);
      try {
        request = { key: state.key!, owner: state.owner, fingerprint: state.fingerprint!, result: encodeStored(stored), expiresAt: Date.now() + ttlMs };
      } catch {
        // Not storable as JSON: the plugin releases the record after the write, as without a join.
        return undefined;
      }
      // Refused before the write carries it, as the plugin's own `after` would refuse it.
      const tooLarge = replayTooLarge(result, stored);
      if (tooLarge !== undefined) throw tooLarge;
      const joinable = store.joinable?.(request);
      return {
        key: state.key!,
        answer: request.result,
        lease: joinable && { store: joinable.lease, settle: joinable.settle },
        joined() {
          if (state.settled) return;
          state.settled = true;
          state.joined = true;
          joinable?.settled();
          remember(request.key, { fingerprint: request.fingerprint, result: request.result, expiresAt: request.expiresAt });
        },
      };
    },
  };

  /** Makes the state reachable from `ctx` for `pendingCompletion` while this plugin may hold the record. */
  const expose = (ctx: Context, state: IdempotencyState): void => {
    (ctx as unknown as Record<symbol, Joinable>)[JOIN] = state;
  };

  return {
    name: 'idempotency',

    state: () => ({ batch: false, keyInBefore: false, settled: false, join }),

    async beforeBatch(ctxs, states) {
      const claims: Array<{ state: IdempotencyState; request: ClaimRequest }> = [];
      const firstByKey = new Map<string, IdempotencyState>();
      const batchClaims = new Set<string>();
      const now = Date.now();
      ctxs.forEach((ctx, i) => {
        const state = states[i]!;
        state.batch = true;
        state.batchClaims = batchClaims;
        let key: ResolvedKey | undefined;
        try {
          key = resolveKeyEarly(ctx, source);
        } catch {
          // A bad key fails this message alone, in `before`, not the whole batch.
          key = undefined;
        }
        if (!key) {
          // The key needs the validated input: `before` claims this one; `afterBatch` completes it.
          state.keyInBefore = true;
          return;
        }
        resolveInto(ctx, state, key);
        const cached = local?.get(state.key!);
        if (cached) {
          state.existing = { status: 'completed', fingerprint: cached.fingerprint, result: cached.result, expiresAt: cached.expiresAt };
          return;
        }
        const twin = firstByKey.get(state.key!);
        if (twin) {
          // The same message twice in one batch: the first runs, the second meets it running.
          state.existing = { status: 'in_progress', fingerprint: twin.fingerprint!, leaseUntil: leaseUntil(ctx, now) };
          return;
        }
        firstByKey.set(state.key!, state);
        const owner = newOwner();
        state.owner = owner;
        claims.push({ state, request: { key: state.key!, owner, fingerprint: state.fingerprint!, leaseUntil: leaseUntil(ctx, now) } });
      });
      if (claims.length === 0) return;
      const signal = ctxs[0]!.signal;
      let results: ClaimResult[];
      try {
        results = claims.length === 1 ? [await store.claim(claims[0]!.request, { signal })] : await store.claimMany(claims.map((c) => c.request), { signal });
      } catch (error) {
        for (const { state } of claims) delete state.owner;
        throw storeUnavailable(error);
      }
      claims.forEach(({ state }, i) => {
        const result = results[i]!;
        if (result.claimed) {
          batchClaims.add(state.key!);
          // How long a completion that failed may be retried (`settleLater`), as for one message.
          state.leaseUntil = claims[i]!.request.leaseUntil;
        } else {
          delete state.owner;
          state.existing = result.record;
        }
      });
    },

    async before(ctx, state) {
      expose(ctx, state);
      if (state.owner) return;
      if (state.existing) return answerExisting(ctx, state, state.existing);
      // A read, or a tick with no identity of its own: nothing to do only once (see runsWithoutKey).
      if (runsWithoutKey(ctx, source)) return;
      const key = resolveKey(ctx, source);
      if (!key) {
        if (required) throw new IdempotencyKeyMissingError(ctx.trigger.kind === 'http');
        return;
      }
      resolveInto(ctx, state, key);
      const cached = fromLocal(state);
      if (cached) return cached;
      const result = await claimOne(ctx, state);
      if (result.claimed) return;
      return answerExisting(ctx, state, result.record);
    },

    async after(ctx, result, state) {
      // A joined write completed the record with this result: the answer is still the stored form.
      if (!state.owner || (state.settled && !state.joined)) return;
      const stored = resultStored(result);
      let text: string | undefined;
      try {
        text = encodeStored(stored);
      } catch {
        // Not storable as JSON (BigInt, a cycle): `settle` releases the record; nothing will replay it.
      }
      if (!state.settled) {
        // A response its replay header would push over the provider's limit is refused now: `onError` settles.
        const tooLarge = text === undefined ? undefined : replayTooLarge(result, stored);
        if (tooLarge !== undefined) throw tooLarge;
        await settle(ctx, state, text ?? stored);
      }
      return firstAnswer(stored, text);
    },

    async onError(ctx, error, state) {
      if (!state.owner || state.settled) return;
      if (isRequestAlreadyApplied(error)) {
        // A joined write found an earlier attempt's effects and its answer: complete with that answer and replay it.
        await settle(ctx, state, error.answer);
        return { answer: replay(decodeStored(error.answer)) };
      }
      await settle(ctx, state, shouldCache(error) ? errorStored(error) : undefined);
    },

    async afterBatch(ctxs, _outcomes, states) {
      const items: Array<{ state: IdempotencyState; request: CompleteRequest | ReleaseRequest }> = [];
      for (const state of states) {
        if (!state?.batch || !state.owner || state.joined) continue;
        // A message that never ran its hooks gives its record back.
        const request = state.pending ?? { key: state.key!, owner: state.owner };
        state.settled = true;
        items.push({ state, request });
      }
      if (items.length === 0) return;
      let results: boolean[];
      try {
        results = items.length === 1 ? [await settleOne(items[0]!.request)] : await store.completeMany(items.map((i) => i.request));
      } catch (error) {
        logStoreFailure(ctxs[0]!, error);
        // As for one message: the effects happened, so the records are settled in the background
        // while their leases last; else they expire in progress and a redelivery runs again.
        if ((error as { retryable?: unknown } | null)?.retryable !== false) {
          for (const { state, request } of items) void settleLater(ctxs[states.indexOf(state)] ?? ctxs[0]!, request, state.leaseUntil ?? 0).catch(() => undefined);
        }
        return;
      }
      items.forEach(({ state, request }, i) => {
        if (results[i] && isCompleteRequest(request)) remember(state.key!, { fingerprint: request.fingerprint, result: request.result, expiresAt: request.expiresAt });
      });
      if (results.some((ok) => !ok)) lostLease(ctxs[0]!);
    },
  };

  /**
   * The first invocation's answer as a replay will give it: a plain value round-tripped through
   * the record's JSON (a `Date` becomes its ISO text, `undefined` members and `Map` contents
   * vanish; bytes come back as a `Buffer`), so one key never has two answers. An HTTP response is stored as rendered, so it
   * is kept as it is; so is a value that could not be stored.
   */
  function firstAnswer(stored: StoredResult, text: string | undefined): { answer: unknown } | undefined {
    if (stored.k !== 'v' || stored.v === undefined || text === undefined) return undefined;
    return { answer: replay(decodeStored(text)) };
  }

  function settleOne(request: CompleteRequest | ReleaseRequest): Promise<boolean> {
    return isCompleteRequest(request) ? store.complete(request) : store.release(request);
  }
}
