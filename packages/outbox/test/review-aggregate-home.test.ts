/**
 * An aggregate's events written under two hash tags were each numbered from 1 in their own
 * partition (seq, pending entries, lease per partition): the consumer's inbox refused the
 * second numbering later with INBOX_SEQ_CONFLICT. The write now refuses it up front with
 * OUTBOX_AGGREGATE_PARTITION and writes nothing: the aggregate's home partition is recorded by
 * its first write (in the capture script on one server; claimed before the script on a
 * cluster). Real Redis and Redis Cluster.
 */
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { prepareEvent, type EventDeclarations } from '../src/envelope.js';
import { redisWrite } from '../src/capture/redis.js';
import { HOME_SKEW_MS, HOME_TAKEOVER_MS, HOME_WINDOW_MS } from '../src/capture/redis-home.js';
import { homeKey, partitionKeys } from '../src/stores/redis-keys.js';
import { clusterNodes, openRedis, type RedisBackend } from './support.js';

const events: EventDeclarations = {
  OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number().int() }) },
};
const meta = { correlationId: 'c-1', causationId: 'm-1' };
const paid = (id: string) => prepareEvent(events, { type: 'OrderPaid', aggregateId: id, payload: { amountCents: 100 } }, meta);

describe.each(['redis', 'cluster'] as const)('an aggregate lives in one partition on %s', (name) => {
  let backend: RedisBackend;
  let other: Redis | Cluster;
  beforeAll(async () => {
    backend = await openRedis(name);
    other = name === 'redis' ? new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 2 }) : new Cluster(clusterNodes(), { redisOptions: { maxRetriesPerRequest: 2 } });
  });
  afterAll(async () => {
    other?.disconnect();
    await backend?.close();
  });

  const pay = (client: Redis | Cluster, tag: string, id: string) =>
    redisWrite(client, backend.prefix, { checks: [], commands: [['HSET', `${backend.prefix}order:{${tag}}`, 'status', 'paid']], events: [paid(id)] });

  it('refuses a second hash tag with OUTBOX_AGGREGATE_PARTITION and writes nothing; the home tag goes on', async () => {
    const { client, prefix } = backend;
    expect((await pay(client, 'a-1', 'o-1')).events[0]!.seq).toBe(1);
    const error = await pay(client, 'b-1', 'o-1').then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'OUTBOX_AGGREGATE_PARTITION', status: 409, retryable: false, aggregate: 'order/o-1', home: 'a-1', partition: 'b-1' });
    expect((error as Error).message).toContain('{a-1}');
    expect((error as Error).message).toContain('{b-1}');
    expect((error as Error).message).not.toContain('amountCents');
    const b = partitionKeys(prefix, 'b-1');
    expect(await client.exists(`${prefix}order:{b-1}`, b.events, b.seq, b.pending, b.aggregate('order/o-1'))).toBe(0);
    expect(await client.hget(partitionKeys(prefix, 'a-1').seq, 'order/o-1')).toBe('1');
    // The home tag keeps working, numbering on.
    expect((await pay(client, 'a-1', 'o-1')).events[0]!.seq).toBe(2);
    // Another aggregate is free to live under the second tag.
    expect((await pay(client, 'b-1', 'o-2')).events[0]!.seq).toBe(1);
  });

  it('of two first writes under two tags at once, exactly one wins (50 rounds, two clients)', async () => {
    const { client, prefix } = backend;
    for (let round = 0; round < 50; round++) {
      const id = `race-${round}`;
      const results = await Promise.allSettled([pay(client, `x-${round}`, id), pay(other, `y-${round}`, id)]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost[0]!.reason).toMatchObject({ code: 'OUTBOX_AGGREGATE_PARTITION' });
      const loser = results[0]!.status === 'rejected' ? `x-${round}` : `y-${round}`;
      const keys = partitionKeys(prefix, loser);
      expect(await client.exists(`${prefix}order:{${loser}}`, keys.events, keys.seq)).toBe(0);
    }
  });

  it('a write refused by a precondition leaves the aggregate free for another tag', async () => {
    const { client, prefix } = backend;
    const refused = redisWrite(client, prefix, { checks: [{ key: `${prefix}order:{p-1}`, exists: true }], commands: [], events: [paid('o-3')] });
    await expect(refused).rejects.toMatchObject({ code: 'OUTBOX_PRECONDITION_FAILED' });
    if (name === 'redis') {
      // One server: the claim is part of the write's script, so a refused write claims nothing.
      expect(await client.exists(homeKey(prefix, 'order/o-3'))).toBe(0);
    } else {
      // Cluster: the claim was made before the script. Within HOME_TAKEOVER_MS it still holds
      // (it could be a first write in flight)…
      // …refusing with the code, retryable: the claim is not confirmed (that write may yet fail)…
      await expect(pay(client, 'q-1', 'o-3')).rejects.toMatchObject({ code: 'OUTBOX_AGGREGATE_PARTITION', home: 'p-1', retryable: true, claimOnly: true });
      // …and once older (its time moved back, as if HOME_TAKEOVER_MS had passed) it is stale: its
      // partition never numbered the aggregate, so another tag takes it over.
      const [value] = [await client.get(homeKey(prefix, 'order/o-3'))];
      const ms = Number(value!.split(' ')[0]);
      await client.set(homeKey(prefix, 'order/o-3'), `${ms - HOME_TAKEOVER_MS - 1000} p-1`);
    }
    expect((await pay(client, 'q-1', 'o-3')).events[0]!.seq).toBe(1);
    // Numbered in its home now: the refusal is terminal.
    await expect(pay(client, 'p-1', 'o-3')).rejects.toMatchObject({ code: 'OUTBOX_AGGREGATE_PARTITION', home: 'q-1', retryable: false, claimOnly: false });
  });

  it('a request already applied answers as a duplicate, even for an aggregate whose home is elsewhere (split before homes were recorded)', async () => {
    const { client, prefix } = backend;
    const write = () =>
      redisWrite(client, prefix, { checks: [], commands: [['HSET', `${prefix}order:{r-1}`, 'status', 'paid']], events: [paid('o-8')], requestKey: { key: `req-${prefix}o-8`, ttlMs: 60_000, answer: 'first' } });
    expect((await write()).events[0]!.seq).toBe(1);
    // As an aggregate split across two tags before this check: numbered in r-2 too, its home there.
    await client.hset(partitionKeys(prefix, 'r-2').seq, 'order/o-8', '1');
    await client.set(homeKey(prefix, 'order/o-8'), '1000 r-2');
    // A fresh process (no remembered home): the replay is the duplicate it is, not a 409.
    const fresh = name === 'redis' ? new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 2 }) : new Cluster(clusterNodes(), { redisOptions: { maxRetriesPerRequest: 2 } });
    try {
      const replay = await redisWrite(fresh, prefix, { checks: [], commands: [['HSET', `${prefix}order:{r-1}`, 'status', 'paid']], events: [paid('o-8')], requestKey: { key: `req-${prefix}o-8`, ttlMs: 60_000 } });
      expect(replay).toMatchObject({ duplicate: true, applied: 'first', events: [] });
      // Without the request key it is refused.
      await expect(pay(fresh, 'r-1', 'o-8')).rejects.toMatchObject({ code: 'OUTBOX_AGGREGATE_PARTITION', home: 'r-2' });
    } finally {
      fresh.disconnect();
    }
  });

  it('an old home that numbered the aggregate is never taken over', async () => {
    const { client, prefix } = backend;
    await pay(client, 'h-1', 'o-4');
    await client.set(homeKey(prefix, 'order/o-4'), `1000 h-1`);
    await expect(pay(client, 'h-2', 'o-4')).rejects.toMatchObject({ code: 'OUTBOX_AGGREGATE_PARTITION', home: 'h-1' });
    expect(await client.exists(partitionKeys(prefix, 'h-2').seq)).toBe(0);
    expect((await pay(client, 'h-1', 'o-4')).events[0]!.seq).toBe(2);
  });

  it('a warm write of an aggregate this process numbered is one round trip; its first is two on a cluster (the claim)', async () => {
    const { client, prefix } = backend;
    let calls = 0;
    const counted = {
      isCluster: name === 'cluster',
      evalsha: (...a: unknown[]) => (calls++, (client.evalsha as (...x: unknown[]) => Promise<unknown>)(...a)),
      eval: (...a: unknown[]) => (calls++, (client.eval as (...x: unknown[]) => Promise<unknown>)(...a)),
      call: (...a: unknown[]) => (calls++, (client.call as (...x: unknown[]) => Promise<unknown>)(...a)),
    };
    const write = () => redisWrite(counted, prefix, { checks: [], commands: [['HSET', `${prefix}order:{w-1}`, 'status', 'paid']], events: [paid('o-6')] });
    await write(); // lists the partition (cluster) and loads the scripts
    await write();
    calls = 0;
    await write();
    expect(calls).toBe(1);
    // The remembered home skips only the claim of its own partition: another tag is still refused.
    await expect(redisWrite(counted, prefix, { checks: [], commands: [['HSET', `${prefix}order:{w-2}`, 'status', 'paid']], events: [paid('o-6')] })).rejects.toMatchObject({ code: 'OUTBOX_AGGREGATE_PARTITION', home: 'w-1' });
    calls = 0;
    await redisWrite(counted, prefix, { checks: [], commands: [['HSET', `${prefix}order:{w-1}`, 'status', 'paid']], events: [paid('o-7')] });
    expect(calls).toBe(name === 'cluster' ? 2 : 1);
  });

  /**
   * A client whose first claim of `agg`'s home is answered as if made `ageMs` ago (the key
   * backdated to match): the write's script then runs past the claim's window, as a first write
   * stalled that long would. `meanwhile` runs before the claim's answer is handed back.
   */
  const slowFirstClaim = (agg: string, ageMs: number, meanwhile: () => Promise<unknown> = async () => undefined) => {
    const { client, prefix } = backend;
    let aged = false;
    const claims: string[] = [];
    const wrap = (method: 'evalsha' | 'eval') => async (...a: unknown[]) => {
      const reply = await (client[method] as (...x: unknown[]) => Promise<unknown>)(...a);
      if (a[2] !== homeKey(prefix, agg)) return reply;
      claims.push(String((reply as unknown[])[0]));
      if (aged) return reply;
      aged = true;
      const [value, now] = reply as [string, number];
      const old = `${Number(value.split(' ')[0]) - ageMs} ${value.slice(value.indexOf(' ') + 1)}`;
      await client.set(homeKey(prefix, agg), old);
      await meanwhile();
      return [old, now];
    };
    return { claims, client: { isCluster: true, evalsha: wrap('evalsha'), eval: wrap('eval'), call: (...a: unknown[]) => (client.call as (...x: unknown[]) => Promise<unknown>)(...a) } };
  };

  it.skipIf(name === 'redis')('cluster: a first write whose claim window passed before its script ran renews the claim and writes (cluster only: on one server the claim is made inside the capture script, nothing runs between them)', async () => {
    const { client, prefix } = backend;
    const slow = slowFirstClaim('order/o-9', HOME_WINDOW_MS + HOME_SKEW_MS + 1000);
    const written = await redisWrite(slow.client, prefix, { checks: [], commands: [['HSET', `${prefix}order:{s-1}`, 'status', 'paid']], events: [paid('o-9')] });
    expect(written.events[0]!.seq).toBe(1);
    // The stale claim, then its renewal (a fresh claim of the same partition).
    expect(slow.claims).toHaveLength(2);
    expect(slow.claims[1]).toMatch(/ s-1$/);
    expect(Number(slow.claims[1]!.split(' ')[0])).toBeGreaterThan(Number(slow.claims[0]!.split(' ')[0]) - HOME_WINDOW_MS);
    expect(await client.get(homeKey(prefix, 'order/o-9'))).toBe(slow.claims[1]);
    // Another tag is refused for good now.
    await expect(pay(other, 's-2', 'o-9')).rejects.toMatchObject({ code: 'OUTBOX_AGGREGATE_PARTITION', home: 's-1', retryable: false });
  });

  it.skipIf(name === 'redis')('cluster: a stalled first write whose claim was taken over and numbered meanwhile is refused for good; nothing written (cluster only: on one server the claim is made inside the capture script, nothing runs between them)', async () => {
    const { client, prefix } = backend;
    const slow = slowFirstClaim('order/o-10', HOME_TAKEOVER_MS + 1000, () => pay(other, 't-2', 'o-10'));
    const refused = redisWrite(slow.client, prefix, { checks: [], commands: [['HSET', `${prefix}order:{t-1}`, 'status', 'paid']], events: [paid('o-10')] });
    await expect(refused).rejects.toMatchObject({ code: 'OUTBOX_AGGREGATE_PARTITION', home: 't-2', partition: 't-1', retryable: false });
    const t1 = partitionKeys(prefix, 't-1');
    expect(await client.exists(`${prefix}order:{t-1}`, t1.events, t1.seq)).toBe(0);
    expect(await client.hget(partitionKeys(prefix, 't-2').seq, 'order/o-10')).toBe('1');
  });

  it('a write of two aggregates, one living elsewhere, is refused whole; the other is held only as a first write that wrote nothing is', async () => {
    const { client, prefix } = backend;
    await pay(client, 'm-2', 'o-12');
    const both = redisWrite(client, prefix, { checks: [], commands: [['HSET', `${prefix}order:{m-1}`, 'status', 'paid']], events: [paid('o-11'), paid('o-12')] });
    await expect(both).rejects.toMatchObject({ code: 'OUTBOX_AGGREGATE_PARTITION', aggregate: 'order/o-12', home: 'm-2', retryable: false });
    const m1 = partitionKeys(prefix, 'm-1');
    expect(await client.exists(`${prefix}order:{m-1}`, m1.events, m1.seq)).toBe(0);
    if (name === 'redis') {
      // One server: the script refused before claiming anything.
      expect(await client.exists(homeKey(prefix, 'order/o-11'))).toBe(0);
    } else {
      // Cluster: o-11's claim (made alongside, before the script) holds as an unconfirmed
      // claim: another tag is refused retryably until HOME_TAKEOVER_MS, then takes it over.
      await expect(pay(client, 'm-3', 'o-11')).rejects.toMatchObject({ code: 'OUTBOX_AGGREGATE_PARTITION', home: 'm-1', retryable: true, claimOnly: true });
      const ms = Number((await client.get(homeKey(prefix, 'order/o-11')))!.split(' ')[0]);
      await client.set(homeKey(prefix, 'order/o-11'), `${ms - HOME_TAKEOVER_MS - 1000} m-1`);
    }
    expect((await pay(client, 'm-3', 'o-11')).events[0]!.seq).toBe(1);
  });

  it.skipIf(name === 'cluster')('untagged (partition default) then tagged is refused (one server only: a cluster refuses untagged keys)', async () => {
    const { client, prefix } = backend;
    const untagged = await redisWrite(client, prefix, { checks: [], commands: [['SET', `${prefix}plain`, 'v']], events: [paid('o-5')] });
    expect(untagged.partition).toBe('default');
    await expect(pay(client, 'o-5', 'o-5')).rejects.toMatchObject({ code: 'OUTBOX_AGGREGATE_PARTITION', home: 'default', partition: 'o-5' });
    expect(await client.exists(`${prefix}order:{o-5}`, partitionKeys(prefix, 'o-5').events)).toBe(0);
  });
});
