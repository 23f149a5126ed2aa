/**
 * Redis Cluster: the partition list (`<prefix>partitions`, its own slot) must not lose the
 * partitions with work when its master restarts empty (or fails over without the last writes).
 * On main a partition left the list for good: a write re-lists its partition only when the
 * partition's `live` marker (on the partition's own, surviving master) is gone, and the sweep
 * and `listQuarantined` read only the list. Now the list carries its master's epoch and is
 * rebuilt from every master when the epoch is gone. On an own 3-master cluster whose masters
 * restart empty (no persistence), the real ioredis Cluster client.
 */
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { prepareEvent, type EventDeclarations } from '../src/envelope.js';
import { redisWrite } from '../src/capture/redis.js';
import { EPOCH_MEMBER_PREFIX } from '../src/stores/redis-partition-epoch.js';
import { partitionKeys, partitionsKey } from '../src/stores/redis-keys.js';
import { redisOutbox, redisRelayStore } from '../src/index.js';
import type { HeldLease } from '../src/relay/types.js';
import { startRedisCluster, type OwnCluster } from '../../../test/support/servers.js';

const events: EventDeclarations = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number().int() }) } };
const paid = (id: string) => prepareEvent(events, { type: 'OrderPaid', aggregateId: id, payload: { amountCents: 100 } }, { correlationId: 'c', causationId: 'm' });
const lease: HeldLease = { key: 'unused', owner: 'o', fence: 1 };

let cluster: OwnCluster;
let client: Cluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);
afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
});

async function ownerPort(c: Cluster, key: string): Promise<number> {
  const slot = Number(await c.call('CLUSTER', 'KEYSLOT', key));
  const slots = (await c.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
  return slots.find(([a, b]) => slot >= a && slot <= b)![2][1];
}

/** The list's master under `prefix`, and a partition tag on another master. */
async function layout(prefix: string): Promise<{ listPort: number; tag: string }> {
  const listPort = await ownerPort(client, partitionsKey(prefix));
  for (let i = 0; ; i++) if ((await ownerPort(client, partitionKeys(prefix, `t${i}`).pending)) !== listPort) return { listPort, tag: `t${i}` };
}

/** Restarts the list's master empty, and connects a new client (as a function's next cold start would). */
async function restartList(listPort: number): Promise<void> {
  client.disconnect();
  await cluster.restart(listPort);
  client = new Cluster(cluster.nodes);
}

const write = (prefix: string, tag: string) => redisWrite(client, prefix, { checks: [], commands: [['HSET', `${prefix}order:{${tag}}`, 'status', 'paid']], events: [paid('o-1')] });
const pending = (prefix: string) => redisOutbox({ client, prefix }).relay.listPending({ limit: 100, before: Date.now() + 60_000 });

describe('Redis Cluster: the partition list after its master restarts empty', () => {
  beforeAll(() => {
    client = new Cluster(cluster.nodes);
  });

  it('a partition with pending events stays listed, with a later write (its `live` marker kept)', async () => {
    const prefix = 'fxc1:';
    const { listPort, tag } = await layout(prefix);
    await write(prefix, tag);
    expect((await pending(prefix)).map((r) => r.aggregate)).toEqual(['order/o-1']);
    await restartList(listPort);
    expect(Number(await client.zcard(partitionKeys(prefix, tag).pending))).toBe(1);
    await write(prefix, tag);
    expect((await pending(prefix)).map((r) => r.aggregate)).toEqual(['order/o-1']);
    // The epoch member is the list's own: never listed as a partition.
    expect(await redisRelayStore({ client, prefix }).partitions()).toEqual([tag]);
    expect((await client.smembers(partitionsKey(prefix))).filter((m) => m.startsWith(EPOCH_MEMBER_PREFIX))).toHaveLength(1);
  }, 60_000);

  it('a partition with pending events stays listed, with no write after the restart', async () => {
    const prefix = 'fxc2:';
    const { listPort, tag } = await layout(prefix);
    await write(prefix, tag);
    expect((await pending(prefix)).map((r) => r.aggregate)).toEqual(['order/o-1']);
    await restartList(listPort);
    expect((await pending(prefix)).map((r) => r.aggregate)).toEqual(['order/o-1']);
  }, 60_000);

  it('a partition relayed empty but still `live` is listed again, so its next write is seen', async () => {
    const prefix = 'fxc3:';
    const { listPort, tag } = await layout(prefix);
    await write(prefix, tag);
    expect((await pending(prefix)).map((r) => r.aggregate)).toEqual(['order/o-1']);
    // What a relay that sent the event leaves (mark: 'delete'): no pending entry, the `live` marker on.
    const k = partitionKeys(prefix, tag);
    await client.del(k.pending, k.events, k.aggregate('order/o-1'));
    expect(await pending(prefix)).toEqual([]);
    await restartList(listPort);
    expect(await redisRelayStore({ client, prefix }).partitions()).toEqual([tag]);
    await write(prefix, tag);
    expect((await pending(prefix)).map((r) => r.aggregate)).toEqual(['order/o-1']);
  }, 60_000);

  it('listQuarantined still lists a quarantine after the restart', async () => {
    const prefix = 'fxc4:';
    const { listPort, tag } = await layout(prefix);
    await write(prefix, tag);
    const relay = () => redisOutbox({ client, prefix }).relay;
    await relay().quarantine({ where: tag, aggregate: 'order/o-1', since: 0 }, { fromSeq: 1, reason: 'sender fault: X', lease });
    expect((await relay().listQuarantined({ limit: 10 })).map((q) => [q.where, q.aggregate])).toEqual([[tag, 'order/o-1']]);
    await restartList(listPort);
    expect((await relay().listQuarantined({ limit: 10 })).map((q) => [q.where, q.aggregate, q.fromSeq, q.reason])).toEqual([[tag, 'order/o-1', 1, 'sender fault: X']]);
  }, 60_000);

  it("a list holding another server's epoch (a failover's rollback) is rebuilt, the stale epoch removed", async () => {
    const prefix = 'fxc5:';
    const { tag } = await layout(prefix);
    await write(prefix, tag);
    expect((await pending(prefix)).map((r) => r.aggregate)).toEqual(['order/o-1']);
    // A promoted replica's copy: the old master's epoch, without the partition's entry.
    const stale = `${EPOCH_MEMBER_PREFIX}${'0'.repeat(40)}:${'1'.repeat(40)}`;
    await client.del(partitionsKey(prefix));
    await client.sadd(partitionsKey(prefix), stale);
    expect((await pending(prefix)).map((r) => r.aggregate)).toEqual(['order/o-1']);
    const members = await client.smembers(partitionsKey(prefix));
    expect(members).toContain(tag);
    expect(members).not.toContain(stale);
    expect(members.filter((m) => m.startsWith(EPOCH_MEMBER_PREFIX))).toHaveLength(1);
  }, 60_000);
});
