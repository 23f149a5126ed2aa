/**
 * `outbox({ events, store, relay })`: the handler plugin. The function records events with
 * `ctx.outbox.add(...)` next to its state change; the plugin writes both in one atomic write
 * (per the store's capture mode), then flushes them to SQS within the invocation's deadline.
 * The returned plugin also carries the sweeper, the watchdog consumer and redrive.
 */
import type { Context, Plugin } from '@steadyfn/handler';
import { envelopeMeta } from './context.js';
import { aggregateKey, prepareEvent, type EnvelopeMeta, type EventDeclarations, type EventDraft, type EventEnvelope, type PendingEvent } from './envelope.js';
import { checkOutboxOptions, resolveRelay, type OutboxOptions, type ResolvedRelay } from './options.js';
import { redisCommit, type RedisOutboxContext, type RedisStaging } from './modes/redis-mode.js';
import { checkNothingLeft, embeddedRead, embeddedUpdate, type EmbeddedOutboxContext } from './modes/embedded-mode.js';
import { transactionAround, type TransactionOutboxContext } from './modes/transaction-mode.js';
import type { SessionLike } from './stores/mongo-collection.js';
import { MetricsRecorder, type OutboxMetrics } from './relay/metrics.js';
import { relayAggregates, type RelayDeps, type RelayRunOptions } from './relay/relay.js';
import { sweep, type SweepResult } from './relay/sweeper.js';
import { invalidOption } from '@steadyfn/handler/internal';
import { UnsupportedServerError } from './errors.js';
import { partitionOf } from './capture/redis.js';
import { parseWatchdogMessage } from './sqs/watchdog.js';
import { duplicates } from './inbox-metrics.js';
import type { AggregateRef } from './relay/types.js';
import type { MongoEmbeddedOutboxStore, MongoTransactionOutboxStore, OutboxStore, RedisOutboxStore } from './stores/outbox-store.js';

/** What every mode's `ctx.outbox` offers. */
export interface OutboxContextBase<D extends EventDeclarations> {
  /**
   * Records an event in this invocation's atomic write: validated against its declared
   * schema now, written with the state change, sent after the commit.
   *
   * @returns the prepared event (its `id` is final; `seq` is assigned by the write).
   * @throws EventInvalidError for an undeclared type, a bad aggregate id or a payload its schema refuses.
   */
  add(draft: EventDraft<D>): PendingEvent;
  /** Events recorded so far and not yet written. */
  readonly staged: ReadonlyArray<PendingEvent>;
  /** What the outbox did in this invocation so far. */
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

/** Per-invocation state (a WeakMap slot until the handler's typed plugin state lands). */
export interface InvocationState {
  ctx: Context;
  events: PendingEvent[];
  metrics: MetricsRecorder;
  meta: EnvelopeMeta | undefined;
  /** Aggregates the commit wrote, for the flush. */
  written: AggregateRef[];
  committed: boolean;
  redis: RedisStaging;
  /** Transaction mode: the session while the transaction runs. */
  session: SessionLike | undefined;
  /** Transaction mode: completions joined into the transaction (idempotency, inbox). */
  joins: Array<(session: SessionLike) => Promise<void>>;
}

/** The plugin, plus the relay entry points that run in other functions. */
export interface OutboxPlugin<D extends EventDeclarations, S extends OutboxStore> extends Plugin<{ outbox: OutboxContextOf<S, D> }> {
  /** The around hook (transaction mode runs the function inside its transaction here). */
  wrap(ctx: Context, next: () => Promise<unknown>): Promise<unknown>;
  /** Relays aggregates pending longer than the grace period; call it from a schedule-triggered function. */
  sweep(ctx: Pick<Context, 'signal' | 'remainingMs' | 'log'>): Promise<SweepResult & { metrics: OutboxMetrics }>;
  /** Relays the aggregates a watchdog message names (its consumer's body). */
  flushTargets(ctx: Pick<Context, 'signal' | 'remainingMs' | 'log'>, refs: ReadonlyArray<AggregateRef>): Promise<OutboxMetrics>;
  /**
   * The watchdog's consumer: relays the aggregates a watchdog message names (its body, as the
   * relay queue delivered it); a message naming none sweeps the whole outbox. Undefined when
   * the message is not this outbox's watchdog message.
   */
  relayWatchdog(ctx: Pick<Context, 'signal' | 'remainingMs' | 'log'>, message: unknown): Promise<OutboxMetrics | undefined>;
  /** Releases a quarantined aggregate and relays it again, in order. */
  redrive(ctx: Pick<Context, 'signal' | 'remainingMs' | 'log'>, ref: Pick<AggregateRef, 'where' | 'aggregate'>): Promise<{ redriven: boolean; metrics: OutboxMetrics }>;
}

/** The event currently consumed by an inbox, if any (set by `inbox()`), for causation. */
export const consumedEvents = new WeakMap<object, EventEnvelope>();

/**
 * Creates the outbox plugin.
 *
 * @throws ConfigurationError for invalid options (checked here, at definition time).
 * @example
 * const orders = outbox({
 *   events: { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number().int() }) } },
 *   store: redisOutbox({ client: redis }),
 *   relay: { sender: sqsSender({ client: sqs, queueUrl }), lease: leases },
 * });
 */
export function outbox<const D extends EventDeclarations, S extends OutboxStore>(options: OutboxOptions<D, S>): OutboxPlugin<D, S> {
  const { name } = checkOutboxOptions(options);
  const relay: ResolvedRelay | undefined = resolveRelay(options.relay);
  const store = options.store as OutboxStore;
  const states = new WeakMap<object, InvocationState>();
  // Marks join the lease's own settle where the store can (Redis: one script).
  const relayStore = relay && store.relay.withLease ? store.relay.withLease(relay.lease) : store.relay;

  const runOptions = (ctx: Pick<Context, 'signal' | 'remainingMs'>): RelayRunOptions => ({
    leaseMs: relay!.leaseMs,
    maxEventsPerAggregate: relay!.maxEventsPerAggregate,
    poison: relay!.poison,
    reserveMs: relay!.reserveMs,
    remainingMs: () => ctx.remainingMs(),
    signal: ctx.signal,
  });
  const depsFor = (metrics: MetricsRecorder, ctx: Pick<Context, 'log'>): RelayDeps => ({ store: relayStore, lease: relay!.lease, sender: relay!.sender, metrics, log: ctx.log });
  const requireRelay = (what: string): ResolvedRelay => {
    if (!relay) invalidOption('outbox', 'relay', `an object { sender, lease } (${what} relays events)`, undefined);
    return relay;
  };

  const flush = async (state: InvocationState): Promise<void> => {
    if (!relay?.flush || state.written.length === 0) return;
    await relayAggregates(depsFor(state.metrics, state.ctx), state.written, runOptions(state.ctx));
  };

  const metaOf = (state: InvocationState): EnvelopeMeta => (state.meta ??= envelopeMeta(state.ctx, consumedEvents.get(state.ctx), options.callerContext));

  /** Where the relay finds an invocation's aggregates: the Redis partition, the collection. */
  const whereOf = async (state: InvocationState): Promise<string> => {
    if (store.mode === 'redis') {
      const keys = [...state.redis.checks.map((c) => c.key), ...state.redis.commands.map((c) => c[1])];
      return partitionOf(keys, (await store.client()).isCluster);
    }
    if (store.mode === 'mongo-embedded') return (await store.collection()).collectionName;
    return 'outbox';
  };

  const armWatchdog = async (state: InvocationState): Promise<void> => {
    if (!options.watchdog || state.events.length === 0) return;
    const where = await whereOf(state);
    const keys = [...new Set(state.events.map((e) => JSON.stringify([where, aggregateKey(e.aggregateType, e.aggregateId)])))];
    await options.watchdog.arm({ outbox: name, keys }, { signal: state.ctx.signal });
  };

  const contextFor = (state: InvocationState): AnyModeContext<D> => {
    const base: AnyModeContext<D> = {
      add(draft) {
        const event = prepareEvent(options.events, draft as EventDraft, metaOf(state));
        state.events.push(event);
        return event;
      },
      get staged() {
        return state.events;
      },
      metrics: () => state.metrics.snapshot(),
    };
    if (store.mode === 'redis') {
      base.check = (check) => void state.redis.checks.push(check);
      base.call = (...command) => void state.redis.commands.push(command);
    } else if (store.mode === 'mongo-embedded') {
      base.updateOne = async (filter, update, updateOptions) => {
        if (state.events.length > 0) await armWatchdog(state);
        return embeddedUpdate(store, state, filter, update, updateOptions);
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

  const plugin: OutboxPlugin<D, S> = {
    name: `outbox:${name}`,
    extend(ctx) {
      const state: InvocationState = { ctx, events: [], metrics: new MetricsRecorder(), meta: undefined, written: [], committed: false, redis: { checks: [], commands: [] }, session: undefined, joins: [] };
      states.set(ctx, state);
      return { outbox: contextFor(state) as OutboxContextOf<S, D> };
    },
    /** Transaction mode: the function and inner hooks run inside one transaction with the events. */
    async wrap(ctx: Context, next: () => Promise<unknown>) {
      const state = states.get(ctx);
      if (!state || store.mode !== 'mongo-transaction') return next();
      return transactionAround(store, state, next, () => armWatchdog(state));
    },
    async after(ctx) {
      const state = states.get(ctx);
      if (!state || state.committed) return;
      if (store.mode === 'redis') {
        if (state.events.length > 0) await armWatchdog(state);
        await redisCommit(store, state);
      } else if (store.mode === 'mongo-embedded') {
        checkNothingLeft(state);
      }
      await flush(state);
    },
    finally(ctx) {
      const state = states.get(ctx);
      if (!state) return;
      state.metrics.inboxDuplicates += duplicates.get(ctx) ?? 0;
      const m = state.metrics.snapshot();
      if (m.recorded + m.sent + m.failed + m.inboxDuplicates > 0) ctx.log.info('outbox', { outbox: name, ...m });
    },
    async sweep(ctx) {
      const r = requireRelay('sweep()');
      const metrics = new MetricsRecorder();
      const result = await sweep(depsFor(metrics, ctx), runOptions(ctx), r.sweep);
      return { ...result, metrics: metrics.snapshot() };
    },
    async flushTargets(ctx, refs) {
      requireRelay('flushTargets()');
      const metrics = new MetricsRecorder();
      await relayAggregates(depsFor(metrics, ctx), refs, runOptions(ctx));
      return metrics.snapshot();
    },
    async relayWatchdog(ctx, message) {
      requireRelay('relayWatchdog()');
      const target = parseWatchdogMessage(message);
      if (!target || target.outbox !== name) return undefined;
      const refs: AggregateRef[] = [];
      for (const key of target.keys ?? []) {
        try {
          const [where, aggregate] = JSON.parse(key) as [unknown, unknown];
          if (typeof where === 'string' && typeof aggregate === 'string') refs.push({ where, aggregate, since: 0 });
        } catch {
          // Not one of ours: skipped.
        }
      }
      const metrics = new MetricsRecorder();
      if (refs.length > 0) await relayAggregates(depsFor(metrics, ctx), refs, runOptions(ctx));
      else await sweep(depsFor(metrics, ctx), runOptions(ctx), { ...relay!.sweep, graceMs: 0 });
      return metrics.snapshot();
    },
    async redrive(ctx, ref) {
      requireRelay('redrive()');
      const metrics = new MetricsRecorder();
      const redriven = await relayStore.redrive({ ...ref, since: 0 }, { signal: ctx.signal });
      if (redriven) await relayAggregates(depsFor(metrics, ctx), [{ ...ref, since: 0 }], runOptions(ctx));
      return { redriven, metrics: metrics.snapshot() };
    },
  };
  return plugin;
}
