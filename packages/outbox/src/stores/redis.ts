/**
 * The relay's view of the Redis outbox (layout in `redis-keys.ts`, Lua in
 * `redis-relay-scripts.ts`). Batch calls group aggregates by what one script may touch: every
 * aggregate on a single server, one partition (hash tag) on a cluster; the groups go out
 * together, so ioredis pipelines them.
 *
 *   begin       per aggregate: the first ids of its set, their stream entries, HINCRBY started
 *               (redis-relay-begin.ts: within the round's byte budget, the replies parsed)
 *   settle      per aggregate: release its lease (with the lease's fragment); for each accepted
 *               (id, seq) still at that seq, XDEL (or record as sent); HINCRBY finished on the
 *               refused (and unjudged on those SQS never judged); move the aggregate's pending score to its new head (or drop it)
 *   quarantine  HSET quarantine aggregate → { fromSeq, reason, at }
 *   redrive     HDEL quarantine, reset the aggregate's counters
 *   prune       drop partitions that hold nothing (and, on a cluster, were not written within
 *               `partitionTtlMs`) from the partition list
 */
import { randomUUID } from 'node:crypto';
import { checkKnownKeys, clientOption, invalidOption, keysOf, msOption, oneOfOption, raceSignal, throwIfAborted } from '@steadyfn/handler/internal';
import { runLuaScript } from '@steadyfn/lease';
import type { AggregateRef, QuarantineEntry, RelayLease, RelayStore, SettleItem } from '../relay/types.js';
import { clientGetter, flatPairs, type RedisClientOption, type RedisLike } from './redis-client.js';
import { checkPrefix, DEFAULT_REDIS_PREFIX, ownKeyTypeError, ownKeyWrongType, partitionKeys, partitionsKey } from './redis-keys.js';
import { groupsOf, redisBegin } from './redis-relay-begin.js';
import { CLEANUP, IN_USE, OWNKEY_REPLY, PRUNE_ATOMIC, QUARANTINE, REDRIVE, settleScript, STATUS, type RelayScript } from './redis-relay-scripts.js';
import type { RedisOutboxStore } from './outbox-store.js';
import { ConfigurationError, PreconditionFailedError, QuarantineUnreadableError } from '../errors.js';

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

/**
 * Whether `lease`'s keys are on `client`'s server and database: a probe key claimed through the
 * lease store (10 s), looked for through `client`, then removed. Three round trips, once per store.
 */
async function leaseSeesSameKeys(client: RedisLike, lease: RelayLease & Required<Pick<RelayLease, 'settleCall'>>): Promise<boolean | undefined> {
  const key = `outbox-lease-probe:${randomUUID()}`;
  const owner = randomUUID();
  const claim = await lease.claim({ key, owner, leaseMs: 10_000 });
  // Not claimed (a fresh random key): nothing learnt — undefined, probed again next round.
  if (!claim.claimed) return undefined;
  const redisKey = lease.settleCall({ key, owner, fence: claim.fence }).key;
  let seen = false;
  try {
    seen = Number(await client.call('EXISTS', redisKey)) === 1;
    return seen;
  } finally {
    // Seen: removed outright (a released lease key would be kept for the store's retainMs).
    if (seen) await client.call('DEL', redisKey).catch(() => undefined);
    else await lease.settle({ key, owner, fence: claim.fence }).catch(() => undefined);
  }
}

/**
 * Redis's WRONGTYPE on one of `keys` (the outbox's own: `[role, key, type needed]`) as
 * `OUTBOX_PRECONDITION_FAILED` naming it (an application key under the outbox's prefix, met
 * by the sweep); any other error unchanged. Costs a TYPE per key only after a failure.
 */
async function ownKeysChecked(client: RedisLike, error: unknown, keys: ReadonlyArray<[string, string, string]>): Promise<unknown> {
  for (const [role, key, type] of keys) {
    const typed = await ownKeyWrongType(client, error, role, key, type, 'nothing was relayed');
    if (typed) return typed;
  }
  return error;
}

/**
 * A relay script's refusal of one of its own keys holding another type (`OUTBOX_OWNKEY <index>
 * <type>`, answered before the script wrote anything) as `OUTBOX_PRECONDITION_FAILED` naming
 * the key's role, name, type and the type expected, never what it holds; any other error unchanged.
 */
function ownKeyRefusal(error: unknown, script: RelayScript, keys: ReadonlyArray<string>): unknown {
  const match = error instanceof Error ? OWNKEY_REPLY.exec(error.message) : null;
  if (!match) return error;
  const index = Number(match[1]) - 1;
  const [role, type] = script.own[index % script.own.length]!;
  return ownKeyTypeError(role, keys[index] ?? '?', match[2]!, type, script.nothing);
}

/** A quarantine hash field's value as the `QUARANTINE` script writes it; undefined when it is not that (never thrown: one bad entry must not hide the others). */
function quarantineRecord(raw: string): { fromSeq: number; reason: string; at: number } | undefined {
  let entry: unknown;
  try {
    entry = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const { fromSeq, reason, at } = (entry ?? {}) as Record<string, unknown>;
  return typeof entry === 'object' && Number.isSafeInteger(fromSeq) && typeof reason === 'string' && Number.isSafeInteger(at) ? { fromSeq: fromSeq as number, reason, at: at as number } : undefined;
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

/** What `relay.lease` must be with a Redis outbox, and how to make one (the refusal's "expected"). */
const SAME_REDIS_LEASE = "a lease store on the outbox's own Redis server and database: redisLeaseStore({ client }) with the client given to redisOutbox (or another client to the same server and database number)";

/** `redisRelayStore`, its errors naming `owner`: the function the user called (`redisOutbox` builds one). */
function relayStoreOf(options: RedisRelayStoreOptions, owner: string): RedisRelayStore {
  checkKnownKeys(owner, '', options, keysOf<RedisRelayStoreOptions>({ client: true, prefix: true, mark: true, lease: true }));
  const prefix = checkPrefix(owner, options.prefix ?? DEFAULT_REDIS_PREFIX);
  const getClient = clientGetter(options.client, owner);
  const mode = oneOfOption(owner, 'mark', options.mark, ['delete', 'sent'] as const, 'delete');
  const settleLease = options.lease?.settleFragment && options.lease.settleCall ? options.lease : undefined;
  const SETTLE = settleScript(settleLease?.settleFragment);
  /** Partitions the last `listPending` found holding nothing: candidates for `prune`. */
  let idle: string[] = [];
  /** The lease store's settle runs in this store's scripts: checked once that it sees the same keys (a failed probe is tried again). */
  let leaseChecked: Promise<void> | undefined;
  const checkLease = (client: RedisLike): Promise<void> | undefined => {
    if (!settleLease) return undefined;
    leaseChecked ??= leaseSeesSameKeys(client, settleLease as RelayLease & Required<Pick<RelayLease, 'settleCall'>>).then(
      (same) => {
        if (same === undefined) leaseChecked = undefined;
        if (same !== false) return;
        throw new ConfigurationError(
          `outbox(): option "relay.lease" must be ${SAME_REDIS_LEASE}; got a Redis lease store whose keys the outbox's client does not see (another server, or another database number): the outbox marks events and releases their lease in one script on its own server, which would find no lease there and mark nothing (every event sent again each lease)`,
          { field: 'relay.lease', expected: SAME_REDIS_LEASE },
        );
      },
      (error: unknown) => {
        leaseChecked = undefined;
        throw error;
      },
    );
    return leaseChecked;
  };

  const run = (client: RedisLike, script: RelayScript, keys: string[], args: Array<string | number>, signal?: AbortSignal): Promise<unknown> =>
    runLuaScript(client, script.script, keys, args, { signal }).catch((error: unknown) => {
      throw ownKeyRefusal(error, script, keys);
    });

  const begin = redisBegin(prefix, run);

  /** The partition list, a page (SSCAN) at a time; with `signal`, given up between and during pages (its reason thrown). */
  const partitions = async (client: RedisLike, signal?: AbortSignal): Promise<string[]> => {
    const out: string[] = [];
    let cursor = '0';
    do {
      const page = client.call('SSCAN', partitionsKey(prefix), cursor, 'COUNT', 1000).catch(async (error: unknown) => {
        throw await ownKeysChecked(client, error, [['partition list', partitionsKey(prefix), 'set']]);
      });
      const [next, members] = (await raceSignal(page, signal)) as [string, string[]];
      cursor = next;
      out.push(...members);
    } while (cursor !== '0' && out.length < 100_000);
    return out;
  };

  const settle = async (items: ReadonlyArray<SettleItem>, signal: AbortSignal | undefined): Promise<number[]> => {
    const client = await getClient();
    const out = new Array<number>(items.length).fill(0);
    await Promise.all(
      groupsOf(items, client.isCluster).map(async (group) => {
        const keys: string[] = [];
        const args: Array<string | number> = [mode];
        for (const i of group) {
          const { ref, sent, refused, lease } = items[i]!;
          const unjudged = items[i]!.unjudged ?? [];
          const k = partitionKeys(prefix, ref.where);
          keys.push(k.aggregate(ref.aggregate), k.events, k.attempts, k.pending, k.sent);
          args.push(ref.aggregate, sent.length, refused.length, unjudged.length);
          if (settleLease) {
            const call = settleLease.settleCall!({ key: lease.key, owner: lease.owner, fence: lease.fence });
            keys.push(call.key);
            args.push(...call.args);
          }
          for (const e of sent) args.push(e.ref, String(e.seq));
          for (const e of refused) args.push(e.ref);
          for (const e of unjudged) args.push(e.ref);
        }
        const marked = (await run(client, SETTLE, keys, args, signal)) as number[];
        group.forEach((index, j) => (out[index] = Number(marked[j])));
      }),
    );
    return out;
  };

  /** Cluster: drop a partition from the list only while it is idle, and list it again if a write raced the drop. */
  const pruneOnCluster = async (client: RedisLike, tag: string, signal: AbortSignal | undefined): Promise<boolean> => {
    const k = partitionKeys(prefix, tag);
    const keys = [k.pending, k.sent, k.quarantine, k.live];
    if (Number(await run(client, IN_USE, keys, [], signal)) === 1) return false;
    await client.call('SREM', partitionsKey(prefix), tag);
    // A writer that found the partition unlisted lists it, writes, then checks it is still
    // listed; this re-check covers the writer that listed it just before the SREM above.
    if (Number(await run(client, IN_USE, keys, [], signal)) === 1) {
      await client.call('SADD', partitionsKey(prefix), tag);
      return false;
    }
    return true;
  };

  const store: RedisRelayStore = {
    kind: 'redis',
    leaseKey: (ref) => partitionKeys(prefix, ref.where).lease(ref.aggregate),
    cleanupLeaseKey: `${prefix}relay-cleanup`,
    async partitions() {
      return partitions(await getClient());
    },
    async listPending({ limit, before, signal, onSkip, exclude }) {
      const client = await getClient();
      const found: AggregateRef[] = [];
      const tags = exclude && exclude.size > 0 ? (await partitions(client)).filter((tag) => !exclude.has(tag)) : await partitions(client);
      const empty: string[] = [];
      // Sent together (ioredis pipelines concurrent commands), a few hundred partitions at a time.
      for (let i = 0; i < tags.length; i += 500) {
        const replies = await Promise.all(
          tags.slice(i, i + 500).map(async (tag) => {
            const k = partitionKeys(prefix, tag);
            try {
              return { tag, reply: flatPairs(await run(client, STATUS, [k.pending, k.sent, k.quarantine, k.live, k.events, k.attempts], [String(before), limit], signal)) };
            } catch (error) {
              // One partition's own key of another type: skipped and told, the others served
              // (not the whole sweep failed, every other aggregate stopped). An outage still fails it.
              if (!(error instanceof PreconditionFailedError)) throw error;
              onSkip?.({ where: tag, code: error.code, reason: error.message });
              return { tag, reply: [] as string[] };
            }
          }),
        );
        for (const { tag, reply } of replies) {
          if (reply.length === 0) continue;
          if (reply[0] === '0' && (reply[1] === '0' || !client.isCluster)) empty.push(tag);
          for (let j = 2; j + 1 < reply.length; j += 2) found.push({ where: tag, aggregate: reply[j]!, since: Number(reply[j + 1]) });
        }
      }
      idle = empty;
      return found.sort((a, b) => a.since - b.since).slice(0, limit);
    },
    async begin(items, { limit, maxBytes, signal }) {
      const client = await getClient();
      await checkLease(client);
      return begin(client, items, limit, maxBytes, signal);
    },
    settle: (items, callOptions) => settle(items, callOptions?.signal),
    settleReleasesLease: settleLease !== undefined,
    withLease(lease) {
      return lease.settleFragment && lease.settleCall ? relayStoreOf({ ...options, lease }, owner) : this;
    },
    async quarantine(ref, { fromSeq, reason, signal }) {
      const k = partitionKeys(prefix, ref.where);
      return Number(await run(await getClient(), QUARANTINE, [k.quarantine], [ref.aggregate, fromSeq, reason], signal));
    },
    async redrive(ref, callOptions) {
      const k = partitionKeys(prefix, ref.where);
      const reply = Number(await run(await getClient(), REDRIVE, [k.quarantine, k.aggregate(ref.aggregate), k.attempts, k.seq], [ref.aggregate, ref.fromSeq, ref.quarantinedAt], callOptions?.signal));
      if (reply === -2) throw new QuarantineUnreadableError(ref.where, ref.aggregate, `the quarantine entry of ${JSON.stringify(ref.aggregate)} in ${JSON.stringify(k.quarantine)} is not the relay's JSON { fromSeq, reason, at }: nothing was redriven (it was written by something other than the relay: repair or remove it by hand)`);
      return reply === 1 ? 'redriven' : reply === 0 ? 'not-quarantined' : reply === 2 ? 'quarantine-changed' : 'unknown';
    },
    refIssue: ({ where }) => (/[{}]/.test(where) ? { field: 'where', expected: 'a partition of this outbox: a hash tag, without { or }' } : undefined),
    async listQuarantined({ limit, onUnreadable, signal }) {
      // Aborted: nothing more is asked (each command checks first, one in flight is given up), its reason thrown.
      throwIfAborted(signal);
      const client = await raceSignal(getClient(), signal);
      const out: QuarantineEntry[] = [];
      for (const tag of await partitions(client, signal)) {
        const key = partitionKeys(prefix, tag).quarantine;
        const hash = client.call('HGETALL', key).catch(async (error: unknown) => {
          throw await ownKeysChecked(client, error, [['quarantine hash', key, 'hash']]);
        });
        const all = flatPairs(await raceSignal(hash, signal));
        for (let i = 0; i + 1 < all.length && out.length < limit; i += 2) {
          const entry = quarantineRecord(all[i + 1]!);
          if (entry) out.push({ where: tag, aggregate: all[i]!, quarantinedAt: entry.at, fromSeq: entry.fromSeq, reason: entry.reason });
          else onUnreadable?.({ where: tag, aggregate: all[i]!, code: 'OUTBOX_QUARANTINE_UNREADABLE', reason: `the quarantine entry of ${JSON.stringify(all[i]!)} in ${JSON.stringify(key)} is not the relay's JSON { fromSeq, reason, at }: left out of the listing` });
        }
      }
      return out;
    },
    async cleanup({ limit, olderThanMs, signal, onSkip }) {
      const client = await getClient();
      let removed = 0;
      for (const tag of await partitions(client)) {
        if (removed >= limit) break;
        const k = partitionKeys(prefix, tag);
        try {
          removed += Number(await run(client, CLEANUP, [k.sent, k.events], [olderThanMs, limit - removed], signal));
        } catch (error) {
          // One partition's own key of another type: skipped and told (nothing of it cleaned),
          // the partitions after it cleaned — not every sweep stopped there. An outage still stops it.
          if (!(error instanceof PreconditionFailedError)) throw error;
          onSkip?.({ where: tag, code: error.code, reason: error.message });
        }
      }
      return removed;
    },
    async prune({ limit, signal }) {
      const client = await getClient();
      const candidates = idle.splice(0, limit);
      let dropped = 0;
      for (const tag of candidates) {
        if (signal?.aborted) break;
        if (client.isCluster) {
          if (await pruneOnCluster(client, tag, signal)) dropped++;
        } else {
          const k = partitionKeys(prefix, tag);
          dropped += Number(await run(client, PRUNE_ATOMIC, [k.pending, k.sent, k.quarantine, partitionsKey(prefix)], [tag], signal));
        }
      }
      return dropped;
    },
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
