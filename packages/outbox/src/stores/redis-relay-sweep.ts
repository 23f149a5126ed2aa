/**
 * The Redis relay store's sweep calls over its partition list (`<prefix>partitions`):
 *
 *   listPending  per partition (a few hundred pipelined): the STATUS script — its aggregates
 *                pending since before `before`, and whether it holds anything
 *   cleanup      (`mark: 'sent'`) per partition: the CLEANUP script, sent events past their age
 *   prune        drop partitions the last `listPending` found holding nothing (and, on a cluster,
 *                not written within `partitionTtlMs`) from the list
 *
 * A partition whose own key holds another type is skipped and told to `onSkip`, the others
 * served; an outage fails the call.
 */
import { PreconditionFailedError } from '../errors.js';
import type { AggregateRef, RelayStore } from '../relay/types.js';
import { flatPairs, type RedisLike } from './redis-client.js';
import { partitionKeys, partitionsKey } from './redis-keys.js';
import type { RunScript } from './redis-relay-begin.js';
import { listPartitions } from './redis-relay-calls.js';
import { CLEANUP, IN_USE, PRUNE_ATOMIC, STATUS } from './redis-relay-scripts.js';

/** The sweep calls of the Redis relay store under `prefix`, through `getClient` and `run`. */
export function redisSweep(prefix: string, getClient: () => Promise<RedisLike>, run: RunScript): Required<Pick<RelayStore, 'listPending' | 'cleanup' | 'prune'>> {
  /** Partitions the last `listPending` found holding nothing: candidates for `prune`. */
  let idle: string[] = [];

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

  return {
    async listPending({ limit, before, signal, onSkip, exclude }) {
      const client = await getClient();
      const found: AggregateRef[] = [];
      const listed = await listPartitions(client, prefix, signal);
      const tags = exclude && exclude.size > 0 ? listed.filter((tag) => !exclude.has(tag)) : listed;
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
    async cleanup({ limit, olderThanMs, signal, onSkip }) {
      const client = await getClient();
      let removed = 0;
      for (const tag of await listPartitions(client, prefix, signal)) {
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
}
