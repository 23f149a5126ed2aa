/**
 * `idempotency({ store, ttl, ... })`: a repeated invocation replays the first one's result
 * instead of running its effects again.
 *
 *   first call:     claim (1 store call) -> run -> complete (1 store call)
 *   duplicate:      claim finds the completed record (1 store call) -> replay
 *   warm duplicate: local cache (0 store calls) -> replay
 *   batch:          one claim round trip for all messages, one complete round trip
 */
import { randomUUID } from 'node:crypto';
import { RetryableError, SteadyError, httpError, type Context, type Plugin } from '@steadyfn/handler';
import { toMs, type Duration } from './duration.js';
import { fingerprintOf, keyMissingError, resolveKey, resolveKeyEarly, scopeOf, storeKey, type KeySource, type ResolvedKey } from './key.js';
import { LocalCache, type LocalEntry } from './lru.js';
import { decodeStored, encodeStored, errorStored, httpResponseOf, httpStored, replay, valueStored, type StoredResult } from './record.js';
import { isCompleteRequest, type ClaimRequest, type ClaimResult, type CompleteRequest, type IdempotencyStore, type ReleaseRequest, type StoredRecord } from './types.js';

export interface LocalCacheOptions {
  /** Most completed records kept in memory. Default 1,000. */
  maxEntries?: number;
  /** Most bytes of stored results kept in memory. Default 8 MiB. */
  maxBytes?: number;
}

export interface IdempotencyOptions {
  /** Where records live: `redisStore(...)`, `mongoStore(...)`, or `memoryStore()` for tests. */
  store: IdempotencyStore;
  /** Where the key comes from (default `'auto'`); see `KeySource`. */
  key?: KeySource;
  /**
   * When no key can be found (`key: 'header'` without the header, or a key function that
   * returns nothing): `true` (default) answers 400 `IDEMPOTENCY_KEY_MISSING`; `false` runs
   * the function without idempotency.
   */
  required?: boolean;
  /** How long a completed result is replayed: ms or `'24h'`. */
  ttl: Duration;
  /** Longest a running invocation holds its key; also capped by the invocation's deadline. Default 5 minutes. */
  lease?: Duration;
  /**
   * A duplicate that arrives while the first is still running: `'reject'` (default) answers
   * 409 with `Retry-After` (retryable, so a queue redelivers it later); `'wait'` polls until
   * the first finishes, within the duplicate's own deadline, and replays its result.
   */
  onConcurrent?: 'reject' | 'wait';
  /**
   * Whether a failure is stored and replayed. `false` (default) releases the record so a
   * retry runs again. `true` stores terminal (non-retryable) errors; retryable ones are
   * always released, since storing them would turn every retry into the same failure.
   * A function decides per error.
   */
  cacheErrors?: boolean | ((error: SteadyError) => boolean);
  /** In-memory cache of completed records (default on): a warm replay makes no store call. */
  localCache?: boolean | LocalCacheOptions;
  /** Names the records' scope instead of the function name (e.g. to share records across deployments). */
  namespace?: string;
}

/** Per-invocation state, keyed by ctx; entries disappear with their ctx. */
interface State {
  key: string;
  fingerprint: string;
  /** Set while this invocation holds the record. */
  owner?: string;
  /** What a batch claim found instead of claiming. */
  existing?: StoredRecord;
  /** Prepared by `beforeBatch`: completion waits for `afterBatch`. */
  batch: boolean;
  /** Completion or release queued for `afterBatch`. */
  pending?: CompleteRequest | ReleaseRequest;
  settled?: boolean;
}

const DEFAULT_LEASE_MS = 5 * 60_000;

export function conflictError(): SteadyError {
  // Retryable, so a queue message that met a running twin is redelivered and then replays.
  return httpError(409, 'IDEMPOTENCY_IN_PROGRESS', 'A request with this idempotency key is still being processed', {
    retryable: true,
    expose: true,
    headers: { 'Retry-After': '1' },
  });
}

export function mismatchError(): SteadyError {
  return httpError(422, 'IDEMPOTENCY_KEY_REUSED', 'This idempotency key was already used with a different request payload', { retryable: false, expose: true });
}

function storeUnavailable(cause: unknown): SteadyError {
  return new RetryableError('IDEMPOTENCY_STORE_UNAVAILABLE', 'The idempotency store could not be reached', { status: 503, expose: true, cause });
}

/** 122 random bits; randomUUID draws from a cached entropy pool, far cheaper than randomBytes per call. */
function newOwner(): string {
  return randomUUID();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export function idempotency(options: IdempotencyOptions): Plugin {
  const store = options.store;
  if (!store || typeof store.claim !== 'function' || typeof store.complete !== 'function') {
    throw new SteadyError('IDEMPOTENCY_CONFIG_INVALID', 'idempotency option "store" must be an IdempotencyStore', {
      status: 500,
      retryable: false,
      issues: [{ field: 'store', message: 'Not a store', expected: 'redisStore(...), mongoStore(...) or memoryStore()' }],
    });
  }
  const source: KeySource = options.key ?? 'auto';
  const required = options.required ?? true;
  const ttlMs = toMs(options.ttl, 'ttl');
  const leaseMs = toMs(options.lease ?? DEFAULT_LEASE_MS, 'lease');
  const waitForFirst = options.onConcurrent === 'wait';
  const cacheErrors = options.cacheErrors ?? false;
  const local =
    options.localCache === false
      ? undefined
      : new LocalCache(
          (typeof options.localCache === 'object' ? options.localCache.maxEntries : undefined) ?? 1000,
          (typeof options.localCache === 'object' ? options.localCache.maxBytes : undefined) ?? 8 * 1024 * 1024,
        );
  const states = new WeakMap<object, State>();
  /** Messages of a batch whose key needed their input, so `before` claimed them. */
  const batched = new WeakSet<object>();
  const scopes = new Map<string, string>();

  const scopeFor = (ctx: Context): string => {
    const name = options.namespace ?? ctx.functionName;
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

  /** A completed record answers; an in-progress one is a 409 (or a wait); a different payload is a 422. */
  // Not async: a completed record is answered without another promise on the duplicate path.
  const answerExisting = (ctx: Context, state: State, record: StoredRecord): { answer: unknown } | Promise<void | { answer: unknown }> => {
    // An empty fingerprint is a record the store could not read: never replayed, never a 422.
    if (record.fingerprint !== state.fingerprint && record.fingerprint !== '') throw mismatchError();
    if (record.status === 'completed') {
      remember(state.key, { fingerprint: record.fingerprint, result: record.result, expiresAt: record.expiresAt });
      return { answer: replay(decodeStored(record.result)) };
    }
    if (!waitForFirst) throw conflictError();
    return waitForCompletion(ctx, state);
  };

  /** Polls until the first invocation completes (replay) or gives up its record (run ourselves). */
  const waitForCompletion = async (ctx: Context, state: State): Promise<void | { answer: unknown }> => {
    const giveUpAt = Math.min(ctx.deadline, Date.now() + leaseMs);
    let delay = 20;
    // Bounded by the deadline (the signal aborts before it) and by the lease.
    for (let round = 0; round < 10_000; round++) {
      if (ctx.signal.aborted || Date.now() + delay >= giveUpAt) break;
      await sleep(delay, ctx.signal);
      delay = Math.min(delay * 2, 500);
      let record: StoredRecord | undefined;
      try {
        record = await store.get(state.key);
      } catch (error) {
        throw storeUnavailable(error);
      }
      if (record === undefined) {
        const claimed = await claimOne(ctx, state);
        if (claimed.claimed) return;
        record = claimed.record;
      }
      if (record.status === 'completed') return answerExisting(ctx, state, record);
      if (record.fingerprint !== state.fingerprint && record.fingerprint !== '') throw mismatchError();
    }
    throw conflictError();
  };

  // A plain `then`, not an async function: one promise fewer on every claim.
  const claimOne = (ctx: Context, state: State): Promise<ClaimResult> => {
    const owner = newOwner();
    let pending: Promise<ClaimResult>;
    try {
      pending = Promise.resolve(store.claim({ key: state.key, owner, fingerprint: state.fingerprint, leaseUntil: leaseUntil(ctx, Date.now()) }));
    } catch (error) {
      return Promise.reject(storeUnavailable(error));
    }
    return pending.then(
      (result) => {
        if (result.claimed) state.owner = owner;
        return result;
      },
      (error: unknown) => {
        throw storeUnavailable(error);
      },
    );
  };

  const fromLocal = (state: State): { answer: unknown } | undefined => {
    const hit = local?.get(state.key);
    if (!hit) return undefined;
    if (hit.fingerprint !== state.fingerprint) throw mismatchError();
    return { answer: replay(decodeStored(hit.result)) };
  };

  const stateFor = (ctx: Context, key: ResolvedKey, batch: boolean): State => ({
    key: storeKey(scopeFor(ctx), key),
    fingerprint: fingerprintOf(ctx, key),
    batch,
  });

  /** What to store for a finished invocation. */
  const storedFor = (ctx: Context, outcome: { ok: true; value: unknown } | { ok: false; error: SteadyError }): StoredResult => {
    if (ctx.trigger.kind === 'http') {
      return httpStored(httpResponseOf(outcome));
    }
    return outcome.ok ? valueStored(outcome.value) : errorStored(outcome.error);
  };

  /** Completes (or releases) now, or queues it for `afterBatch`. Never throws: the effects already happened. */
  const settle = async (ctx: Context, state: State, stored: StoredResult | undefined): Promise<void> => {
    const owner = state.owner!;
    state.settled = true;
    let request: CompleteRequest | ReleaseRequest = { key: state.key, owner };
    if (stored) {
      try {
        request = { key: state.key, owner, fingerprint: state.fingerprint, result: encodeStored(stored), expiresAt: Date.now() + ttlMs };
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
      else if (isCompleteRequest(request)) remember(state.key, { fingerprint: request.fingerprint, result: request.result, expiresAt: request.expiresAt });
    } catch (error) {
      logStoreFailure(ctx, error);
    }
  };

  const lostLease = (ctx: Context): void => {
    ctx.log.warn('idempotency record was taken over or expired before this invocation finished', { code: 'IDEMPOTENCY_LEASE_LOST' });
  };

  const logStoreFailure = (ctx: Context, error: unknown): void => {
    // The function's effects happened; failing now would make the provider run them again.
    ctx.log.error('idempotency record could not be completed; it expires with its lease', {
      code: 'IDEMPOTENCY_STORE_UNAVAILABLE',
      cause: error instanceof Error ? error.name : typeof error,
    });
  };

  return {
    name: 'idempotency',

    async beforeBatch(ctxs) {
      const claims: Array<{ state: State; request: ClaimRequest }> = [];
      const firstByKey = new Map<string, State>();
      const now = Date.now();
      for (const ctx of ctxs) {
        let key: ResolvedKey | undefined;
        try {
          key = resolveKeyEarly(ctx, source);
        } catch {
          // A bad key fails this message alone, in `before`, not the whole batch.
          key = undefined;
        }
        if (!key) {
          // The key needs the validated input: `before` claims this one; `afterBatch` completes it.
          batched.add(ctx);
          continue;
        }
        const state = stateFor(ctx, key, true);
        states.set(ctx, state);
        const cached = local?.get(state.key);
        if (cached) {
          state.existing = { status: 'completed', fingerprint: cached.fingerprint, result: cached.result, expiresAt: cached.expiresAt };
          continue;
        }
        const twin = firstByKey.get(state.key);
        if (twin) {
          // The same message twice in one batch: the first runs, the second meets it running.
          state.existing = { status: 'in_progress', fingerprint: twin.fingerprint, leaseUntil: leaseUntil(ctx, now) };
          continue;
        }
        firstByKey.set(state.key, state);
        const owner = newOwner();
        state.owner = owner;
        claims.push({ state, request: { key: state.key, owner, fingerprint: state.fingerprint, leaseUntil: leaseUntil(ctx, now) } });
      }
      if (claims.length === 0) return;
      let results: ClaimResult[];
      try {
        results = claims.length === 1 ? [await store.claim(claims[0]!.request)] : await store.claimMany(claims.map((c) => c.request));
      } catch (error) {
        for (const { state } of claims) delete state.owner;
        throw storeUnavailable(error);
      }
      claims.forEach(({ state }, i) => {
        const result = results[i]!;
        if (!result.claimed) {
          delete state.owner;
          state.existing = result.record;
        }
      });
    },

    async before(ctx) {
      let state = states.get(ctx);
      if (state) {
        if (state.owner) return;
        if (state.existing) return answerExisting(ctx, state, state.existing);
      }
      const key = resolveKey(ctx, source);
      if (!key) {
        if (required) throw keyMissingError(ctx.trigger.kind === 'http');
        return;
      }
      state = stateFor(ctx, key, batched.has(ctx));
      states.set(ctx, state);
      const cached = fromLocal(state);
      if (cached) return cached;
      const result = await claimOne(ctx, state);
      if (result.claimed) return;
      return answerExisting(ctx, state, result.record);
    },

    async after(ctx, result) {
      const state = states.get(ctx);
      if (!state?.owner || state.settled) return;
      await settle(ctx, state, storedFor(ctx, { ok: true, value: result }));
    },

    async onError(ctx, error) {
      const state = states.get(ctx);
      if (!state?.owner || state.settled) return;
      await settle(ctx, state, shouldCache(error) ? storedFor(ctx, { ok: false, error }) : undefined);
    },

    async afterBatch(ctxs) {
      const items: Array<{ state: State; request: CompleteRequest | ReleaseRequest }> = [];
      for (const ctx of ctxs) {
        const state = states.get(ctx);
        if (!state?.batch || !state.owner) continue;
        // A message that never ran (an ordered batch stopped early) gives its record back.
        const request = state.pending ?? { key: state.key, owner: state.owner };
        state.settled = true;
        items.push({ state, request });
      }
      if (items.length === 0) return;
      let results: boolean[];
      try {
        results = items.length === 1 ? [await settleOne(items[0]!.request)] : await store.completeMany(items.map((i) => i.request));
      } catch (error) {
        logStoreFailure(ctxs[0]!, error);
        return;
      }
      items.forEach(({ state, request }, i) => {
        if (results[i] && isCompleteRequest(request)) remember(state.key, { fingerprint: request.fingerprint, result: request.result, expiresAt: request.expiresAt });
      });
      if (results.some((ok) => !ok)) lostLease(ctxs[0]!);
    },
  };

  function settleOne(request: CompleteRequest | ReleaseRequest): Promise<boolean> {
    return isCompleteRequest(request) ? store.complete(request) : store.release(request);
  }
}
