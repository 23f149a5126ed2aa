/**
 * The outbox's `ctx.outbox`: what every mode offers (`add`, `staged`, `metrics`) and each mode's
 * own calls (Redis `check`/`call`, embedded `updateOne`/`read`, the transaction's `session`). The
 * function stages here; the plugin's hooks (plugin.ts) write and flush.
 */
import { prepareEvent, type EnvelopeMeta, type EventDeclarations, type EventDraft, type PendingEvent } from './envelope.js';
import { envelopeMeta, type CallerContextOptions } from './context.js';
import { EventInvalidError, UnsupportedServerError } from './errors.js';
import type { InvocationState } from './invocation.js';
import { embeddedRead, embeddedUpdate, nextRequestKey, withStagedEvents, checkUpdateArguments, type EmbeddedOutboxContext } from './modes/embedded-mode.js';
import type { RedisOutboxContext } from './modes/redis-mode.js';
import { inboxOf } from './modes/request-key.js';
import type { TransactionOutboxContext } from './modes/transaction-mode.js';
import type { OutboxMetrics } from './relay/metrics.js';
import type { SessionLike } from './stores/mongo-collection.js';
import type { MongoEmbeddedOutboxStore, MongoTransactionOutboxStore, OutboxStore, RedisOutboxStore } from './stores/outbox-store.js';
import type { EmbeddedWriteCheck } from './plugin-write.js';

/** What every mode's `ctx.outbox` offers. */
export interface OutboxContextBase<D extends EventDeclarations> {
  /**
   * Records an event in this invocation's atomic write: validated against its declared
   * schema now, written with the state change, sent after the commit.
   *
   * @returns the prepared event (its `id` is final; `seq` is assigned by the write).
   * @throws EventInvalidError for an undeclared type, a bad aggregate id, a payload its schema refuses
   *   or that is `undefined` (JSON cannot carry it: use `null` or `{}`), or a key of the draft or its
   *   `change` the outbox does not read (a typo, or a field it fills in itself such as `correlationId`),
   *   or a call after the outbox's write ran (the function had returned: a promise it did not await);
   *   `check`, `call` and `updateOne` refuse that too.
   */
  add(draft: EventDraft<D>): PendingEvent;
  /** Events recorded so far and not yet written. */
  readonly staged: ReadonlyArray<PendingEvent>;
  /**
   * What the outbox did in this invocation so far — a snapshot at the moment of the call. Inside
   * the function that is little: the atomic write and the flush run after it returns, so in
   * Redis and transaction mode every count reads 0 there (what the function added so far is
   * `staged`); in embedded mode each `updateOne` has written by the time it resolves, so
   * `recorded` counts its events, while `sent`, `failed`, `batches` and the rest stay 0 until
   * the flush. The complete numbers for the invocation are in the `outbox` log record written
   * at its end (the outbox's `finally` hook: after the commit and the flush); a plugin listed
   * before the outbox reads them with `metrics()` in its own `finally` hook (those run in
   * reverse order, so after the outbox's).
   * The relay entry points (`sweep`, `flushTargets`, `relayWatchdog`, `redrive`) return their
   * own run's metrics.
   */
  metrics(): OutboxMetrics;
}

/** `ctx.outbox` for the store's mode. */
export type OutboxContextOf<S extends OutboxStore, D extends EventDeclarations> = S extends RedisOutboxStore
  ? RedisOutboxContext<D>
  : S extends MongoEmbeddedOutboxStore
    ? EmbeddedOutboxContext<D>
    : S extends MongoTransactionOutboxStore
      ? TransactionOutboxContext<D>
      : OutboxContextBase<D>;

export type AnyModeContext<D extends EventDeclarations> = OutboxContextBase<D> &
  Partial<RedisOutboxContext<D>> &
  Partial<EmbeddedOutboxContext<D>> & { readonly session?: SessionLike };

/** What the ctx API needs of the plugin. */
export interface ContextDeps<D extends EventDeclarations> {
  events: D;
  store: OutboxStore;
  callerContext: CallerContextOptions | undefined;
  /** Runs before each embedded update: its checks, the lease judge, the watchdog. */
  beforeEmbeddedWrite: EmbeddedWriteCheck;
}

/** The invocation's envelope metadata (correlation, causation, trace, caller context), made once. */
function metaOf(state: InvocationState, callerContext: CallerContextOptions | undefined): EnvelopeMeta {
  return (state.meta ??= envelopeMeta(state.ctx, inboxOf(state.ctx)?.event, callerContext));
}

/**
 * A call after the write ran would stage what nothing writes any more (Redis, transaction
 * mode) or write after the invocation ended (embedded): a promise the function did not await.
 */
function open(state: InvocationState, what: string): void {
  if (state.closed || state.committed) {
    throw new EventInvalidError(`outbox: ctx.outbox.${what} was called after the invocation's write (the function had returned or failed: a promise it did not await?); nothing was recorded`, {
      issues: [{ field: what, message: 'called after the outbox wrote' }],
    });
  }
}

/**
 * The invocation's `ctx.outbox` for the store's mode: `add`, `staged`, `metrics`, and Redis
 * `check`/`call`, embedded `updateOne`/`read`, or the transaction's `session`. Every call after
 * the invocation's write is refused (`open`) before anything is staged, checked or armed.
 */
export function outboxContext<D extends EventDeclarations>(deps: ContextDeps<D>, state: InvocationState): AnyModeContext<D> {
  const { store } = deps;
  const base: AnyModeContext<D> = {
    add(draft) {
      open(state, 'add');
      const event = prepareEvent(deps.events, draft as EventDraft, metaOf(state, deps.callerContext));
      state.events.push(event);
      return event;
    },
    get staged() {
      // The invocation's own list, not a copy: transitions() takes a lost transition's event back from it.
      return state.events;
    },
    metrics: () => state.metrics.snapshot(),
  };
  if (store.mode === 'redis') {
    base.check = (check) => {
      open(state, 'check');
      state.redis.checks.push(check);
    };
    base.call = (...command) => {
      open(state, 'call');
      state.redis.commands.push(command);
    };
  } else if (store.mode === 'mongo-embedded') {
    base.updateOne = async (filter, update, updateOptions) => {
      open(state, 'updateOne');
      // An update that writes nothing (matched: false, or it throws) takes back the events it was given.
      return withStagedEvents(state, store.aggregateType, filter, async (given) => {
        checkUpdateArguments(filter, update, updateOptions ?? {});
        // Numbered before anything is awaited: calls made together keep the order they were made in.
        const call = nextRequestKey(state, String(filter._id), updateOptions?.requestKey);
        await deps.beforeEmbeddedWrite(state, { filter, update }, given);
        return embeddedUpdate(store, state, given, filter, update, updateOptions?.upsert, call);
      });
    };
    base.read = (id) => embeddedRead(store, id);
  } else {
    Object.defineProperty(base, 'session', {
      get() {
        if (!state.session) throw new UnsupportedServerError('outbox: ctx.outbox.session exists only inside the transaction the outbox plugin wraps around the function (the handler must run plugin `wrap` hooks)');
        return state.session;
      },
    });
  }
  return base;
}
