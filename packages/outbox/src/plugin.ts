/**
 * `outbox({ events, store, relay })`: the handler plugin. The function records events with
 * `ctx.outbox.add(...)` next to its state change; the plugin writes both in one atomic write
 * (per the store's capture mode), then flushes them to SQS within the invocation's deadline.
 * The returned plugin also carries the sweeper, the watchdog consumer and redrive.
 *
 * Hooks, with `use: [connections, idempotency | inbox, outbox, transitions]`:
 *
 *   extend   ctx.outbox for the store's mode
 *   before   notes whether an idempotency plugin already holds the request (its place in `use`)
 *   wrap     each run of the function starts from nothing; transaction mode runs it inside
 *            `withTransaction` (which may run it again), with the events and the idempotency
 *            completion in the same transaction
 *   after    Redis: the one script (state, events, request marker, idempotency completion);
 *            embedded: the events added after their document's update written by one more,
 *            the answer kept beside the applied request keys; then the flush
 *   finally  the invocation's `outbox` metrics record (when any metric is not zero)
 */
import type { Context, Plugin } from '@steadyfn/handler';
import { invalidOption } from '@steadyfn/handler/internal';
import { heldIdempotencyKey } from '@steadyfn/idempotency';
import { envelopeMeta } from './context.js';
import { aggregateKey, prepareEvent, type EnvelopeMeta, type EventDeclarations, type EventDraft } from './envelope.js';
import { EventInvalidError, UnsupportedServerError } from './errors.js';
import { newInvocationState, resetAttempt, type InvocationState } from './invocation.js';
import { checkOutboxOptions, checkRelayLease, relayLeaseJudge, resolveRelay, type OutboxOptions, type ResolvedRelay } from './options.js';
import { checkEmbeddedWrite } from './capture/mongo-embedded.js';
import { checkNothingLeft, checkUpdateArguments, embeddedRead, embeddedRecordAnswers, embeddedUpdate, withStagedEvents, writeFailure, type EmbeddedOutboxContext } from './modes/embedded-mode.js';
import { embeddedWriteLeftovers } from './modes/embedded-leftovers.js';
import { redisCommit, type RedisOutboxContext } from './modes/redis-mode.js';
import { inboxOf } from './modes/request-key.js';
import { transactionAround, type TransactionOutboxContext } from './modes/transaction-mode.js';
import { depsOf, relayEntries, runOptionsOf, type RelayEntries } from './relay/entry.js';
import type { OutboxMetrics } from './relay/metrics.js';
import { relayAggregates } from './relay/relay.js';
import type { PendingEvent } from './envelope.js';
import type { SessionLike } from './stores/mongo-collection.js';
import type { MongoEmbeddedOutboxStore, MongoTransactionOutboxStore, OutboxStore, RedisOutboxStore } from './stores/outbox-store.js';
import { MAX_WATCHDOG_KEY_LENGTH, watchdogKey } from './sqs/watchdog-message.js';

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

type AnyModeContext<D extends EventDeclarations> = OutboxContextBase<D> &
  Partial<RedisOutboxContext<D>> &
  Partial<EmbeddedOutboxContext<D>> & { readonly session?: SessionLike };

/** The plugin, plus the relay entry points that run in other functions. */
export interface OutboxPlugin<D extends EventDeclarations, S extends OutboxStore> extends Plugin<{ outbox: OutboxContextOf<S, D> }, InvocationState>, RelayEntries {
  /** The around hook: every run of the function starts from nothing; transaction mode runs it inside its transaction. */
  wrap(ctx: Context, next: () => Promise<unknown>, state: InvocationState): Promise<unknown>;
}

/**
 * Creates the outbox plugin. List it after `connections()` and after `idempotency()` or
 * `inbox()`, and before `transitions()` (see the README's "Plugin order").
 *
 * @throws ConfigurationError for invalid options or an unknown key at any depth (`relay.poison.maxAtempts`), naming its path — checked here, at definition time.
 * @example
 * const orders = outbox({
 *   events: { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number().int() }) } },
 *   store: redisOutbox({ client: redis }),
 *   relay: { sender: sqsSender({ client: sqs, queueUrl }), lease: redisLeaseStore({ client: redis }) },
 * });
 */
export function outbox<const D extends EventDeclarations, S extends OutboxStore>(options: OutboxOptions<D, S>): OutboxPlugin<D, S> {
  const { name } = checkOutboxOptions(options);
  const relay: ResolvedRelay | undefined = resolveRelay(options.relay);
  const store = options.store as OutboxStore;
  checkRelayLease(relay, store);
  const judgeLease = relayLeaseJudge(relay, store);
  // Marks join the lease's own settle where the store can (Redis: one script; transaction mode: one transaction).
  const relayStore = relay && store.relay.withLease ? store.relay.withLease(relay.lease) : store.relay;
  let misorderNoted = false;

  /** Relays what this invocation wrote, once. */
  const flush = async (state: InvocationState): Promise<void> => {
    const written = state.written;
    state.written = [];
    if (!relay?.flush || written.length === 0) return;
    // The write judged the lease already; judged here too, so no path relays un-judged.
    await judgeLease();
    await relayAggregates(depsOf(relay, relayStore, state.metrics, state.ctx), written, runOptionsOf(relay, state.ctx));
  };

  const metaOf = (state: InvocationState): EnvelopeMeta => (state.meta ??= envelopeMeta(state.ctx, inboxOf(state.ctx)?.event, options.callerContext));

  /**
   * Arms the watchdog for `events`, written at `where` (the Redis partition, the collection,
   * `outbox`): only once the write carrying them passed every check that needs no server, so a
   * write refused for its own input sends no message.
   */
  const armWatchdog = async (state: InvocationState, where: string, events: ReadonlyArray<PendingEvent>): Promise<void> => {
    if (!options.watchdog || events.length === 0) return;
    const keys = [...new Set(events.map((e) => watchdogKey(where, aggregateKey(e.aggregateType, e.aggregateId))))];
    // A key past the message's limit (a long partition and aggregate id): the whole outbox, as past MAX_WATCHDOG_KEYS.
    const target = keys.every((k) => k.length <= MAX_WATCHDOG_KEY_LENGTH) ? { outbox: name, keys } : { outbox: name };
    await options.watchdog.arm(target, { signal: state.ctx.signal });
  };

  /**
   * Before each embedded write of `events`: its arguments checked (nothing needs the server), a
   * failed server probe fails it (nothing is written un-judged), then the watchdog armed for them.
   */
  const beforeEmbeddedWrite = async (state: InvocationState, write: { filter: Record<string, unknown>; update: Record<string, unknown> }, events: ReadonlyArray<PendingEvent>): Promise<void> => {
    if (store.mode !== 'mongo-embedded') return;
    await checkEmbeddedWrite(store.aggregateType, write, events, store.limits);
    await judgeLease().catch((error: unknown) => {
      throw writeFailure(error);
    });
    await armWatchdog(state, (await store.collection()).collectionName, events);
  };

  /**
   * A call after the write ran would stage what nothing writes any more (Redis, transaction
   * mode) or write after the invocation ended (embedded): a promise the function did not await.
   */
  const open = (state: InvocationState, what: string): void => {
    if (state.closed || state.committed) {
      throw new EventInvalidError(`outbox: ctx.outbox.${what} was called after the invocation's write (the function had returned or failed: a promise it did not await?); nothing was recorded`, {
        issues: [{ field: what, message: 'called after the outbox wrote' }],
      });
    }
  };

  const contextFor = (state: InvocationState): AnyModeContext<D> => {
    const base: AnyModeContext<D> = {
      add(draft) {
        open(state, 'add');
        const event = prepareEvent(options.events, draft as EventDraft, metaOf(state));
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
          await beforeEmbeddedWrite(state, { filter, update }, given);
          return embeddedUpdate(store, state, given, filter, update, updateOptions);
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
  };

  /**
   * An idempotency plugin listed after the outbox (its `before` ran after the outbox's: it holds
   * the request by the time the function runs) completes its record before the outbox writes:
   * no join. Said once per outbox.
   */
  const checkOrder = (state: InvocationState): void => {
    if (misorderNoted || state.idempotencyFirst || heldIdempotencyKey(state.ctx) === undefined) return;
    misorderNoted = true;
    state.ctx.log.warn('outbox: list idempotency() before outbox() in `use`, so its completion joins the outbox write', { code: 'OUTBOX_PLUGIN_ORDER' });
  };

  const entries = relayEntries(name, relay, relayStore, Object.values(options.events).map((d) => d.aggregateType), judgeLease);
  const plugin: OutboxPlugin<D, S> = {
    name: `outbox:${name}`,
    state: newInvocationState,
    extend(ctx, state) {
      // A second outbox plugin would replace ctx.outbox: the first's events could no longer be
      // added and its write would never run. Terminal, like any configuration error.
      if ((ctx as { outbox?: unknown }).outbox !== undefined) {
        invalidOption('outbox', 'use', `one outbox plugin per handler (another one already set ctx.outbox; declare every event type in one outbox, or give each store its own function); this one is "${name}"`, name);
      }
      state.ctx = ctx;
      return { outbox: contextFor(state) as OutboxContextOf<S, D> };
    },
    before(_ctx, state) {
      state.idempotencyFirst = heldIdempotencyKey(state.ctx) !== undefined;
    },
    async wrap(_ctx, next, state) {
      checkOrder(state);
      if (store.mode === 'mongo-transaction') return transactionAround(store, state, next, () => armWatchdog(state, 'outbox', state.events));
      // Each run of the function (a plugin listed before this one may run it again) starts from nothing.
      resetAttempt(state);
      return next();
    },
    async after(_ctx, result, state) {
      state.closed = true;
      if (state.committed) return;
      if (store.mode === 'redis') {
        // Armed once the write's plan passed (redis-plan.ts), before anything is sent.
        const events = [...state.events];
        await redisCommit(store, state, result, (partition) => armWatchdog(state, partition, events));
      } else if (store.mode === 'mongo-embedded') {
        // Events added after the update that wrote their document: one more update writes them.
        await embeddedWriteLeftovers(store, state, (filter, events) => beforeEmbeddedWrite(state, { filter, update: {} }, events));
        checkNothingLeft(state);
        await embeddedRecordAnswers(store, state, result);
      }
      await flush(state);
      // An earlier attempt already wrote: the idempotency plugin replays its answer.
      if (state.replay) throw state.replay;
    },
    async onError(_ctx, _error, state) {
      state.closed = true;
      // Written before the failure (an embedded update, a commit before a later hook failed, an earlier attempt's events): they still go out.
      await flush(state);
    },
    finally(ctx, _outcome, state) {
      if (inboxOf(ctx)?.duplicate) state.metrics.inboxDuplicates++;
      const m = state.metrics.snapshot();
      // Any metric, not only the event counts: a flush that found its aggregates leased or
      // quarantined, or saw an event still pending (the age an alarm watches), is logged too.
      if (m.oldestPendingAgeMs !== undefined || Object.values(m).some((v) => typeof v === 'number' && v !== 0)) ctx.log.info('outbox', { outbox: name, ...m });
    },
    ...entries,
  };
  return plugin;
}
