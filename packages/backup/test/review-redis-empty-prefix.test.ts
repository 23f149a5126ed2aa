/**
 * Review follow-up: `redisTarget({ keyPrefix: '' })` — the documented default, spelled out —
 * was refused with a ConfigurationError ("a non-empty string"). It must be accepted and behave
 * as no prefix at all: keys restored under their own names.
 *
 * On an own Redis server: a restore without a prefix locks the whole keyspace (every prefix
 * overlaps ''), so on the shared server another file's restore running meanwhile refused it with
 * RESTORE_TARGET_BUSY (and this one's lock refused theirs).
 */
import { describe, expect, it } from 'vitest';
import { redisSource, redisTarget, restore, snapshotBackup } from '../src/index.js';
import { withOwnRedis } from './support-restore.js';

describe("redisTarget keyPrefix ''", () => {
  it('is accepted and restores keys under their own names', async () => {
    await withOwnRedis('rp', async ({ redis: client, storage }) => {
      await client.set('emptyprefix:a', 'one');
      const done = await snapshotBackup({ source: redisSource({ client, pattern: 'emptyprefix:*' }), target: storage }).run();
      expect(done.status).toBe('complete');
      await client.del('emptyprefix:a');
      const report = await restore({ backup: { storage, id: 'latest' }, target: redisTarget({ client, keyPrefix: '' }), ifTargetNotEmpty: 'merge' });
      expect(report.records).toBe(1);
      expect(await client.get('emptyprefix:a')).toBe('one');
    });
  });
});
