/**
 * `redisSource` never backs up a restore lock or partial-restore marker (src/restore/lock.ts),
 * nor a drill's scratch marker (src/restore/redis-scratch.ts): keys a restore or a drill wrote
 * into a database that is itself backed up (`pattern: '*'`). Held by the real `TargetLock` and
 * written by the real target's `markScratch` (so the keys are the ones a restore or drill writes,
 * every shape: no prefix, a prefix, and a prefix the key would start with, `~` in front) on an
 * own Redis server and an own Redis Cluster (their whole keyspace is the test's), then read back
 * from the backup's data in S3. Nor does `redisTarget`'s "already held keys" warning count them.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';
import { Cluster, Redis } from 'ioredis';
import { parseManifest, redisSource, redisTarget, restore, RestoreTargetPartialError, snapshotBackup } from '../src/index.js';
import { TargetLock } from '../src/restore/lock.js';
import { redisRestoreKeys } from '../src/restore/lock-places.js';
import { scratchMarkerKey } from '../src/restore/redis-scratch.js';
import { decodeBytes } from '../src/sources/redis-values.js';
import { startRedis, startRedisCluster } from '../../../test/support/servers.js';
import { freshBucket, S3_SERVERS } from './support.js';

const stops: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

/** The key prefixes of the restores holding the target: `~` in front of the last one's keys. */
const PREFIXES = ['', 'app:', 'steadyfn:'];
const DATA_KEYS = ['a:1', 'b:2', 'c:3', 'session:{x}', 'zz'];

async function ownRedis(): Promise<Redis> {
  const server = await startRedis();
  const redis = new Redis(server.url, { maxRetriesPerRequest: 2 });
  stops.push(() => server.stop(), async () => redis.disconnect());
  return redis;
}

async function ownCluster(): Promise<Cluster> {
  const own = await startRedisCluster();
  const cluster = new Cluster(own.nodes, { redisOptions: { maxRetriesPerRequest: 2 } });
  stops.push(() => own.stop(), async () => cluster.disconnect());
  return cluster;
}

describe.each([
  { kind: 'Redis', connect: ownRedis },
  { kind: 'Redis Cluster', connect: ownCluster },
])("redisSource pattern '*' on $kind", ({ connect }) => {
  it('backs up the data keys and none of the restore locks and markers, nor drill markers', async () => {
    const client = await connect();
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const locks: TargetLock[] = [];
    try {
      for (const key of DATA_KEYS) await client.set(key, `v-${key}`);
      const reserved: string[] = [];
      for (const keyPrefix of PREFIXES) {
        const keys = redisRestoreKeys(keyPrefix);
        if (keyPrefix === '') {
          // '' overlaps the other prefixes: held and listed, its lock would refuse theirs
          // (lock-places.ts). Its lock's record and marker are written directly, not listed.
          const place = redisTarget({ client, keyPrefix }).lock!;
          await (await place.leases()).claim({ key: keys.lock, owner: 'earlier-restore', leaseMs: 600_000 });
          await place.writeMarker({ backupId: 'held-', startedAt: new Date().toISOString() });
        } else {
          const lock = new TargetLock(redisTarget({ client, keyPrefix }), 60_000);
          await lock.take(`held-${keyPrefix}`);
          locks.push(lock);
        }
        reserved.push(keys.lock, keys.marker);
        // A drill's marker: every scratch keeps one, without a prefix too (`~steadyfn:drill-marker:`).
        await redisTarget({ client, keyPrefix }).markScratch!({ drillId: `d-${keyPrefix}`, backupId: 'b', storage: 's3://x/y', startedAt: new Date().toISOString(), collections: ['*'] });
        reserved.push(scratchMarkerKey(keyPrefix));
      }
      expect(reserved).toContain('~steadyfn:restore-lock:steadyfn:');
      expect(reserved).toContain('~steadyfn:drill-marker:steadyfn:');
      expect(reserved).toContain('~steadyfn:drill-marker:');
      // The set of locked prefixes (lock-places.ts) is bookkeeping too.
      reserved.push('steadyfn:restore-lock-prefixes:');
      for (const key of reserved) expect(await client.exists(key)).toBe(1);

      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'lockkeys' };
      const done = await snapshotBackup({ source: redisSource({ client, pattern: '*' }), target: storage }).run();
      if (done.status !== 'complete') throw new Error('backup did not complete');
      const read = async (key: string): Promise<Buffer> => Buffer.from(await (await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }))).Body!.transformToByteArray());
      const manifest = parseManifest((await read(done.manifestKey)).toString(), done.manifestKey);
      const backedUp: string[] = [];
      for (const dataset of manifest.datasets) {
        for (const segment of dataset.segments) {
          for (const line of gunzipSync(await read(segment.key)).toString().split('\n').filter(Boolean)) {
            backedUp.push(decodeBytes((JSON.parse(line) as { k: string | { $b64: string } }).k).toString('latin1'));
          }
        }
      }
      expect([...new Set(backedUp)].sort()).toEqual([...DATA_KEYS].sort());
      expect(done.records).toBe(DATA_KEYS.length);
      expect(manifest.datasets.reduce((n, d) => n + d.count, 0)).toBe(DATA_KEYS.length);
    } finally {
      for (const lock of locks) await lock.end(false);
      await s3.drop();
    }
  }, 120_000);

  it("a restore without a prefix does not count other restores' locks and markers, nor drill markers, as keys already held", async () => {
    const client = await connect();
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const locks: TargetLock[] = [];
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'prepare' };
      await client.set('d:1', 'v');
      expect((await snapshotBackup({ source: redisSource({ client, pattern: 'd:*' }), target: storage }).run()).status).toBe('complete');
      await client.del('d:1');
      // Only bookkeeping left: other prefixes' restores hold their locks, a drill marked its scratch.
      for (const keyPrefix of ['app:', 'steadyfn:']) {
        const lock = new TargetLock(redisTarget({ client, keyPrefix }), 60_000);
        await lock.take(`held-${keyPrefix}`);
        // Failed (marker left): a held 'app:' lock would refuse the restore into '' (overlapping prefixes),
        // and so does the marker of a failed one unless the restore merges (restore-overlap-markers.test.ts).
        await lock.end(false);
        await redisTarget({ client, keyPrefix }).markScratch!({ drillId: `d-${keyPrefix}`, backupId: 'b', storage: 's3://x/y', startedAt: new Date().toISOString(), collections: ['*'] });
      }
      const held = (warnings: string[]) => warnings.filter((w) => /already held/.test(w));
      await expect(restore({ backup: { storage, id: 'latest' }, target: redisTarget({ client }) })).rejects.toBeInstanceOf(RestoreTargetPartialError);
      expect(held((await restore({ backup: { storage, id: 'latest' }, target: redisTarget({ client }), ifTargetNotEmpty: 'merge' })).warnings)).toEqual([]);

      // User data is still counted, and only it: the restored key and one more.
      await client.set('other:1', 'kept');
      expect(held((await restore({ backup: { storage, id: 'latest' }, target: redisTarget({ client }), ifTargetNotEmpty: 'merge' })).warnings)).toEqual([expect.stringContaining('held 2 key(s)')]);
    } finally {
      for (const lock of locks) await lock.end(false);
      await s3.drop();
    }
  }, 120_000);
});
