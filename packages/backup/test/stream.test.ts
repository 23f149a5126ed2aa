/**
 * Streaming backup of outbox events (a Redis stream of envelopes) on both S3 servers:
 * 10,000 events with the sink process killed twice (SIGKILL) → after a restore from the
 * stream every event is present once (duplicates dropped by id) and the state, deletes
 * included, equals the application's. A trimmed stream breaks the timeline; `restoreStream` of
 * the timeline the break began (the default, the current one) is refused unless `allowPartial`.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { EJSON } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { mongoTarget, redisStreamSource, restoreStream, streamBackup, TimelineGapError, TimelinePartialError } from '../src/index.js';
import { loadStreamCheckpoint, replayObjects, timelineObjects } from '../src/restore/replay.js';
import { keys } from '../src/target.js';
import { bundleChild } from '../../../test/support/bundle.js';
import { outboxApp } from './outbox-fixture.js';
import { closeMongo, freshBucket, freshDb, leaseRunsOut, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

const EVENTS = 10_000;

/**
 * Runs the sink in a child process until it stops after its `killAt`-th new object (before
 * that object's checkpoint), then kills it with SIGKILL. Resolves to how it ended: `killed`
 * only when it was still running at that point; otherwise its exit and stderr say why.
 */
async function runKilledChild(file: string, env: Record<string, string>, killAt: number): Promise<{ killed: boolean; objects: number; exit: string; stderr: string }> {
  const child = spawn(process.execPath, [file], { env: { ...process.env, ...env, KILL_AT: String(killAt) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let killed = false;
  const exit = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!killed && stdout.includes('waiting\n')) killed = child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    child.on('exit', (code, signal) => resolve(signal ?? `exit ${String(code)}`));
    child.on('error', reject);
  });
  const objects = (stdout.match(/^object$/gm) ?? []).length;
  return { killed: killed && exit === 'SIGKILL', objects, exit, stderr: stderr.split('\n').filter((l) => l.startsWith('child failed')).join('\n') };
}

describe.each(S3_SERVERS)('stream backup on $name', (server) => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await redisClient();
  });
  afterAll(() => redis.disconnect());

  it('keeps every one of 10,000 events through two killed sinks; a restore holds each once, deletes included', async () => {
    const s3 = await freshBucket(server);
    const key = unique('outbox');
    const name = 'orders';
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'stream' };
    const target = await freshDb('streamed');
    const { file, dir } = bundleChild(new URL('./child/stream-child.ts', import.meta.url).href);
    try {
      const app = outboxApp(redis, key, 'orders');
      const ids = new Set<string>();
      for (let i = 0; i < EVENTS; i++) {
        const id = `o${i % 400}`;
        const envelope = i % 97 === 96 && app.state.has(id) ? await app.remove(id) : await app.put(id, { n: i, status: i % 3 === 0 ? 'paid' : 'open' });
        ids.add(envelope.id);
      }
      const env = { CHILD_S3_ENDPOINT: process.env[server.env]!, CHILD_BUCKET: s3.bucket, CHILD_STREAM: name, CHILD_KEY: key };
      const checkpointSeq = async () => (await loadStreamCheckpoint(storage as never, name)).seq;

      // Killed after writing its 3rd object, before checkpointing it.
      expect(await runKilledChild(file, env, 3)).toEqual({ killed: true, objects: 3, exit: 'SIGKILL', stderr: '' });
      expect(await checkpointSeq()).toBe(2);
      await leaseRunsOut(storage, keys.streamLease(name));
      // The next sink resumes from object 2: it writes object 3 again (adopting the dead sink's),
      // then 6 new ones, and is killed before checkpointing the last.
      expect(await runKilledChild(file, env, 6)).toEqual({ killed: true, objects: 6, exit: 'SIGKILL', stderr: '' });
      expect(await checkpointSeq()).toBe(8);
      await leaseRunsOut(storage, keys.streamLease(name));

      const job = streamBackup({ name, source: redisStreamSource({ client: redis, key, envelopeField: 'e', count: 250 }), target: storage, buffer: { maxBytes: 64 * 1024, maxMs: 60_000 }, maxRecords: 250 });
      const result = await job.run({ requestId: 'final' });
      expect(result.timelineBroken).toBe(false);

      // Every event archived, at least once; restore counts each once.
      const checkpoint = await loadStreamCheckpoint(storage as never, name);
      const objects = await timelineObjects({ ...storage }, checkpoint, 1, 0);
      const archived = new Set<string>();
      const replay = await replayObjects({ ...storage }, objects, async (records) => void records.forEach((r) => archived.add(r.id)));
      expect(archived.size).toBe(EVENTS);
      expect([...ids].every((id) => archived.has(id))).toBe(true);
      expect(replay).toMatchObject({ records: EVENTS, duplicates: 0 }); // the rewritten objects were adopted, not doubled

      const restored = await restoreStream({ storage, stream: name, target: mongoTarget({ db: target }) });
      expect(restored.changes).toBe(EVENTS);
      const docs = await target.collection('orders').find({}).sort({ _id: 1 }).toArray();
      const expected = [...app.state.values()].sort((a, b) => String(a._id).localeCompare(String(b._id)));
      expect(docs.map((d) => EJSON.stringify(d))).toEqual(expected.map((d) => EJSON.stringify(d)));
      expect(app.state.size).toBeLessThan(400); // some aggregates ended deleted, and stay deleted
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await redis.del(key);
      await Promise.all([target.dropDatabase(), s3.drop()]);
    }
  }, 180_000);

  it('breaks the timeline when the Redis stream was trimmed past the checkpoint, and refuses to replay across it', async () => {
    const s3 = await freshBucket(server);
    const key = unique('trimmed');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'gap' };
    const broken: unknown[] = [];
    try {
      const app = outboxApp(redis, key, 'orders');
      for (let i = 0; i < 20; i++) await app.put(`a${i}`, { n: i });
      const job = streamBackup({ name: 'g', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage, onTimelineBroken: (info) => void broken.push(info) });
      expect((await job.run()).timelineBroken).toBe(false);
      for (let i = 0; i < 20; i++) await app.put(`b${i}`, { n: i });
      await redis.xtrim(key, 'MAXLEN', 5); // 15 unarchived events are gone
      const second = await job.run();
      expect(second).toMatchObject({ timelineBroken: true, snapshotRequired: true, timeline: 2 });
      expect(broken).toHaveLength(1);
      const db = await freshDb('gap');
      await expect(restoreStream({ storage, stream: 'g', timeline: 1, until: Date.now(), target: mongoTarget({ db }) })).rejects.toBeInstanceOf(TimelineGapError);
      expect(await db.listCollections().toArray()).toEqual([]);
      // The current timeline (2) began at the break: it holds 5 of the 40 documents. Replaying it
      // by default is refused before anything is written (before: restored the 5, no warning).
      const refused = await restoreStream({ storage, stream: 'g', target: mongoTarget({ db }) }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(TimelinePartialError);
      expect(refused).toMatchObject({ code: 'BACKUP_TIMELINE_PARTIAL', timeline: 2, brokenAt: expect.any(String), reason: expect.any(String) });
      expect((refused as Error).message).toMatch(/timeline 2 began at a break \(timeline 1 broke at .*pointInTimeRestore.*allowPartial: true/);
      // The sink's reason stays in its field, out of the message and problems that get logged.
      expect((refused as Error).message).not.toContain((refused as TimelinePartialError).reason);
      expect(JSON.stringify((refused as TimelinePartialError).problems)).not.toContain((refused as TimelinePartialError).reason);
      expect(await db.listCollections().toArray()).toEqual([]);
      await expect(restoreStream({ storage, stream: 'g', timeline: 3, target: mongoTarget({ db }) })).rejects.toBeInstanceOf(TimelineGapError);
      expect(await db.listCollections().toArray()).toEqual([]);
      // Opted into: the 5 documents, reported as partial.
      expect(await restoreStream({ storage, stream: 'g', target: mongoTarget({ db }), allowPartial: true })).toMatchObject({ timeline: 2, partial: true });
      expect((await db.collection('orders').find().toArray()).map((d) => d._id).sort()).toEqual(['b15', 'b16', 'b17', 'b18', 'b19']);
      await db.dropDatabase();
      // The first timeline starts with the stream: accepted (the state up to its break), not partial.
      expect(await restoreStream({ storage, stream: 'g', timeline: 1, target: mongoTarget({ db }) })).toMatchObject({ timeline: 1, partial: false });
      expect(await db.collection('orders').countDocuments()).toBe(20);
      await db.dropDatabase();
    } finally {
      await redis.del(key);
      await s3.drop();
    }
  });
});
