/**
 * The relay's view of the Redis outbox (layout in `redis-keys.ts`). Every operation on an
 * aggregate is one script on its partition's slot:
 *
 *   begin       read the first n ids of the aggregate's set, their stream entries, HINCRBY started
 *   settle      for each accepted (id, seq) still at that seq: XDEL (or record as sent), drop
 *               from the set and its counters; HINCRBY finished on refused ones; move the
 *               aggregate's pending score to its new head (or drop it)
 *   quarantine  HSET quarantine aggregate → { fromSeq, reason, at }
 *   redrive     HDEL quarantine, reset the aggregate's counters
 *
 * Times written by scripts come from the server's `TIME`, not the function's clock.
 */
import { msOption } from '@steadyfn/handler/internal';
import type { AggregateRef, LeaseClient, RelayStore, StoredEvent } from '../relay/types.js';
import { clientGetter, flatPairs, luaScript, runScript, type RedisClientOption, type RedisLike } from './redis-client.js';
import { checkPrefix, DEFAULT_REDIS_PREFIX, partitionKeys, partitionsKey } from './redis-keys.js';
import type { RedisOutboxStore } from './outbox-store.js';

const BEGIN = luaScript(`
if redis.call('HEXISTS', KEYS[4], ARGV[1]) == 1 then return {1} end
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
local out = {0}
for _, id in ipairs(ids) do
  local entry = redis.call('XRANGE', KEYS[2], id, id)
  if #entry == 1 then
    local f = entry[1][2]
    local started = redis.call('HINCRBY', KEYS[3], id .. ':s', 1)
    local finished = redis.call('HGET', KEYS[3], id .. ':f') or '0'
    out[#out + 1] = id
    out[#out + 1] = f[4]
    out[#out + 1] = f[6]
    out[#out + 1] = f[8]
    out[#out + 1] = f[10]
    out[#out + 1] = started
    out[#out + 1] = finished
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out`);

/**
 * KEYS: 1 aggregate set, 2 stream, 3 attempts, 4 pending, 5 sent, 6 the lease (when settled
 * here). ARGV: 1 aggregate, 2 'delete' | 'sent', 3 count accepted, 4 count refused, 5-9 the
 * lease settle's arguments (or empty), then (id, seq) per accepted, id per refused.
 * With the lease fragment the lease is released first, and nothing is marked (-1) when the
 * caller no longer holds it.
 */
function settleScript(leaseFragment: string | undefined): ReturnType<typeof luaScript> {
  return luaScript(`${leaseFragment ?? ''}
${leaseFragment ? `if steadyfn_lease_settle(KEYS[6], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]) == 0 then return -1 end` : ''}
local nsent, nrefused = tonumber(ARGV[3]), tonumber(ARGV[4])
local now = redis.call('TIME')
local nowms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local marked = 0
for i = 0, nsent - 1 do
  local id, seq = ARGV[10 + 2 * i], ARGV[11 + 2 * i]
  if redis.call('ZSCORE', KEYS[1], id) == seq then
    redis.call('ZREM', KEYS[1], id)
    if ARGV[2] == 'sent' then redis.call('ZADD', KEYS[5], nowms, id) else redis.call('XDEL', KEYS[2], id) end
    redis.call('HDEL', KEYS[3], id .. ':s', id .. ':f')
    marked = marked + 1
  end
end
for i = 0, nrefused - 1 do
  local id = ARGV[10 + 2 * nsent + i]
  if redis.call('ZSCORE', KEYS[1], id) then redis.call('HINCRBY', KEYS[3], id .. ':f', 1) end
end
local head = redis.call('ZRANGE', KEYS[1], 0, 0)
if #head == 0 then
  redis.call('ZREM', KEYS[4], ARGV[1])
else
  redis.call('ZADD', KEYS[4], tonumber(string.match(head[1], '^(%d+)')), ARGV[1])
end
return marked`);
}

const QUARANTINE = luaScript(`
local now = redis.call('TIME')
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({fromSeq = tonumber(ARGV[2]), reason = ARGV[3], at = tonumber(now[1]) * 1000}))
return 1`);

const REDRIVE = luaScript(`
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do redis.call('HDEL', KEYS[3], id .. ':s', id .. ':f') end
return 1`);

const CLEANUP = luaScript(`
local now = redis.call('TIME')
local cutoff = tonumber(now[1]) * 1000 - tonumber(ARGV[1])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff, 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  redis.call('XDEL', KEYS[2], id)
  redis.call('ZREM', KEYS[1], id)
end
return #ids`);

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
   * lost its lease marks nothing. Set by `outbox()` from `relay.lease`.
   */
  lease?: LeaseClient;
}

/** Parses a BEGIN reply into stored events. */
function readHead(reply: unknown, ref: AggregateRef): { quarantined: boolean; events: StoredEvent[] } {
  const parts = reply as Array<string | number>;
  if (Number(parts[0]) === 1) return { quarantined: true, events: [] };
  const events: StoredEvent[] = [];
  const slash = ref.aggregate.indexOf('/');
  for (let i = 1; i + 6 < parts.length; i += 7) {
    const streamId = String(parts[i]);
    events.push({
      ref: streamId,
      seq: Number(parts[i + 1]),
      id: String(parts[i + 2]),
      body: String(parts[i + 3]),
      type: String(parts[i + 4]),
      started: Number(parts[i + 5]),
      finished: Number(parts[i + 6]),
      aggregate: ref.aggregate,
      aggregateId: ref.aggregate.slice(slash + 1),
      committedAt: Number(streamId.split('-')[0]),
    });
  }
  return { quarantined: false, events };
}

/**
 * The Redis relay store.
 *
 * @example redisRelayStore({ client: redis, prefix: 'outbox:' })
 */
export function redisRelayStore(options: RedisRelayStoreOptions): RelayStore & { partitions(): Promise<string[]> } {
  const prefix = checkPrefix('redisRelayStore', options.prefix ?? DEFAULT_REDIS_PREFIX);
  const getClient = clientGetter(options.client);
  const mode = options.mark ?? 'delete';
  const settleLease = options.lease?.settleFragment && options.lease.settleCall ? options.lease : undefined;
  const settlePlain = settleScript(undefined);
  const settleWithLease = settleLease ? settleScript(settleLease.settleFragment!.source) : undefined;

  const partitions = async (client: RedisLike): Promise<string[]> => {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, members] = (await client.call('SSCAN', partitionsKey(prefix), cursor, 'COUNT', 1000)) as [string, string[]];
      cursor = next;
      out.push(...members);
    } while (cursor !== '0' && out.length < 100_000);
    return out;
  };

  return {
    kind: 'redis',
    leaseKey: (ref) => partitionKeys(prefix, ref.where).lease(ref.aggregate),
    async partitions() {
      return partitions(await getClient());
    },
    async listPending({ limit, before }) {
      const client = await getClient();
      const found: AggregateRef[] = [];
      const tags = await partitions(client);
      // Sent together (ioredis pipelines concurrent commands), a few hundred partitions at a time.
      for (let i = 0; i < tags.length; i += 500) {
        const replies = await Promise.all(
          tags.slice(i, i + 500).map(async (tag) => ({ tag, reply: flatPairs(await client.call('ZRANGEBYSCORE', partitionKeys(prefix, tag).pending, '-inf', String(before), 'WITHSCORES', 'LIMIT', '0', String(limit))) })),
        );
        for (const { tag, reply } of replies) for (let j = 0; j + 1 < reply.length; j += 2) found.push({ where: tag, aggregate: reply[j]!, since: Number(reply[j + 1]) });
      }
      return found.sort((a, b) => a.since - b.since).slice(0, limit);
    },
    async begin(ref, { limit }) {
      const k = partitionKeys(prefix, ref.where);
      const reply = await runScript(await getClient(), BEGIN, [k.aggregate(ref.aggregate), k.events, k.attempts, k.quarantine], [ref.aggregate, limit]);
      return readHead(reply, ref);
    },
    async settle(ref, { sent, refused, lease }) {
      const k = partitionKeys(prefix, ref.where);
      const call = settleLease?.settleCall!({ key: lease.key, owner: lease.owner, fence: lease.fence });
      const keys = [k.aggregate(ref.aggregate), k.events, k.attempts, k.pending, k.sent, ...(call ? [call.key] : [])];
      const leaseArgs = call ? call.args.map(String) : ['', '', '', '', ''];
      const args: Array<string | number> = [ref.aggregate, mode, sent.length, refused.length, ...leaseArgs, ...sent.flatMap((e) => [e.ref, String(e.seq)]), ...refused.map((e) => e.ref)];
      const marked = Number(await runScript(await getClient(), settleLease ? settleWithLease! : settlePlain, keys, args));
      return Math.max(0, marked);
    },
    settleReleasesLease: settleLease !== undefined,
    withLease(lease) {
      return lease.settleFragment && lease.settleCall ? redisRelayStore({ ...options, lease }) : this;
    },
    async quarantine(ref, { fromSeq, reason }) {
      const k = partitionKeys(prefix, ref.where);
      await runScript(await getClient(), QUARANTINE, [k.quarantine], [ref.aggregate, fromSeq, reason]);
    },
    async redrive(ref) {
      const k = partitionKeys(prefix, ref.where);
      return Number(await runScript(await getClient(), REDRIVE, [k.quarantine, k.aggregate(ref.aggregate), k.attempts], [ref.aggregate])) === 1;
    },
    async listQuarantined({ limit }) {
      const client = await getClient();
      const out: Array<AggregateRef & { fromSeq: number; reason: string }> = [];
      for (const tag of await partitions(client)) {
        const all = flatPairs(await client.call('HGETALL', partitionKeys(prefix, tag).quarantine));
        for (let i = 0; i + 1 < all.length && out.length < limit; i += 2) {
          const entry = JSON.parse(all[i + 1]!) as { fromSeq: number; reason: string; at: number };
          out.push({ where: tag, aggregate: all[i]!, since: entry.at, fromSeq: entry.fromSeq, reason: entry.reason });
        }
      }
      return out;
    },
    async cleanup({ limit, olderThanMs }) {
      const client = await getClient();
      let removed = 0;
      for (const tag of await partitions(client)) {
        if (removed >= limit) break;
        const k = partitionKeys(prefix, tag);
        removed += Number(await runScript(client, CLEANUP, [k.sent, k.events], [olderThanMs, limit - removed]));
      }
      return removed;
    },
  };
}

/** Options of `redisOutbox`. */
export interface RedisOutboxOptions extends RedisRelayStoreOptions {
  /**
   * How long a write's request key (delivery id, inbox key, `Idempotency-Key`) is remembered,
   * so a redelivery writes nothing twice: at least the queue's retention plus its DLQ's.
   * @default 1209600000 (14 days)
   */
  appliedTtlMs?: number;
}

/**
 * The Redis outbox: state commands and events in one Lua script; on Redis Cluster every key
 * of a write shares a hash tag (see `streamKeyFor`).
 *
 * @example outbox({ events, store: redisOutbox({ client: redis }), relay })
 * @throws ConfigurationError for a prefix with braces.
 */
export function redisOutbox(options: RedisOutboxOptions): RedisOutboxStore {
  const prefix = checkPrefix('redisOutbox', options.prefix ?? DEFAULT_REDIS_PREFIX);
  const appliedTtlMs = msOption('redisOutbox', 'appliedTtlMs', options.appliedTtlMs, 14 * 24 * 3_600_000);
  return { mode: 'redis', prefix, appliedTtlMs, client: clientGetter(options.client), relay: redisRelayStore({ ...options, prefix }) };
}
