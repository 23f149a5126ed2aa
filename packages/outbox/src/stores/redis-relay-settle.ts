/**
 * The Redis relay store's `settle`: per aggregate, in one SETTLE script per group the store can
 * serve together (`groupsOf`: every aggregate on a single server, one partition on a cluster),
 * release its lease (with the lease's fragment, when it has one); for each accepted (id, seq)
 * still at that seq, XDEL (or record as sent); HINCRBY finished on the refused (and unjudged on
 * those SQS never judged); move the aggregate's pending score to its new head (or drop it).
 */
import type { RelayLease, SettleItem } from '../relay/types.js';
import type { RedisLike } from './redis-client.js';
import { partitionKeys } from './redis-keys.js';
import { groupsOf, type RunScript } from './redis-relay-begin.js';
import { settleScript } from './redis-relay-scripts.js';

/**
 * The settle of the Redis relay store under `prefix`: with `settleLease` (a Redis lease store
 * giving its settle fragment), the marks and the lease's release are one script, and an
 * aggregate whose lease is no longer the caller's is marked -1, nothing of it marked.
 * Answers how many events were marked, per item.
 */
export function redisSettle(prefix: string, mode: 'delete' | 'sent', settleLease: RelayLease | undefined, getClient: () => Promise<RedisLike>, run: RunScript): (items: ReadonlyArray<SettleItem>, signal: AbortSignal | undefined) => Promise<number[]> {
  const SETTLE = settleScript(settleLease?.settleFragment);
  return async (items, signal) => {
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
}
