/**
 * A damaged pruned record (`streams/<name>/pruned.json`: how far retention pruned the stream,
 * written before its first delete and read by restores to say a range was pruned, not lost).
 * It is outside bytes; one that is not JSON, or of another format version, made the prune's
 * read of it throw — so every later run with `stream` that had an hour to prune failed, and
 * nothing else (backups, orphans) was handled again.
 *
 * Now the run reports it (`damaged`: the key, the error's code, what was expected, the
 * problem, never the content; a warning in the log) and goes on: the backups the policy drops
 * are deleted, and nothing of the stream is — a delete without a readable record would leave a
 * restore unable to tell pruned from lost — and the record is not written over (it stays as
 * evidence). A dry run says the same.
 *
 * Two hours below a kept snapshot (outbox-fixture.ts), then a second snapshot, so that the
 * policy (`keepLast: 1`) drops the first and the prune would reach every hour below the
 * second. On both S3 servers (moto, gofakes3), FerretDB and Redis 7.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { applyRetention } from '../src/index.js';
import { damagedEntry, prunableStream, warningLog } from './damaged-stream-fixture.js';
import { closeMongo, listAll, S3_SERVERS } from './support.js';

afterAll(closeMongo);

const DAMAGES = [
  { kind: 'not JSON', body: '{"formatVersion":1,"name":"orders","timeline":', code: 'BACKUP_CORRUPTED', problem: 'not JSON' },
  { kind: 'of a newer format', body: JSON.stringify({ formatVersion: 2, name: 'orders', through: { timeline: 1, seq: 3 } }), code: 'BACKUP_FORMAT_UNSUPPORTED', problem: 'unknown format version' },
] as const;

describe.each(S3_SERVERS)('a damaged stream pruned record, on $name', (server) => {
  it.each(DAMAGES)('a pruned record $kind is reported and the stream left whole, the record as it was; backups are still pruned, run after run', async (damage) => {
    const stream = await prunableStream(server, 'dmgpr');
    const { s3, firstId, secondId, objects, policy } = stream;
    try {
      const prunedKey = 'r/streams/orders/pruned.json';
      await stream.put(prunedKey, damage.body);
      const expected = damagedEntry('streams/orders/pruned.json', 'stream pruned record', damage);

      const dry = await applyRetention({ ...policy, dryRun: true });
      expect(dry).toMatchObject({ deleted: [firstId], streamObjects: 0, damaged: [expected] });

      // Before: this run rejected with the record's BackupCorruptedError / UnsupportedFormatError.
      const { warnings, log } = warningLog();
      const first = await applyRetention(policy, { log });
      expect(first.stoppedBy).toBeUndefined();
      expect(first).toMatchObject({ kept: [secondId], deleted: [firstId], streamObjects: 0, damaged: [expected], streamPruneLeftAlone: [], left: { streamObjects: 0, listings: [] } });
      expect(warnings).toEqual([{ message: 'retention: damaged objects left alone', fields: { damaged: [{ key: expected.key, code: damage.code, problem: expect.stringContaining(damage.problem), leftAlone: 'prune of the stream' }] } }]);
      // The content is never reported nor logged.
      expect(JSON.stringify([first.damaged, warnings])).not.toContain(damage.body);
      // The first backup is gone; every stream object and index stays, and the record is as it was put.
      expect(await listAll(s3.client, s3.bucket, `r/backups/${firstId}/`)).toEqual([]);
      expect(await stream.streamObjects()).toEqual(objects);
      expect(await stream.read(prunedKey)).toBe(damage.body);

      // Every later run says so again, deletes nothing of the stream, and does not fail.
      const again = await applyRetention(policy);
      expect(again.stoppedBy).toBeUndefined();
      expect(again).toMatchObject({ kept: [secondId], deleted: [], streamObjects: 0, damaged: [expected] });
      expect(await stream.streamObjects()).toEqual(objects);
      expect(await stream.read(prunedKey)).toBe(damage.body);
    } finally {
      await stream.close();
    }
  });
});
