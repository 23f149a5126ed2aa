/**
 * A damaged stream checkpoint (`streams/<name>/checkpoint.json`). With `stream`, retention reads
 * it for the stream's position (the line its prune stays below: retention-holds.ts) and for the
 * hours that hold objects (the prune: retention-prune.ts, `pruneStream`). It is outside bytes; one
 * that is not JSON, or of another format version, made that read throw — so every later run
 * with `stream` failed, and nothing else (backups, orphans, other streams) was handled again.
 *
 * Now the run reports it (`damaged`: the key, the error's code, what was expected, the
 * problem, never the content; a warning in the log) and goes on: the backups the policy
 * drops are deleted, and nothing of the stream is — which hours it has and where it stands is
 * unknown, so everything its checkpoint would have protected stays (nor does the stream sweep
 * touch it: `checkpoint unreadable`). The stream's sink, started on it, fails with the same
 * typed error and overwrites nothing (the damaged object stays as evidence).
 *
 * Two hours below a kept snapshot (outbox-fixture.ts), then a second snapshot, so that the
 * policy (`keepLast: 1`) drops the first and the prune would reach every hour below the
 * second. On both S3 servers (moto, gofakes3), FerretDB and Redis 7.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { applyRetention, BackupCorruptedError, redisStreamSource, streamBackup, UnsupportedFormatError } from '../src/index.js';
import { damagedEntry, prunableStream, warningLog } from './damaged-stream-fixture.js';
import { outboxApp } from './outbox-fixture.js';
import { closeMongo, listAll, S3_SERVERS } from './support.js';

afterAll(closeMongo);

const DAMAGES = [
  { kind: 'not JSON', body: '{"formatVersion":1,"name":"orders","hours":[', error: BackupCorruptedError, code: 'BACKUP_CORRUPTED', problem: 'not JSON' },
  { kind: 'of a newer format', body: JSON.stringify({ formatVersion: 2, name: 'orders', hours: [] }), error: UnsupportedFormatError, code: 'BACKUP_FORMAT_UNSUPPORTED', problem: 'unknown format version' },
] as const;

describe.each(S3_SERVERS)('a damaged stream checkpoint, on $name', (server) => {
  it.each(DAMAGES)('a checkpoint $kind is reported and the stream left whole; backups are still pruned, run after run; the sink fails typed and overwrites nothing', async (damage) => {
    const stream = await prunableStream(server, 'dmgcp');
    const { s3, redis, key, storage, firstId, secondId, objects, policy } = stream;
    try {
      const checkpointKey = 'r/streams/orders/checkpoint.json';
      await stream.put(checkpointKey, damage.body);
      const expected = damagedEntry('streams/orders/checkpoint.json', 'stream checkpoint', damage);

      // Before: every one of these runs rejected with the checkpoint's BackupCorruptedError / UnsupportedFormatError.
      const dry = await applyRetention({ ...policy, dryRun: true });
      expect(dry).toMatchObject({ deleted: [firstId], streamObjects: 0, damaged: [expected] });

      const { warnings, log } = warningLog();
      const first = await applyRetention(policy, { log });
      expect(first.stoppedBy).toBeUndefined();
      expect(first).toMatchObject({ kept: [secondId], deleted: [firstId], streamObjects: 0, damaged: [expected], streamPruneLeftAlone: [], left: { streamObjects: 0, listings: [] } });
      expect(first.streamOrphans).toMatchObject({ objects: 0, indexes: 0, leftAlone: [{ stream: 'orders', reason: 'checkpoint unreadable' }] });
      expect(warnings).toEqual([{ message: 'retention: damaged objects left alone', fields: { damaged: [{ key: expected.key, code: damage.code, problem: expect.stringContaining(damage.problem), leftAlone: 'prune of the stream' }] } }]);
      // The content is never reported nor logged.
      expect(JSON.stringify([first.damaged, warnings])).not.toContain(damage.body);
      // The first backup is gone; every stream object and index stays, and the checkpoint is as it was put.
      expect(await listAll(s3.client, s3.bucket, `r/backups/${firstId}/`)).toEqual([]);
      expect(await stream.streamObjects()).toEqual(objects);
      expect(await stream.read(checkpointKey)).toBe(damage.body);

      // Every later run says so again, deletes nothing of the stream, and does not fail.
      const again = await applyRetention(policy);
      expect(again.stoppedBy).toBeUndefined();
      expect(again).toMatchObject({ kept: [secondId], deleted: [], streamObjects: 0, damaged: [expected] });
      expect(await stream.streamObjects()).toEqual(objects);

      // The sink on it: the typed error naming the key (not a TypeError), nothing written over it.
      await outboxApp(redis, key, 'orders').put('w0', { phase: 'w' });
      const sink = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage });
      const error = await sink.run().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(damage.error);
      expect(error).toMatchObject({ code: damage.code, problems: [{ key: checkpointKey, message: expect.stringContaining(damage.problem) }] });
      expect(await stream.read(checkpointKey)).toBe(damage.body);
      expect(await stream.streamObjects()).toEqual(objects);
    } finally {
      await stream.close();
    }
  });
});
