/**
 * Review: with `hashTag: 'scope'` every record of a function sits in one cluster slot, and a
 * batch claims them in one multi-key script. While that slot is being resharded (the source
 * MIGRATING, some keys already moved), Redis refuses the script with TRYAGAIN; ioredis retried
 * until its redirections ran out and the store threw LEASE_STORE_UNAVAILABLE — every message a
 * batch item failure for the whole move (minutes), each counting toward maxReceiveCount, though
 * one-key claims (which follow ASK) work. The slot's keys must then be claimed one by one.
 * A cluster of this file's own (its slot moved by hand, `cluster-slot-move.ts`).
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { redisCluster } from '../../connections/src/redis.js';
import { describe, expect, it } from 'vitest';
import { idempotency, redisStore, scopeOf, storeKey } from '../src/index.js';
import { useMovableCluster } from '../../../test/support/cluster-slot-move.js';
import { lambdaContext, silentSink, sqsRecord } from './support.js';

const movable = useMovableCluster({ slotsRefreshInterval: 0 });

describe('review: a batch during a reshard of the scope slot (hashTag: scope)', () => {
  it.each(['plain Cluster', 'connections redisCluster()'])('%s: a batch mid-move still processes its messages, each once', async (via) => {
    const prefix = 'idem:';
    const cache = redisCluster({ nodes: movable.own.nodes });
    const store = redisStore({ client: via === 'plain Cluster' ? movable.cluster : () => cache.get(), prefix, hashTag: 'scope' });
    const name = `mv-${randomUUID()}`;
    const runs: string[] = [];
    const main = handler({ name, logSink: silentSink(), use: [idempotency({ store, ttlMs: 3_600_000, leaseMs: 120_000, localCache: false })] }, async (input) => {
      runs.push((input as { id: string }).id);
      return { done: (input as { id: string }).id };
    });
    const old = [randomUUID(), randomUUID()];
    await main.aws({ Records: old.map((id) => sqsRecord(id, { id })) }, lambdaContext());
    expect(runs.sort()).toEqual([...old].sort());
    const scope = scopeOf(name);
    // The Redis key of a message's record: the scope hash-tagged, as `hashTag: 'scope'` writes it.
    const k = (id: string): string => {
      const sk = storeKey(scope, { kind: 'delivery', value: id });
      const c = sk.indexOf(':');
      return `${prefix}{${sk.slice(0, c)}}${sk.slice(c)}`;
    };
    const move = await movable.beginMove(k(old[0]!));
    try {
      // One old record moved, the other not yet: a multi-key script on the slot is answered TRYAGAIN.
      await move.migrate(k(old[0]!));
      const fresh = [randomUUID(), randomUUID()];
      const batch = { Records: [...old, ...fresh].map((id) => sqsRecord(id, { id })) };
      const out = (await main.aws(batch, lambdaContext())) as { batchItemFailures: Array<{ itemIdentifier: string }> };
      expect(out.batchItemFailures).toEqual([]);
      // The old ones replayed (not run again), the fresh ones ran once.
      expect(runs.sort()).toEqual([...old, ...fresh].sort());
      // Their records were completed mid-move: the batch delivered again replays every message.
      const again = (await main.aws(batch, lambdaContext())) as { batchItemFailures: unknown[] };
      expect(again.batchItemFailures).toEqual([]);
      expect(runs.length).toBe(4);
    } finally {
      await move.migrate(k(old[1]!));
      await move.finish();
      await cache.close?.();
    }
  }, 60_000);
});
