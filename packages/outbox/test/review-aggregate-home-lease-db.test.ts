/**
 * `relay.lease` on another Redis database (or server) than the outbox's client: the mark script
 * runs the lease's settle on the outbox's server, found no lease there and marked nothing — the
 * event SQS accepted stayed pending, its lease left to run out, and it was sent again every
 * lease, for good. The relay store now checks once, at its first round, that the lease store
 * sees its keys, and refuses with CONFIG_INVALID (`field: 'relay.lease'`) before anything is
 * begun or sent. A lease store on the same server and database through another client object
 * works as before. Real Redis (db 0 and db 5) and Redis Cluster.
 */
import { Cluster, Redis } from 'ioredis';
import { redisLeaseStore } from '@steadyfn/lease';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { outbox, redisOutbox } from '../src/index.js';
import { redisRelayStore } from '../src/stores/redis.js';
import { clusterNodes, openRedis, pendingIn, redisWriter, scriptedSender, tickEvents, type RedisBackend } from './support.js';

const url = () => new URL(process.env.REDIS_URL!);
const onDb = (db: number) => new Redis({ host: url().hostname, port: Number(url().port), db, maxRetriesPerRequest: 2 });
const leased = (where: string) => [{ ref: { where, aggregate: `tick/${where}`, since: 0 }, lease: { key: `k-${where}`, owner: 'o', fence: 1 } }];

async function countKeys(client: Redis | Cluster, pattern: string): Promise<number> {
  let n = 0;
  for (const node of client instanceof Cluster ? client.nodes('master') : [client]) n += (await node.keys(pattern)).length;
  return n;
}

describe.each(['redis', 'cluster'] as const)('relay lease store on another Redis than the outbox (%s)', (name) => {
  let backend: RedisBackend;
  let other: Redis;
  let same: Redis | Cluster;
  beforeAll(async () => {
    backend = await openRedis(name);
    // Standalone outbox: its server's db 5. Cluster outbox: the standalone server.
    other = onDb(name === 'redis' ? 5 : 0);
    same = name === 'redis' ? onDb(0) : new Cluster(clusterNodes(), { redisOptions: { maxRetriesPerRequest: 2 } });
  });
  afterAll(async () => {
    const keys = await other.keys(`${backend.prefix}*`);
    if (keys.length > 0) await other.del(...keys);
    other.disconnect();
    same.disconnect();
    await backend.close();
  });

  it('refuses with CONFIG_INVALID at the first round; nothing is sent, the event stays pending', async () => {
    const lease = redisLeaseStore({ client: other, prefix: `${backend.prefix}lease:` });
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix }).withLease!(lease);
    await expect(store.begin(leased('b-1'), { limit: 10, maxBytes: 1 << 20 })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      field: 'relay.lease',
      // What it must be and how to make one, then what was given and why it cannot work.
      message:
        "outbox(): option \"relay.lease\" must be a lease store on the outbox's own Redis server and database: redisLeaseStore({ client }) with the client given to redisOutbox (or another client to the same server and database number); got a Redis lease store whose keys the outbox's client does not see (another server, or another database number): the outbox marks events and releases their lease in one script on its own server, which would find no lease there and mark nothing (every event sent again each lease)",
    });
    const sender = scriptedSender();
    const { write } = redisWriter({ ...backend, lease }, sender, { flush: true, leaseMs: 1000 });
    await expect(write.invoke({ agg: 'a-1' })).resolves.toEqual({ recorded: 1 });
    expect(sender.accepted).toHaveLength(0);
    expect(await pendingIn(backend, 'a-1')).toBe(1);
  });

  it('says so once per run at error level (code, field, the option named; no event values), the write still answers', async () => {
    const lease = redisLeaseStore({ client: other, prefix: `${backend.prefix}lease:` });
    const lines: string[] = [];
    const box = outbox({ events: tickEvents, store: redisOutbox({ client: backend.client, prefix: backend.prefix }), relay: { sender: scriptedSender(), lease, sweep: { graceMs: 0 } } });
    const write = handler({ name: 'pay', logLevel: 'info', logSink: (line) => void lines.push(line), use: [box] }, async (_input, ctx) => {
      ctx.outbox.call('HINCRBY', `${backend.prefix}state:{a-3}`, 'n', 1);
      ctx.outbox.add({ type: 'Tick', aggregateId: 'a-3', payload: { n: 424242 } });
      return { ok: true };
    });
    await expect(write.invoke({})).resolves.toEqual({ ok: true });
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => String(r.msg ?? r.message).includes('misconfigured'));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ level: 'error', code: 'CONFIG_INVALID', field: 'relay.lease' });
    expect(String(records[0]!.reason)).toContain('relay.lease');
    expect(lines.join('\n')).not.toContain('424242');
    expect(await pendingIn(backend, 'a-3')).toBe(1);
  });

  it('a sweep over many aggregates says it once and stops: no lease claimed chunk after chunk', async () => {
    const lease = redisLeaseStore({ client: other, prefix: `${backend.prefix}lease:` });
    const sender = scriptedSender();
    const { write, box } = redisWriter({ ...backend, prefix: `${backend.prefix}sw:`, lease }, sender, { flush: false, sweep: { chunk: 2, parallel: 2 } });
    for (let a = 0; a < 12; a++) await write.invoke({ agg: `s-${a}` });
    const errors: string[] = [];
    let claims = 0;
    const claim = lease.claim.bind(lease);
    lease.claim = (...a: Parameters<typeof claim>) => (claims++, claim(...a));
    const log = { debug() {}, info() {}, warn() {}, error: (msg: string) => void errors.push(msg), child() { return log; } };
    const result = await box.sweep({ signal: new AbortController().signal, remainingMs: () => 60_000, log: log as never });
    expect(result.found).toBe(12);
    expect(sender.accepted).toHaveLength(0);
    expect(errors.filter((m) => m.includes('misconfigured'))).toHaveLength(1);
    // The first chunk of each parallel worker at most: not every chunk of the sweep.
    expect(claims).toBeLessThanOrEqual(2 * 2);
  });

  it('a lease store on the same server and database through another client sends and marks', async () => {
    const lease = redisLeaseStore({ client: same, prefix: `${backend.prefix}lease:` });
    const sender = scriptedSender();
    const { write } = redisWriter({ ...backend, lease }, sender, { flush: true });
    await write.invoke({ agg: 'a-2' });
    expect(sender.accepted).toHaveLength(1);
    expect(await pendingIn(backend, 'a-2')).toBe(0);
    // The probe's key is removed.
    expect(await countKeys(backend.client, `${backend.prefix}lease:outbox-lease-probe:*`)).toBe(0);
  });
});
