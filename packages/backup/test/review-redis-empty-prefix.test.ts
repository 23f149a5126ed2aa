/**
 * Review follow-up: `redisTarget({ keyPrefix: '' })` — the documented default, spelled out —
 * was refused with a ConfigurationError ("a non-empty string"). It must be accepted and behave
 * as no prefix at all: keys restored under their own names.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { redisSource, redisTarget, restore, snapshotBackup } from '../src/index.js';
import { freshBucket, redisClient, S3_SERVERS, unique } from './support.js';

const clients: Array<{ quit(): Promise<unknown> }> = [];
afterAll(async () => {
  for (const c of clients) await c.quit();
});

describe("redisTarget keyPrefix ''", () => {
  it('is accepted and restores keys under their own names', async () => {
    const client = await redisClient();
    clients.push(client);
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const p = unique('emptyprefix');
    try {
      await client.set(`${p}:a`, 'one');
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'rp' };
      const done = await snapshotBackup({ source: redisSource({ client, pattern: `${p}:*` }), target: storage }).run();
      expect(done.status).toBe('complete');
      await client.del(`${p}:a`);
      const report = await restore({ backup: { storage, id: 'latest' }, target: redisTarget({ client, keyPrefix: '' }), ifTargetNotEmpty: 'merge' });
      expect(report.records).toBe(1);
      expect(await client.get(`${p}:a`)).toBe('one');
    } finally {
      await client.del(`${p}:a`);
      await s3.drop();
    }
  });
});
