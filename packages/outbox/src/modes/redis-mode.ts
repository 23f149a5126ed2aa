/**
 * Redis mode of the plugin: the function stages state commands and preconditions on
 * `ctx.outbox`; when it returns, they are written with its events in one Lua script.
 * Staging (rather than writing at once) is what lets a completion — an idempotency record,
 * an inbox record — join the same script with the function's result.
 */
import { aggregateKey, type EventDeclarations } from '../envelope.js';
import { redisWrite, type RedisCheck, type RedisCommand } from '../capture/redis.js';
import type { ScriptFragment } from '../capture/redis-script.js';
import type { InvocationState, OutboxContextBase } from '../plugin.js';
import type { RedisOutboxStore } from '../stores/outbox-store.js';
import { defaultRequestKey } from './request-key.js';

/** `ctx.outbox` with a Redis store. */
export interface RedisOutboxContext<D extends EventDeclarations> extends OutboxContextBase<D> {
  /**
   * Adds a precondition checked before anything is written; a failed one fails the
   * invocation with `OUTBOX_PRECONDITION_FAILED` (409) and writes nothing.
   *
   * @example ctx.outbox.check({ key: 'order:{o-42}', field: 'status', equals: 'validated' })
   */
  check(check: RedisCheck): void;
  /**
   * Stages a state command, written with the events when the function returns. Every key
   * of one invocation's write must share a hash tag on Redis Cluster (`order:{o-42}`).
   *
   * @example ctx.outbox.call('HSET', 'order:{o-42}', 'status', 'paid')
   */
  call(...command: RedisCommand): void;
}

/** What the function staged. */
export interface RedisStaging {
  checks: RedisCheck[];
  commands: RedisCommand[];
  /** Completions joined into the script (idempotency, inbox). */
  fragments?: ScriptFragment[];
}

/** Writes what the invocation staged, once; notes the aggregates written for the flush. */
export async function redisCommit(store: RedisOutboxStore, state: InvocationState): Promise<void> {
  const { checks, commands, fragments } = state.redis;
  if (state.events.length === 0 && commands.length === 0 && checks.length === 0 && !fragments?.length) return;
  const client = await store.client();
  const key = defaultRequestKey(state.ctx);
  const requestKey = key === undefined ? {} : { requestKey: { key, ttlMs: store.appliedTtlMs } };
  const result = await redisWrite(client, store.prefix, { checks, commands, events: state.events, ...(fragments ? { fragments } : {}), ...requestKey });
  state.committed = true;
  state.metrics.recorded += result.events.length;
  // A duplicate wrote nothing now; its events (from the first attempt) may still wait: flush them too.
  const seen = new Set<string>();
  const now = Date.now();
  for (const event of state.events) {
    const agg = aggregateKey(event.aggregateType, event.aggregateId);
    if (seen.has(agg)) continue;
    seen.add(agg);
    state.written.push({ where: result.partition, aggregate: agg, since: now });
  }
  state.events = [];
}
