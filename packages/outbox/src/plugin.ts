/**
 * `outbox({ events, store, relay })`: the handler plugin. The function records events with
 * `ctx.outbox.add(...)` next to its state change; the plugin writes both in one atomic write
 * (per the store's capture mode), then flushes them to SQS within the invocation's deadline.
 * The returned plugin also carries the sweeper, the watchdog consumer and redrive.
 *
 * Hooks, with `use: [connections, idempotency | inbox, outbox, transitions]`:
 *
 *   extend   ctx.outbox for the store's mode; marks the effects pending (`markEffectsPending`)
 *            until the write committed, so an inbox or idempotency record is released, not
 *            completed, when a plugin listed after this one fails after the function returned,
 *            before this write — and an inbox or idempotency plugin listed after this one finds
 *            the mark in its own `extend` and refuses the order (`CONFIG_INVALID`, field `use`)
 *   wrap     each run of the function starts from nothing; transaction mode runs it inside
 *            `withTransaction` (which may run it again), with the events and the idempotency
 *            completion in the same transaction
 *   after    Redis: the one script (state, events, request marker, idempotency completion);
 *            embedded: the events added after their document's update written by one more,
 *            the answer kept beside the applied request keys; then the flush. After an inner
 *            plugin's `onError` recovered (`recoveredFrom`): the function's own result is the
 *            answer written when it returned; when it failed, nothing it staged is written (as
 *            in `onError`)
 *   finally  the invocation's `outbox` metrics record (when any metric is not zero)
 *
 * The ctx API is in plugin-context.ts; the watchdog and the flush around the modes' writes in
 * plugin-write.ts; the writes themselves in src/modes.
 */
import type { Context, Plugin } from '@steadyfn/handler';
import { effectsWritten, functionReturned, invalidOption, markEffectsPending, ownItemFailed, recoveredFrom } from '@steadyfn/handler/internal';
import type { EventDeclarations } from './envelope.js';
import { newInvocationState, resetAttempt, type InvocationState } from './invocation.js';
import { checkOutboxOptions, checkRelayLease, relayLeaseJudge, resolveRelay, type OutboxOptions, type ResolvedRelay } from './options.js';
import { checkNothingLeft, embeddedRecordAnswers } from './modes/embedded-mode.js';
import { embeddedRecordMisses, embeddedWriteLeftovers } from './modes/embedded-leftovers.js';
import { redisCommit } from './modes/redis-mode.js';
import { inboxOf } from './modes/request-key.js';
import { transactionAround } from './modes/transaction-mode.js';
import { outboxContext, type OutboxContextOf } from './plugin-context.js';
import { writePath } from './plugin-write.js';
import { relayEntries, type RelayEntries } from './relay/entry.js';
import type { OutboxStore } from './stores/outbox-store.js';

export type { OutboxContextBase, OutboxContextOf } from './plugin-context.js';

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
  const { armWatchdog, beforeEmbeddedWrite, flush } = writePath({ name, watchdog: options.watchdog, store, relay, relayStore, judgeLease });
  const contextDeps = { events: options.events, store, callerContext: options.callerContext, beforeEmbeddedWrite };

  /**
   * A failed run (or a failure before the write): nothing staged is written. What was written
   * before the failure (an embedded update, a commit before a later hook failed, an earlier
   * attempt's events) still goes out.
   */
  const dropFailedRun = async (state: InvocationState): Promise<void> => {
    state.closed = true;
    resetAttempt(state);
    await flush(state);
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
      // From here until the write committed: see the header. Set in `extend`, which every plugin
      // runs before any `before`, so an inbox or idempotency plugin listed after this one sees it
      // in its own `extend` and refuses the order before it claims anything.
      markEffectsPending(ctx);
      return { outbox: outboxContext(contextDeps, state) as OutboxContextOf<S, D> };
    },
    async wrap(_ctx, next, state) {
      if (store.mode === 'mongo-transaction') {
        // Committed: a plugin that fails from here on fails after the effects were written. Rolled
        // back (or the function threw): they stay pending, so the inbox or idempotency record is released.
        const result = await transactionAround(store, state, next, () => armWatchdog(state, 'outbox', state.events));
        effectsWritten(state.ctx);
        return result;
      }
      // Each run of the function (a plugin listed before this one may run it again) starts from nothing.
      resetAttempt(state);
      return next();
    },
    async after(ctx, result, state) {
      state.closed = true;
      if (state.committed) {
        effectsWritten(ctx);
        return;
      }
      // An inner plugin's onError answered (a fallback), so this `after` runs with its answer.
      // The function failed: what it staged is not written and no answer kept beside a request
      // key, as in onError (the effects stay pending: an inbox or idempotency record is released,
      // and the retry writes once). It returned and a later hook failed: its effects are written
      // with its own result as the request's answer, not the fallback's.
      if (recoveredFrom(ctx) !== undefined) {
        const returned = functionReturned(ctx);
        if (returned === undefined) return dropFailedRun(state);
        result = returned.value;
      }
      // Under middy, a partial batch response reporting the run's own message failed: a failed
      // run, as a throw is — nothing written; the message is redelivered and that run writes once.
      if (ownItemFailed(ctx, result)) return dropFailedRun(state);
      // A write that fails leaves the effects pending: the inbox releases the event (or the
      // idempotency plugin its record) although the function returned, and the retry writes once.
      if (store.mode === 'redis') {
        // Armed once the write's plan passed (redis-plan.ts), before anything is sent.
        const events = [...state.events];
        await redisCommit(store, state, result, (partition) => armWatchdog(state, partition, events));
      } else if (store.mode === 'mongo-embedded') {
        // Events added after the update that wrote their document: one more update writes them.
        await embeddedWriteLeftovers(store, state, (filter, events) => beforeEmbeddedWrite(state, { filter, update: {} }, events));
        checkNothingLeft(state);
        // What the run decided is final once it returned: its misses and its answer are kept for a redelivery.
        await embeddedRecordMisses(store, state);
        await embeddedRecordAnswers(store, state, result);
      }
      // Written (or nothing to write): a failure from here on is after the effects.
      effectsWritten(ctx);
      await flush(state);
      // An earlier attempt already wrote: the idempotency plugin replays its answer.
      if (state.replay) throw state.replay;
    },
    onError: (_ctx, _error, state) => dropFailedRun(state),
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
