/**
 * Brief s53-fxb, item 1: `redisStreamSource` took an ioredis client with `keyPrefix`. ioredis
 * prefixes `XRANGE` and `XINFO STREAM`, so it read the stream `<prefix><key>`, but the source
 * knew it as `<key>` alone: the records' ids (`<key>/<entry id>`), gap messages and the
 * checkpoint's source identity named a key that does not exist. Two tenants' clients
 * (`a:`, `b:`) on the same `key` were one identity, so a stream backup switched from one to the
 * other took the first stream's position for the second and skipped its older entries with
 * `complete` and no gap (silent loss; a plain client with the full names is refused on `name`,
 * `stream-source-switched.test.ts`). Such a client is now refused as `redisSource` and
 * `redisTarget` refuse it: `ConfigurationError`, code `REDIS_CLIENT_KEY_PREFIX`, field `client`,
 * given directly (when made) or by a getter (when the run identifies its source, nothing read or
 * written). Redis 7 and S3 on moto.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { redisStreamSource, streamBackup } from '../src/index.js';
import { freshBucket, listAll, redisClient, S3_SERVERS, unique } from './support.js';

const refused = { name: 'ConfigurationError', code: 'REDIS_CLIENT_KEY_PREFIX', field: 'client' };
const p = unique('skp');
let plain: Redis;
let tenantA: Redis;
let tenantB: Redis;
let s3: Awaited<ReturnType<typeof freshBucket>>;

beforeAll(async () => {
  plain = await redisClient();
  tenantA = new Redis(process.env.REDIS_URL!, { keyPrefix: `${p}a:`, maxRetriesPerRequest: 2 });
  tenantB = new Redis(process.env.REDIS_URL!, { keyPrefix: `${p}b:`, maxRetriesPerRequest: 2 });
  s3 = await freshBucket(S3_SERVERS[0]!);
});
afterAll(async () => {
  const keys = await plain.keys(`${p}*`);
  if (keys.length > 0) await plain.del(...keys);
  plain.disconnect();
  tenantA.disconnect();
  tenantB.disconnect();
  await s3.drop();
});

describe('a Redis stream source whose client has keyPrefix', () => {
  it('is refused when made, naming the option and what to pass instead (not the key: user data)', () => {
    expect(() => redisStreamSource({ client: tenantA, key: 'events' })).toThrow(expect.objectContaining({ ...refused, message: expect.stringContaining("the stream's full key") }));
    let message = '';
    try {
      redisStreamSource({ client: tenantA, key: 'secret-stream' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(JSON.stringify(`${p}a:`));
    expect(message).not.toContain('secret-stream');
  });

  it('from a getter: refused before anything is read or written, so no tenant\'s entries are skipped', async () => {
    // Tenant b's entries are older than tenant a's: with one identity for both, b would resume
    // after a's last entry and never archive its own.
    for (let i = 0; i < 5; i++) await tenantB.xadd('events', '*', 'n', String(i));
    for (let i = 0; i < 3; i++) await tenantA.xadd('events', '*', 'n', String(i));
    expect(await plain.xlen(`${p}a:events`)).toBe(3);
    const storage = { client: s3.client, bucket: s3.bucket, prefix: `${p}st` };
    const job = (client: Redis) => streamBackup({ name: 'orders', source: redisStreamSource({ client: () => client, key: 'events' }), target: storage });

    await expect(job(tenantA).run()).rejects.toMatchObject(refused);
    await expect(job(tenantB).run()).rejects.toMatchObject(refused);
    // Push mode identifies its source too.
    await expect(job(tenantB).append([])).rejects.toMatchObject(refused);
    expect((await listAll(s3.client, s3.bucket, `${p}st`)).filter((k) => !k.endsWith('/lease.json'))).toEqual([]);

    // A client without keyPrefix and the full key archives each tenant's stream whole.
    const whole = (key: string, name: string) => streamBackup({ name, source: redisStreamSource({ client: plain, key }), target: storage }).run();
    expect(await whole(`${p}a:events`, 'a')).toMatchObject({ records: 3, timelineBroken: false });
    expect(await whole(`${p}b:events`, 'b')).toMatchObject({ records: 5, timelineBroken: false });
  });

  it('a Cluster with redisOptions.keyPrefix is refused too', () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true, redisOptions: { keyPrefix: 'c:' } });
    try {
      expect(() => redisStreamSource({ client: cluster, key: 'events' })).toThrow(expect.objectContaining(refused));
    } finally {
      cluster.disconnect();
    }
  });
});
