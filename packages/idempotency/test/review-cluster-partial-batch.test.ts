/**
 * Review: a batch claim on Redis Cluster is one script per slot, sent together. When one
 * master is down (killed, not yet failed over), its slots' scripts fail while the others'
 * already claimed their keys: the batch fails with IDEMPOTENCY_STORE_UNAVAILABLE (every
 * message a batch item failure), yet the keys claimed on the live masters stayed held by
 * claims nobody would settle. Their redelivery — immediate on an Azure Service Bus abandon, or an
 * SQS visibility timeout shorter than the lease — was told IDEMPOTENCY_IN_PROGRESS until the
 * lease ran out (burning the message's delivery count toward its dead-letter queue), though
 * nothing of them had run. A failed batch claim must leave no key held. A cluster of this
 * file's own (the shared one is never killed).
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { idempotency, redisStore, scopeOf, storeKey } from '../src/index.js';
import { startRedisCluster, type OwnCluster } from '../../../test/support/servers.js';
import { lambdaContext, silentSink, sqsRecord } from './support.js';

let cluster: OwnCluster | undefined;
let client: Cluster | undefined;

afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
});

/** The port of the master serving `key`, asked of the node on `port`. */
async function masterOf(port: number, key: string): Promise<number> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await r.connect();
    const slot = Number(await r.call('CLUSTER', 'KEYSLOT', key));
    const ranges = (await r.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
    const owner = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2][1];
    if (owner === undefined) throw new Error(`no master serves ${key}`);
    return Number(owner);
  } finally {
    r.disconnect();
  }
}

describe('review: a batch claim on Redis Cluster with one master down', () => {
  it('leaves no key held on the live masters: the redelivered batch runs every message once', async () => {
    // A long node timeout: the live masters go on serving their slots while one is down.
    cluster = await startRedisCluster(['--cluster-node-timeout', '60000']);
    const [victim, survivor] = cluster.ports as [number, number];
    // No retries: a command for the dead master fails at once (connection refused), as through @steadyfn/connections.
    client = new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: 0 } });
    const prefix = 'idem:';
    const store = redisStore({ client, prefix });
    const name = `partial-batch-${randomUUID()}`;
    const onVictim: string[] = [];
    const elsewhere: string[] = [];
    while (onVictim.length < 1 || elsewhere.length < 2) {
      const id = randomUUID();
      const master = await masterOf(survivor, prefix + storeKey(scopeOf(name), { kind: 'delivery', value: id }));
      (master === victim ? onVictim : elsewhere).push(id);
    }
    const ids = [...elsewhere, ...onVictim];
    const runs = new Map<string, number>();
    const main = handler({ name, logSink: silentSink(), use: [idempotency({ store, ttlMs: 3_600_000, leaseMs: 120_000, localCache: false })] }, async (input) => {
      const id = (input as { id: string }).id;
      runs.set(id, (runs.get(id) ?? 0) + 1);
      return { done: id };
    });
    const batch = () => ({ Records: ids.map((id) => sqsRecord(id, { id })) });
    await main.aws(batch(), lambdaContext()); // every connection made while all masters are up
    runs.clear();
    for (const id of ids) await client.del(prefix + storeKey(scopeOf(name), { kind: 'delivery', value: id }));

    await cluster.kill(victim);
    const failed = (await main.aws(batch(), lambdaContext(undefined, 'fn', 60_000))) as { batchItemFailures: Array<{ itemIdentifier: string }> };
    expect(failed.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([...ids].sort());
    expect(runs.size).toBe(0);
    // Nothing ran, so nothing may stay held on the masters that answered.
    for (const id of elsewhere) expect(await store.get(storeKey(scopeOf(name), { kind: 'delivery', value: id })), id).toBeUndefined();

    await cluster.restart(victim);
    let redelivered: { batchItemFailures: unknown[] } | undefined;
    for (let attempt = 0; attempt < 50; attempt++) {
      redelivered = (await main.aws(batch(), lambdaContext(undefined, 'fn', 60_000))) as { batchItemFailures: unknown[] };
      if (redelivered.batchItemFailures.length === 0) break;
      // The client reconnecting to the restarted master: a store failure, retried; never the live masters' keys in progress.
      expect(elsewhere.every((id) => (runs.get(id) ?? 0) <= 1)).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(redelivered!.batchItemFailures).toEqual([]);
    for (const id of ids) expect(runs.get(id), id).toBe(1);
  }, 120_000);
});
