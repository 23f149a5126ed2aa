/**
 * Attack: one byte changed in an hourly index entry's `key` (outside bytes: anyone with access
 * to the bucket, or a bad disk, can change it) — the index stays valid JSON of the right
 * shape, but it now lists a key that does not exist, and the object it listed is no longer
 * listed. The stream sweep of retention takes unlisted objects behind the checkpoint for
 * orphans: it must not delete that archived, needed object because of the damaged index. The
 * hour is left alone (reported in `streamOrphans.leftAlone`); with the index put back, the
 * stream restores whole. On both S3 servers (moto, gofakes3), Redis 7 as the source, FerretDB
 * as the target.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRetention, BackupError, mongoTarget, redisStreamSource, restoreStream, streamBackup } from '../src/index.js';
import { outboxApp } from './outbox-fixture.js';
import { clearOfHourEnd, closeMongo, freshBucket, freshDb, listAll, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

/** Where in the key to change one byte, and how. */
const CHANGES = [
  { what: "the extension's first letter, case flipped", at: (key: string) => key.lastIndexOf('.ndjson.gz') + 1, mask: 0x20 },
  { what: 'the last digit of the object number, to another digit', at: (key: string) => key.lastIndexOf('/') + 12, mask: 0x01 },
];

describe.each(S3_SERVERS)('one byte changed in an hourly index entry\'s key ($name)', (server) => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await redisClient();
  });
  afterAll(() => redis.disconnect());

  it.each(CHANGES)('$what: the stream sweep deletes nothing the index listed; put back, the stream restores whole', async (change) => {
    const s3 = await freshBucket(server);
    const key = unique('flipidx');
    const target = await freshDb('flipidx');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'fx' };
    const job = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage });
    try {
      await clearOfHourEnd(); // its objects must fall in one hour
      const app = outboxApp(redis, key, 'orders');
      for (let run = 0; run < 3; run++) {
        for (let i = 0; i < 5; i++) await app.put(`k${run}-${i}`, { n: i });
        await job.run();
      }
      const before = await listAll(s3.client, s3.bucket, 'fx/streams/orders/t');
      const objects = before.filter((k) => k.endsWith('.ndjson.gz'));
      const indexKey = before.find((k) => k.endsWith('/index.json'))!;
      expect(objects).toHaveLength(3);
      expect(before.filter((k) => k.endsWith('/index.json'))).toHaveLength(1);
      const good = await restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: target }) });
      expect(good.changes).toBe(15);
      await target.dropDatabase();

      const original = Buffer.from(await (await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: indexKey }))).Body!.transformToByteArray());
      const victim = objects[1]!; // the index lists whole keys (the prefix included)
      const found = original.indexOf(Buffer.from(JSON.stringify(victim)));
      expect(found).toBeGreaterThan(0);
      const at = found + 1 + change.at(victim);
      const damaged = Buffer.from(original);
      damaged[at]! ^= change.mask;
      expect(() => JSON.parse(damaged.toString('utf8')), 'still valid JSON').not.toThrow();
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: indexKey, Body: damaged }));

      // A restore needing the hour refuses, naming what it met; nothing written.
      const refused: unknown = await restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: target }) }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(BackupError);
      expect(await target.listCollections().toArray()).toEqual([]);

      // No grace: every unlisted object behind the checkpoint would be an orphan.
      const report = await applyRetention({ storage, orphanGraceMs: 0 });
      expect(report.streamOrphans.objects, 'nothing deleted').toBe(0);
      expect(report.streamOrphans.leftAlone).toEqual([expect.objectContaining({ stream: 'orders', key: indexKey.slice('fx/'.length) })]);
      expect(await listAll(s3.client, s3.bucket, 'fx/streams/orders/t')).toEqual(before);

      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: indexKey, Body: original }));
      expect((await restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: target }) })).changes).toBe(15);
    } finally {
      await redis.del(key);
      await Promise.all([target.dropDatabase(), s3.drop()]);
    }
  }, 240_000); // 60 s of it for clearOfHourEnd at most
});
