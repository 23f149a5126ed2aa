/**
 * The relay's view of the Redis outbox (layout in `redis-keys.ts`, Lua in
 * `redis-relay-scripts.ts`). Batch calls group aggregates by what one script may touch: every
 * aggregate on a single server, one partition (hash tag) on a cluster; the groups go out
 * together, so ioredis pipelines them. The calls, by concern:
 *
 *   begin       redis-relay-begin.ts: per aggregate, the first ids of its set, their stream
 *               entries, HINCRBY started (within the round's byte budget, the replies parsed)
 *   settle      redis-relay-settle.ts: marks and the lease's release in one script
 *   quarantine, redrive, listQuarantined   redis-relay-quarantine.ts
 *   listPending, cleanup, prune            redis-relay-sweep.ts
 *   the scripts' typed refusals, the partition list   redis-relay-calls.ts
 *   the relay lease on the same server (checked once) redis-relay-lease.ts
 */
import { checkKnownKeys, clientOption, invalidOption, keysOf, msOption, oneOfOption } from '@steadyfn/handler/internal';
import type { RelayLease, RelayStore } from '../relay/types.js';
import { clientGetter, type RedisClientOption } from './redis-client.js';
import { checkPrefix, DEFAULT_REDIS_PREFIX, partitionKeys } from './redis-keys.js';
import { redisBegin } from './redis-relay-begin.js';
import { listPartitions, runRelayScript } from './redis-relay-calls.js';
import { leaseCheck } from './redis-relay-lease.js';
import { redisQuarantines } from './redis-relay-quarantine.js';
import { redisSettle } from './redis-relay-settle.js';
import { redisSweep } from './redis-relay-sweep.js';
import type { RedisOutboxStore } from './outbox-store.js';

/** Options of the Redis relay store. */
export interface RedisRelayStoreOptions {
  /** An ioredis `Redis` or `Cluster`, or a getter. */
  client: RedisClientOption;
  /** Key prefix, the same as the capture's. @default 'outbox:' */
  prefix?: string;
  /** After SQS accepted an event: delete it (default) or keep it as sent until `cleanup`. */
  mark?: 'delete' | 'sent';
  /**
   * A `@steadyfn/lease` Redis store (the relay's lease): its settle fragment is included in
   * the mark script, so marking and releasing the lease are one atomic step and a relay that
   * lost its lease marks nothing. Set by `outbox()` from `relay.lease`. It must keep its keys
   * on this store's server and database (any client object): the first `begin` checks it and
   * throws a `ConfigurationError` (`field: 'relay.lease'`) otherwise — the mark script would
   * find no lease, mark nothing, and the events would be sent again every lease.
   */
  lease?: RelayLease;
}

/** The Redis relay store, as `redisRelayStore` returns it. */
export type RedisRelayStore = RelayStore & { partitions(): Promise<string[]> };

/**
 * The Redis relay store.
 *
 * @throws ConfigurationError for a prefix with braces, a bad `mark`, or an unknown option key.
 * @example redisRelayStore({ client: redis, prefix: 'outbox:' })
 */
export function redisRelayStore(options: RedisRelayStoreOptions): RedisRelayStore {
  return relayStoreOf(options, 'redisRelayStore');
}

/** `redisRelayStore`, its errors naming `owner`: the function the user called (`redisOutbox` builds one). */
function relayStoreOf(options: RedisRelayStoreOptions, owner: string): RedisRelayStore {
  checkKnownKeys(owner, '', options, keysOf<RedisRelayStoreOptions>({ client: true, prefix: true, mark: true, lease: true }));
  const prefix = checkPrefix(owner, options.prefix ?? DEFAULT_REDIS_PREFIX);
  const getClient = clientGetter(options.client, owner);
  const mode = oneOfOption(owner, 'mark', options.mark, ['delete', 'sent'] as const, 'delete');
  const settleLease = options.lease?.settleFragment && options.lease.settleCall ? options.lease : undefined;
  /** The lease store's settle runs in this store's scripts: checked once that it sees the same keys (a failed probe is tried again). */
  const checkLease = leaseCheck(settleLease);
  const begin = redisBegin(prefix, runRelayScript);
  const settle = redisSettle(prefix, mode, settleLease, getClient, runRelayScript);

  const store: RedisRelayStore = {
    kind: 'redis',
    leaseKey: (ref) => partitionKeys(prefix, ref.where).lease(ref.aggregate),
    cleanupLeaseKey: `${prefix}relay-cleanup`,
    async partitions() {
      return listPartitions(await getClient(), prefix);
    },
    ...redisSweep(prefix, getClient, runRelayScript),
    async begin(items, { limit, maxBytes, signal }) {
      const client = await getClient();
      await checkLease(client);
      return begin(client, items, limit, maxBytes, signal);
    },
    settle: (items, callOptions) => settle(items, callOptions?.signal),
    settleReleasesLease: settleLease !== undefined,
    withLease(lease: RelayLease): RelayStore {
      return lease.settleFragment && lease.settleCall ? relayStoreOf({ ...options, lease }, owner) : this;
    },
    ...redisQuarantines(prefix, getClient, runRelayScript),
    refIssue: ({ where }) => (/[{}]/.test(where) ? { field: 'where', expected: 'a partition of this outbox: a hash tag, without { or }' } : undefined),
  };
  if (mode === 'delete') delete store.cleanup;
  return store;
}

/** Options of `redisOutbox`. */
export interface RedisOutboxOptions extends RedisRelayStoreOptions {
  /**
   * How long a write's request key (delivery id, inbox key, `Idempotency-Key`) is remembered,
   * so a redelivery writes nothing twice: at least the queue's retention plus its DLQ's.
   * @default 1209600000 (14 days)
   */
  appliedTtlMs?: number;
  /**
   * Redis Cluster: a partition stays in the sweeper's partition list while it holds anything
   * and for this long after its last write; then a sweep drops it (its next write lists it
   * again, at the cost of one more round trip then). On a single server the list is exact: the
   * write's own script lists the partition and a sweep drops it once it holds nothing.
   * @default 3600000 (1 hour)
   */
  partitionTtlMs?: number;
}

/**
 * The Redis outbox: state commands and events in one Lua script; on Redis Cluster every key
 * of a write shares a hash tag (see `streamKeyFor`). An aggregate's `seq`, pending entries and
 * relay lease live in the partition (hash tag) of the write that records it: write one
 * aggregate's events always under the same tag. The write checks it against the aggregate's
 * home partition (`<prefix>home:<aggregate>`, recorded by its first write; on a cluster claimed
 * before the write, one extra round trip) and refuses another tag with a 409
 * `OUTBOX_AGGREGATE_PARTITION`, writing nothing (README, "An aggregate lives in one partition").
 *
 * @example outbox({ events, store: redisOutbox({ client: redis }), relay })
 * @throws ConfigurationError for a prefix with braces, a bad option, or an unknown option key.
 */
export function redisOutbox(options: RedisOutboxOptions): RedisOutboxStore {
  if (typeof options !== 'object' || options === null) invalidOption('redisOutbox', 'options', 'an object', options);
  checkKnownKeys('redisOutbox', '', options, keysOf<RedisOutboxOptions>({ client: true, prefix: true, mark: true, lease: true, appliedTtlMs: true, partitionTtlMs: true }));
  clientOption('redisOutbox', 'client', options.client, ['evalsha', 'eval', 'call'], 'an ioredis Redis or Cluster');
  const prefix = checkPrefix('redisOutbox', options.prefix ?? DEFAULT_REDIS_PREFIX);
  const mark = oneOfOption('redisOutbox', 'mark', options.mark, ['delete', 'sent'] as const, 'delete');
  const appliedTtlMs = msOption('redisOutbox', 'appliedTtlMs', options.appliedTtlMs, 14 * 24 * 3_600_000);
  const partitionTtlMs = msOption('redisOutbox', 'partitionTtlMs', options.partitionTtlMs, 3_600_000, 1_000);
  return { mode: 'redis', prefix, appliedTtlMs, partitionTtlMs, mark, client: clientGetter(options.client), relay: relayStoreOf({ client: options.client, prefix, mark: options.mark, lease: options.lease }, 'redisOutbox') };
}
