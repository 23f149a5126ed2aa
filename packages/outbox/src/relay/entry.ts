/**
 * The relay's entry points that run outside the invocation that wrote the events: the
 * sweeper (a schedule), the watchdog's consumer (the relay queue) and redrive. Each builds a
 * relay run from the outbox's options and returns what it did.
 */
import type { Context } from '@steadyfn/handler';
import { ConfigurationError, DeadlineExceededError, fitsTimer, invalidOption, isRecord, SteadyError } from '@steadyfn/handler/internal';
import { OutboxUnavailableError, RelayIncompleteError } from '../errors.js';
import type { ResolvedRelay } from '../options.js';
import { readWatchdogMessage } from '../sqs/watchdog-message.js';
import { MetricsRecorder, type OutboxMetrics } from './metrics.js';
import { relayAggregates, type RelayDeps, type RelayRunOptions } from './relay.js';
import { doneKey } from './run-options.js';
import { sweep, type SweepResult } from './sweeper.js';
import { checkRedriveRef, redriveQuarantine, type RedriveResult } from './redrive.js';
import { flushRefs, watchdogRefs } from './targets.js';
import type { AggregateRef, QuarantineRef, RedriveOutcome, RelayStore } from './types.js';

/** What the relay entry points need of the running function: its signal, time left and logger. */
export type RelayContext = Pick<Context, 'signal' | 'remainingMs' | 'log'>;

/** The relay entry points of one outbox. */
export interface RelayEntries {
  /**
   * Relays aggregates pending longer than the grace period; call it from a schedule-triggered
   * function. Once it has its list, a store or queue failure ends it early (warned), never throws.
   *
   * @throws OutboxUnavailableError (`OUTBOX_STORE_UNAVAILABLE`, 503) when the store cannot list its pending aggregates.
   * @throws ConfigurationError when the outbox has no `relay`, or `ctx` is not the running function's ctx (`signal`, `remainingMs()`, `log`): `CONFIG_INVALID`, field `ctx`; nothing is read or sent.
   * @throws ConfigurationError `CONFIG_INVALID`, field `relay.leaseMs`, when the lease is too short for the server's write lease (see `RelayOptions.leaseMs`), and OutboxUnavailableError (`OUTBOX_STORE_UNAVAILABLE`, retryable) when that server could not be asked (`atomicity: 'auto'`); nothing is read or sent.
   */
  sweep(ctx: RelayContext): Promise<SweepResult & { metrics: OutboxMetrics }>;
  /**
   * Relays the aggregates `refs` names (`{ where, aggregate, since? }` each: `listPending`'s
   * entries, or refs you hold yourself).
   *
   * @throws RelayTargetInvalidError (`OUTBOX_RELAY_TARGET_INVALID`, 400, naming the field) for
   *   refs that are not an array of `{ where, aggregate, since? }` naming aggregates of this
   *   outbox (another outbox's partition or collection, an undeclared aggregate type). Nothing is relayed.
   * @throws ConfigurationError when the outbox has no `relay`, or `ctx` is not the running function's ctx (`signal`, `remainingMs()`, `log`): `CONFIG_INVALID`, field `ctx`; nothing is read or sent.
   * @throws ConfigurationError `CONFIG_INVALID`, field `relay.leaseMs`, when the lease is too short for the server's write lease (see `RelayOptions.leaseMs`), and OutboxUnavailableError (`OUTBOX_STORE_UNAVAILABLE`, retryable) when that server could not be asked (`atomicity: 'auto'`); nothing is read or sent.
   */
  flushTargets(ctx: RelayContext, refs: ReadonlyArray<AggregateRef>): Promise<OutboxMetrics>;
  /**
   * The watchdog's consumer: relays the aggregates a watchdog message names (its body, as the
   * relay queue delivered it); a message naming none sweeps the whole outbox. Undefined when
   * the message is not this outbox's watchdog message. Resolves (the consumer returns, SQS
   * deletes the message) only once every aggregate it names has nothing left to send now:
   * drained, quarantined or held for a redrive. Give the relay queue a visibility timeout of at
   * least `relay.leaseMs`, and the watchdog a `delayMs` of at least `relay.leaseMs`.
   *
   * @throws RelayIncompleteError (`OUTBOX_RELAY_INCOMPLETE`, 503, retryable; `left` and `named`
   *   count aggregates) when an aggregate it names still has events pending: another relay's
   *   lease holds it (a relay killed mid-flush keeps it for `relay.leaseMs`), SQS did not take
   *   its events, or the run stopped early. Let it fail the message: the relay queue delivers it again.
   * @throws RelayTargetInvalidError (`OUTBOX_RELAY_TARGET_INVALID`, 400, field `keys`, `keys[i]`,
   *   `keys[i].where` or `keys[i].aggregate`) for this outbox's watchdog message whose keys cannot
   *   name its aggregates (not at most 100 `JSON.stringify([where, aggregate])` texts, another
   *   outbox's partition or collection, an undeclared aggregate type). Nothing is relayed.
   * @throws ConfigurationError when the outbox has no `relay`, or `ctx` is not the running function's ctx (`signal`, `remainingMs()`, `log`): `CONFIG_INVALID`, field `ctx`; nothing is read or sent.
   * @throws ConfigurationError `CONFIG_INVALID`, field `relay.leaseMs`, when the lease is too short for the server's write lease (see `RelayOptions.leaseMs`), and OutboxUnavailableError (`OUTBOX_STORE_UNAVAILABLE`, retryable) when that server could not be asked (`atomicity: 'auto'`); nothing is read or sent.
   */
  relayWatchdog(ctx: RelayContext, message: unknown): Promise<OutboxMetrics | undefined>;
  /**
   * Releases a quarantined aggregate and relays it again, in order. `ref` is what the
   * `outbox aggregate quarantined` warning names (`where`, `aggregate`, `fromSeq`, `quarantinedAt`)
   * or an entry of the store's `listQuarantined`. Only the quarantine its `fromSeq` and
   * `quarantinedAt` identify is released — not one taken again since the reference was read.
   *
   * A stale reference (the aggregate is not quarantined, or quarantined again since) releases
   * and sends nothing: `{ redriven: false, skipped }`. Of redrives of one reference at once,
   * exactly one answers `redriven: true` and relays; the others answer `redriven: false`; the
   * events are sent once, in seq order.
   *
   * @throws RedriveRefInvalidError (`OUTBOX_REDRIVE_REF_INVALID`, 400, naming the field) for a
   *   reference that cannot be this outbox's: not `{ where, aggregate, fromSeq, quarantinedAt }` (the quarantine's identity is required), an
   *   unknown key, another outbox's partition or collection, an undeclared aggregate type, an
   *   aggregate never at that `where`. Nothing is released or sent.
   * @throws QuarantineUnreadableError (`OUTBOX_QUARANTINE_UNREADABLE`, 409, naming the
   *   aggregate and where its entry is kept) when the aggregate's stored quarantine is not the
   *   relay's `{ fromSeq, reason, at }` (written by something else): nothing is released, reset or sent.
   * @throws ConfigurationError when the outbox has no `relay`, or `ctx` is not the running function's ctx (`signal`, `remainingMs()`, `log`): `CONFIG_INVALID`, field `ctx`; nothing is read or sent.
   * @throws ConfigurationError `CONFIG_INVALID`, field `relay.leaseMs`, when the lease is too short for the server's write lease (see `RelayOptions.leaseMs`), and OutboxUnavailableError (`OUTBOX_STORE_UNAVAILABLE`, retryable) when that server could not be asked (`atomicity: 'auto'`); nothing is read or sent.
   * @example await orders.redrive(ctx, { where: 'o-42', aggregate: 'order/o-42', fromSeq: 3, quarantinedAt: 1764586800000 })
   */
  redrive(ctx: RelayContext, ref: QuarantineRef): Promise<RedriveResult<OutboxMetrics>>;
}

/**
 * `ctx.signal`, or sooner: aborted once only `reserveMs` remain before the deadline. Rounds
 * check the time before they start, but one send to a queue that stops answering would
 * otherwise hold the run until `ctx.signal` — the moment the handler answers
 * `DEADLINE_EXCEEDED`, failing an invocation whose write had committed (and a retry without
 * a request key would write again).
 */
function reserveSignal(ctx: Pick<Context, 'signal' | 'remainingMs'>, reserveMs: number): AbortSignal {
  const ms = ctx.remainingMs() - reserveMs;
  // Past Node's longest timer (a deadline weeks away) a timer would fire after 1 ms: no bound.
  if (!fitsTimer(ms)) return ctx.signal;
  const early = new AbortController();
  const timer = setTimeout(() => early.abort(new DeadlineExceededError(`The outbox relay stopped with ${reserveMs} ms (reserveMs) left before the deadline`)), Math.max(0, ms));
  timer.unref?.();
  return AbortSignal.any([ctx.signal, early.signal]);
}

/** The options of one run, from the resolved relay options and the running function. */
export function runOptionsOf(relay: ResolvedRelay, ctx: Pick<Context, 'signal' | 'remainingMs'>): RelayRunOptions {
  return {
    leaseMs: relay.leaseMs,
    maxEventsPerAggregate: relay.maxEventsPerAggregate,
    maxBytesPerRound: relay.maxBytesPerRound,
    poison: relay.poison,
    reserveMs: relay.reserveMs,
    remainingMs: () => ctx.remainingMs(),
    signal: reserveSignal(ctx, relay.reserveMs),
    releaseSignal: ctx.signal,
  };
}

/** The dependencies of one run. */
export function depsOf(relay: ResolvedRelay, store: RelayStore, metrics: MetricsRecorder, ctx: Pick<Context, 'log'>): RelayDeps {
  return { store, lease: relay.lease, sender: relay.sender, metrics, log: ctx.log };
}

const CTX_EXPECTED = "the running function's ctx: { signal: AbortSignal, remainingMs(): number, log? } (pass the handler's ctx)";

/**
 * Every entry point needs the running function's `ctx` (deadline, abort, logger): without it the
 * run would fail deep inside with an untyped `TypeError`. Checked before anything is read or sent.
 */
function checkRelayContext(entry: string, ctx: unknown): asserts ctx is RelayContext {
  const c = ctx as Record<string, unknown> | null | undefined;
  const log = isRecord(c) ? (c.log as Record<string, unknown> | undefined) : undefined;
  // `log` may be left out (the relay's warnings are then dropped), as the relay has always allowed.
  if (isRecord(c) && c.signal instanceof AbortSignal && typeof c.remainingMs === 'function' && (log === undefined || (isRecord(log) && typeof log.warn === 'function'))) return;
  const got = c === null ? 'null' : c === undefined ? 'undefined' : typeof c !== 'object' ? typeof c : 'an object without them';
  throw new ConfigurationError(`outbox.${entry}(): argument "ctx" must be ${CTX_EXPECTED}; got ${got}`, { field: 'ctx', expected: CTX_EXPECTED });
}

/**
 * The entry points of the outbox named `name`, whose events declare `aggregateTypes`; each
 * throws `ConfigurationError` when the outbox has no `relay`, or when `ready` (awaited before
 * anything is read or sent) throws it; another failure of `ready` is a retryable
 * `OutboxUnavailableError`.
 */
export function relayEntries(name: string, relay: ResolvedRelay | undefined, store: RelayStore, aggregateTypes: Iterable<string>, ready: () => Promise<void> = async () => undefined): RelayEntries {
  const types = new Set(aggregateTypes);
  const requireRelay = (what: string): ResolvedRelay => {
    if (!relay) invalidOption('outbox', 'relay', `an object { sender, lease } (${what} relays events)`, undefined);
    return relay;
  };
  const run = async (ctx: RelayContext, what: string, work: (deps: RelayDeps, options: RelayRunOptions, r: ResolvedRelay) => Promise<void>): Promise<OutboxMetrics> => {
    const r = requireRelay(what);
    // Options judged only once the server is known (relay.leaseMs against FerretDB's write lease):
    // a failed probe stops the run before anything is read or sent, never lets it go on un-judged.
    await ready().catch((error: unknown) => {
      throw error instanceof SteadyError ? error : new OutboxUnavailableError('outbox: the store\'s server could not be asked what it is (buildInfo); nothing was relayed', error);
    });
    const metrics = new MetricsRecorder();
    await work(depsOf(r, store, metrics, ctx), runOptionsOf(r, ctx), r);
    return metrics.snapshot();
  };
  return {
    async sweep(ctx) {
      checkRelayContext('sweep', ctx);
      let result: SweepResult = { found: 0, cleaned: 0, pruned: 0, skipped: [] };
      const metrics = await run(ctx, 'sweep()', async (deps, options, r) => {
        result = await sweep(deps, options, r.sweep);
      });
      return { ...result, metrics };
    },
    async flushTargets(ctx, refs) {
      checkRelayContext('flushTargets', ctx);
      requireRelay('flushTargets()');
      const checked = flushRefs(refs, types, store);
      return run(ctx, 'flushTargets()', (deps, options) => relayAggregates(deps, checked, options));
    },
    async relayWatchdog(ctx, message) {
      checkRelayContext('relayWatchdog', ctx);
      requireRelay('relayWatchdog()');
      const target = readWatchdogMessage(message);
      if (!target || target.outbox !== name) return undefined;
      // Every key checked before any is relayed: a garbled or foreign one refuses the message.
      const refs = watchdogRefs(target.keys, types, store);
      return run(ctx, 'relayWatchdog()', async (deps, options, r) => {
        if (refs.length === 0) return void (await sweep(deps, options, { ...r.sweep, graceMs: 0 }));
        // Returning acknowledges the message (SQS deletes it): only once every aggregate it names
        // has nothing left to send now. One another relay's lease still holds (a relay killed
        // mid-flush keeps it for leaseMs), or whose events SQS did not take, fails the message:
        // the relay queue delivers it again after its visibility timeout.
        const done = new Set<string>();
        await relayAggregates(deps, refs, { ...options, done });
        const named = new Set(refs.map(doneKey));
        const left = [...named].filter((key) => !done.has(key)).length;
        if (left > 0) {
          ctx.log?.warn('outbox watchdog message not done; failed so the relay queue delivers it again', { code: 'OUTBOX_RELAY_INCOMPLETE', left, named: named.size, sent: deps.metrics.sent, failed: deps.metrics.failed, leased: deps.metrics.leased });
          throw new RelayIncompleteError(left, named.size);
        }
      });
    },
    async redrive(ctx, ref) {
      checkRelayContext('redrive', ctx);
      requireRelay('redrive()');
      const checked = checkRedriveRef(ref, types, store);
      let outcome = 'not-quarantined' as RedriveOutcome;
      const metrics = await run(ctx, 'redrive()', async (deps, options) => {
        outcome = await redriveQuarantine(store, deps.lease, checked, { leaseMs: options.leaseMs, signal: ctx.signal }, () => relayAggregates(deps, [{ where: checked.where, aggregate: checked.aggregate, since: 0 }], options));
      });
      return outcome === 'redriven' ? { redriven: true, metrics } : { redriven: false, skipped: outcome as Exclude<RedriveOutcome, 'redriven' | 'unknown'>, metrics };
    },
  };
}
