/**
 * Review: Redis may evict records — under `maxmemory-policy volatile-lru` (ElastiCache's default
 * parameter group; every record has a TTL) or any `allkeys-*` policy a completed record can be
 * deleted under memory pressure and a duplicate runs the function again, an in-progress one and
 * a duplicate runs alongside. Nothing said so. The store now reads `INFO memory` once per client
 * (each master of a Cluster), beside its first claim, and the plugin warns once
 * (`LEASE_STORE_EVICTS`); nothing with `noeviction`, and nothing — no failure either — when an
 * ACL refuses `INFO`. Servers of this file's own.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisLeaseStore } from '@steadyfn/lease';
import { storeFailureFacts } from '@steadyfn/lease/internal';
import { idempotency, redisStore } from '../src/index.js';
import { startRedis, startRedisCluster, type OwnCluster, type OwnServer } from '../../../test/support/servers.js';
import { httpEvent, lambdaContext } from './support.js';

let evicting: OwnServer & { url: string };
let keeping: OwnServer & { url: string };
const clients: Array<Redis | Cluster> = [];

beforeAll(async () => {
  [evicting, keeping] = await Promise.all([startRedis(['--maxmemory-policy', 'volatile-lru']), startRedis(['--maxmemory-policy', 'noeviction'])]);
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await Promise.all([evicting?.dispose(), keeping?.dispose()]);
});

/** A function behind the plugin on `client`, and the log lines it wrote (JSON, warn and above). */
function fnOn(client: Redis | Cluster, hashTag?: 'scope') {
  clients.push(client);
  const prefix = `idem-evict:${randomUUID().slice(0, 8)}:`;
  const lines: string[] = [];
  const store = redisStore({ client, prefix, ...(hashTag ? { hashTag } : {}) });
  const main = handler({ name: `evict-${randomUUID().slice(0, 8)}`, logSink: (line) => void lines.push(line), logLevel: 'warn', use: [idempotency({ store, ttlMs: 60_000, localCache: false })] }, async () => ({ ok: true }));
  const call = async (key: string) => (await main.aws(httpEvent({ key, method: 'POST', body: { a: 1 } }), lambdaContext())) as { statusCode: number };
  const warnings = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.code === 'LEASE_STORE_EVICTS');
  return { call, lines, warnings, prefix };
}

describe('review: a Redis server that may evict records is warned about once', () => {
  it('volatile-lru: one warning with the code, from the first invocation on, no key in it', async () => {
    const f = fnOn(new Redis(evicting.url));
    const key = `k-${randomUUID()}`;
    expect((await f.call(key)).statusCode).toBe(200);
    // The INFO reply came in beside the first claim's (one connection, sent before it).
    expect(f.warnings()).toHaveLength(1);
    expect((await f.call(key)).statusCode).toBe(200);
    expect((await f.call(`k-${randomUUID()}`)).statusCode).toBe(200);
    expect(f.warnings()).toHaveLength(1);
    const line = JSON.stringify(f.warnings()[0]);
    expect(line).toContain('noeviction');
    expect(line).not.toContain(key);
    expect(line).not.toContain(f.prefix);
  });

  it('noeviction: no warning', async () => {
    const f = fnOn(new Redis(keeping.url));
    for (let i = 0; i < 3; i++) expect((await f.call(`k-${randomUUID()}`)).statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect(f.warnings()).toEqual([]);
  });

  it('INFO refused by an ACL user (NOPERM): no warning and no failure', async () => {
    const admin = new Redis(evicting.url);
    clients.push(admin);
    const user = `u${randomUUID().slice(0, 8)}`;
    await admin.call('ACL', 'SETUSER', user, 'on', '>secret-pw', '~*', '+@all', '-info');
    const limited = new Redis(evicting.url, { username: user, password: 'secret-pw', enableReadyCheck: false });
    await expect(limited.call('INFO', 'memory')).rejects.toThrow(/^NOPERM/);
    const f = fnOn(limited);
    for (let i = 0; i < 3; i++) expect((await f.call(`k-${randomUUID()}`)).statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect(f.warnings()).toEqual([]);
    expect(f.lines).toEqual([]);
  });

  it("an OOM reply (noeviction, memory full) is logged with causeCode 'OOM', not 'UNKNOWN'", async () => {
    const admin = new Redis(keeping.url);
    clients.push(admin);
    const leases = redisLeaseStore({ client: admin, prefix: `oom-${randomUUID().slice(0, 8)}:` });
    await admin.call('CONFIG', 'SET', 'maxmemory', '1');
    try {
      const failed: unknown = await leases.claim({ key: 'k', owner: randomUUID(), leaseMs: 10_000 }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(storeFailureFacts(failed)).toEqual({ cause: 'ReplyError', causeCode: 'OOM' });
    } finally {
      await admin.call('CONFIG', 'SET', 'maxmemory', '0');
    }
  });

  describe('Redis Cluster: every master is asked', () => {
    let cluster: OwnCluster | undefined;
    beforeAll(async () => {
      cluster = await startRedisCluster();
    }, 60_000);
    afterAll(async () => {
      await cluster?.stop();
    });

    it('one master of three on volatile-lru: one warning, whichever slot the records are on', async () => {
      const last = new Redis({ host: '127.0.0.1', port: cluster!.ports[cluster!.ports.length - 1]! });
      clients.push(last);
      expect(String(await last.call('CLUSTER', 'MYID')).length).toBeGreaterThan(0);
      // A master: the own cluster starts three masters, no replicas.
      expect(String(await last.call('ROLE'))).toMatch(/^master/);
      await last.call('CONFIG', 'SET', 'maxmemory-policy', 'volatile-lru');
      // hashTag: every record on one slot — the warning must not depend on that slot's master.
      const f = fnOn(new Cluster(cluster!.nodes), 'scope');
      // A Cluster knows its masters once connected: asked at the first claim that finds them.
      for (let i = 0; i < 20 && f.warnings().length === 0; i++) {
        expect((await f.call(`k-${randomUUID()}`)).statusCode).toBe(200);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(f.warnings()).toHaveLength(1);
      for (let i = 0; i < 3; i++) expect((await f.call(`k-${randomUUID()}`)).statusCode).toBe(200);
      expect(f.warnings()).toHaveLength(1);
    }, 60_000);
  });
});
