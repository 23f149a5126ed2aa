/**
 * The outbox plugin's per-invocation state: the handler core makes one per invocation (and per
 * message of a batch) through the plugin's `state()` and hands it to every hook, so nothing of
 * an invocation lives in module-level maps.
 */
import type { Context } from '@steadyfn/handler';
import type { EnvelopeMeta, PendingEvent } from './envelope.js';
import type { RedisStaging } from './modes/redis-mode.js';
import { MetricsRecorder } from './relay/metrics.js';
import type { AggregateRef } from './relay/types.js';
import type { SessionLike } from './stores/mongo-collection.js';

/** One invocation's outbox state. */
export interface InvocationState {
  /** Set by `extend`. */
  ctx: Context;
  /** Events added and not written yet (cleared at each attempt `wrap` starts). */
  events: PendingEvent[];
  metrics: MetricsRecorder;
  meta: EnvelopeMeta | undefined;
  /** Aggregates the commit wrote, for the flush. */
  written: AggregateRef[];
  committed: boolean;
  /** The outbox's write has run (its `after` or `onError` began): `ctx.outbox` stages nothing more. */
  closed: boolean;
  /** Redis mode: preconditions and commands staged for the write. */
  redis: RedisStaging;
  /** Transaction mode: the session while the transaction runs. */
  session: SessionLike | undefined;
  /**
   * Embedded mode: per document, the request keys this run of the function's updates applied
   * (written, or found written by an earlier attempt), whose answers are kept when it returns.
   */
  applied: Map<string, string[]>;
  /**
   * Embedded mode: per document, the request keys of this run's updates that matched nothing,
   * recorded in the document when the function returns (a redelivery answers them `matched:
   * false` again).
   */
  missed: Map<string, string[]>;
  /**
   * Embedded mode: per document, how many `updateOne` calls this run made under each request
   * key they are numbered from (each call, whatever its outcome, takes its key's next number:
   * `<key>`, `<key>#1`, …) and the key the last one that applied was numbered from (the events
   * added after it are written under that key's next number). Cleared at each run `wrap`
   * starts, so a run again of the function numbers as the first did.
   */
  calls: Map<string, { counts: Map<string, number>; base: string | undefined }>;
  /** An earlier attempt of this request wrote already, with this answer: thrown after the flush, for the idempotency plugin to replay. */
  replay?: Error | undefined;
}

/** A fresh state (the plugin's `state()`); `ctx` is filled in by `extend`. */
export function newInvocationState(): InvocationState {
  return {
    ctx: undefined as unknown as Context,
    events: [],
    metrics: new MetricsRecorder(),
    meta: undefined,
    written: [],
    committed: false,
    closed: false,
    redis: { checks: [], commands: [] },
    session: undefined,
    applied: new Map(),
    missed: new Map(),
    calls: new Map(),
  };
}

/**
 * Forgets what an attempt of the function staged: a `wrap` that runs the function again (a
 * MongoDB transaction retried by `withTransaction`, a retrying plugin listed before the outbox)
 * starts from nothing, so a failed attempt's events never leak into the next.
 */
export function resetAttempt(state: InvocationState): void {
  state.events = [];
  state.redis = { checks: [], commands: [] };
  // The run numbers its updates from `<key>` again, as the first did, so each finds its own
  // applied in the document (a duplicate) instead of counting on from the failed run's keys; a
  // failed run's misses are not recorded (its retry checks their filters again). `written`
  // stays: what the failed run wrote is flushed all the same.
  state.applied = new Map();
  state.missed = new Map();
  state.calls = new Map();
}
