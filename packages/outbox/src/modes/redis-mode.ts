/**
 * Redis mode of the plugin: the function stages state commands and preconditions on
 * `ctx.outbox`; when it returns, they are written with its events in one Lua script.
 * Staging (rather than writing at once) is what lets a completion join the same script with
 * the function's result: the idempotency plugin's record is settled by `@steadyfn/lease`'s
 * settle fragment inside the write, and the request marker keeps the answer.
 */
import { hashTagOf } from '../stores/redis-keys.js';
import { pendingCompletion, RequestAlreadyAppliedError, type PendingCompletion } from '@steadyfn/idempotency';
import { aggregateKey, type EventDeclarations } from '../envelope.js';
import { redisWrite, type RedisCheck, type RedisCommand } from '../capture/redis.js';
import type { ScriptFragment } from '../capture/redis-script.js';
import type { InvocationState } from '../invocation.js';
import type { OutboxContextBase } from '../plugin.js';
import type { RedisOutboxStore } from '../stores/outbox-store.js';
import type { RelayLease } from '../relay/types.js';
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
}

/**
 * The idempotency completion as a fragment of the write, when its record can join: a Redis
 * lease store whose key lands on the write's slot (any key on one server; the partition's hash
 * tag on a cluster). Settled after the events, and only if this invocation still holds the
 * record: the settle writes nothing otherwise (the record on another server or database, or
 * taken over by another attempt), and the write goes on without the join — the request marker
 * alone keeps it exactly-once. The reply says which (`joined:1` / `joined:0`).
 */
function completionFragment(completion: PendingCompletion | undefined, partition: string | undefined, cluster: boolean): ScriptFragment | undefined {
  const lease = completion?.lease;
  const store = lease?.store as RelayLease | undefined;
  if (!lease || !store?.settleFragment || !store.settleCall) return undefined;
  const call = store.settleCall(lease.settle);
  if (cluster && hashTagOf(call.key) !== partition) return undefined;
  const { source, name } = store.settleFragment;
  return {
    name: 'idempotency',
    prelude: source,
    keys: [call.key],
    args: call.args,
    write: `out[#out + 1] = 'joined:' .. ${name}(FK[1], FA[1], FA[2], FA[3], FA[4], FA[5])`,
  };
}

/**
 * Writes what the invocation staged, once; notes the aggregates written for the flush.
 * `planned` runs once the write passed every check that needs no server, before anything is
 * sent, with its partition (the plugin arms the watchdog there): a write refused for its own
 * input runs nothing.
 *
 * @throws RequestAlreadyAppliedError when an earlier attempt of this request already wrote and
 *   recorded its answer (the idempotency plugin replays it).
 */
export async function redisCommit(store: RedisOutboxStore, state: InvocationState, result: unknown, planned?: (partition: string) => Promise<void>): Promise<void> {
  const { checks, commands } = state.redis;
  // Nothing to write: no completion asked for (one offered and never carried would make a later
  // failure release the record although there are no effects to write).
  if (state.events.length === 0 && commands.length === 0 && checks.length === 0) return;
  const completion = pendingCompletion(state.ctx, result);
  const client = await store.client();
  const key = defaultRequestKey(state.ctx);
  const partition = partitionOfStaged(state);
  const fragment = completionFragment(completion, partition, client.isCluster);
  const write = await redisWrite(client, store.prefix, {
    checks,
    commands,
    events: state.events,
    partitionTtlMs: store.partitionTtlMs,
    mark: store.mark ?? 'delete',
    ...(fragment ? { fragments: [fragment] } : {}),
    ...(key === undefined ? {} : { requestKey: { key, ttlMs: store.appliedTtlMs, answer: completion?.answer } }),
  }, planned);
  state.committed = true;
  state.metrics.recorded += write.events.length;
  // Committed: with the record's completion, or without it (the plugin completes it itself).
  if (fragment && write.extra.includes('joined:1')) completion!.joined();
  else completion?.notJoined();
  // A duplicate wrote nothing now; its events (from the first attempt) may still wait: flush them too.
  const seen = new Set<string>();
  const now = Date.now();
  for (const event of state.events) {
    const agg = aggregateKey(event.aggregateType, event.aggregateId);
    if (seen.has(agg)) continue;
    seen.add(agg);
    state.written.push({ where: write.partition, aggregate: agg, since: now });
  }
  state.events = [];
  if (write.duplicate && completion && write.applied !== undefined && write.applied !== '1') state.replay = new RequestAlreadyAppliedError(write.applied);
}

/** The hash tag every staged key shares, when they carry one. */
function partitionOfStaged(state: InvocationState): string | undefined {
  const first = state.redis.checks[0]?.key ?? state.redis.commands[0]?.[1];
  // Not a string: the write refuses it, naming the field (capture/redis.ts).
  return typeof first === 'string' ? hashTagOf(first) : undefined;
}
