/**
 * The stream sweep deletes orphans one `DeleteObject` at a time (retention-streams.ts; it never
 * sends `DeleteObjects`, so a batch's per-key `Errors` cannot arise) and handles a listed page
 * whole before it saves its cursor (`retention/streams-cursor.json`) and asks for the next. A
 * delete S3 refuses in the middle of a page — a 403 (a policy denying it) or a 500 — must stop
 * the run with `RetentionDeleteError` naming that key (nothing after it deleted, nothing
 * reported deleted), leave the cursor before it (the page is handled again next run: the refused
 * object is still found), and the next run must delete what is left and nothing else.
 *
 * A stream whose hour holds its one listed object and five orphans (objects behind the
 * checkpoint no index lists, written by the test), pages of three keys (the real object and two
 * orphans; three orphans; the index), `orphanGraceMs: 0` and a clock a minute ahead. The fourth
 * orphan's delete — the middle of the second page — answered 403 or 500 as S3 would (the rest
 * goes to the real server). On both S3 servers (moto, gofakes3) and Redis 7.
 */
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { RetentionDeleteError, applyRetention, redisStreamSource, streamBackup, type S3Target } from '../src/index.js';
import { outboxApp } from './outbox-fixture.js';
import { freshBucket, listAll, readJson, redisClient, S3_SERVERS, unique, type Sender } from './support.js';

const REFUSALS = [
  { status: 403, name: 'AccessDenied' },
  { status: 500, name: 'InternalError' },
];

/** `client` with pages of three keys under the stream's timelines, refusing the delete of `refused.key` while `refused.on`. */
function refusing(client: Sender, refused: { key: string; on: boolean; status: number; name: string }): Sender {
  return {
    async send(command: unknown, options?: unknown) {
      if (command instanceof ListObjectsV2Command && command.input.Prefix === 'p/streams/orders/t') command.input.MaxKeys = 3;
      if (refused.on && command instanceof DeleteObjectCommand && command.input.Key === refused.key) throw Object.assign(new Error(refused.name), { name: refused.name, $metadata: { httpStatusCode: refused.status } });
      return client.send(command, options);
    },
  };
}

describe.each(S3_SERVERS)('the stream sweep meeting a delete S3 refuses mid-page, on $name', (server) => {
  it.each(REFUSALS)('$status $name: stops there, keeps its place before it; the next run deletes the rest', async ({ status, name }) => {
    const s3 = await freshBucket(server);
    const redis = await redisClient();
    const key = unique('sdr-outbox');
    const storage: S3Target = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
    try {
      const app = outboxApp(redis, key, 'orders');
      for (let i = 0; i < 3; i++) await app.put(`a${i}`, { n: i });
      await streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage }).run();
      const listed = await listAll(s3.client, s3.bucket, 'p/streams/orders/t');
      expect(listed).toHaveLength(2); // object 1 and its hour's index
      const hour = listed[0]!.slice(0, listed[0]!.lastIndexOf('/') + 1);
      // Object number 1 (behind the checkpoint) under other names: sorted after the listed one.
      const orphans = Array.from({ length: 5 }, (_, i) => `${hour}000000000001_zorphan-${i}.ndjson.gz`);
      for (const o of orphans) await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: o, Body: 'x' }));
      expect(await listAll(s3.client, s3.bucket, 'p/streams/orders/t')).toEqual([listed[0], ...orphans, listed[1]]);

      const refused = { key: orphans[3]!, on: true, status, name };
      const policy = { storage: { ...storage, client: refusing(s3.client, refused) }, orphanGraceMs: 0, now: () => Date.now() + 60_000 };
      const error = await applyRetention(policy).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RetentionDeleteError);
      expect(error).toMatchObject({ code: 'RETENTION_DELETE_FAILED', retryable: true, problems: [{ key: orphans[3] }] });
      // Those before it deleted, it and those after it still there.
      expect(await listAll(s3.client, s3.bucket, 'p/streams/orders/t')).toEqual([listed[0], orphans[3], orphans[4], listed[1]]);
      // The cursor is at the end of the first page (saved before the second was asked for), never past the refused key.
      const cursor = await readJson<{ stream: string; after: string }>(s3.client, s3.bucket, 'p/retention/streams-cursor.json');
      expect(cursor).toMatchObject({ stream: 'orders', after: orphans[1] });

      refused.on = false;
      const next = await applyRetention(policy);
      expect(next.stoppedBy).toBeUndefined();
      expect(next.streamOrphans).toMatchObject({ objects: 2, left: 0, streamsLeft: 0 });
      expect(await listAll(s3.client, s3.bucket, 'p/streams/orders/t')).toEqual(listed);
      expect(await readJson(s3.client, s3.bucket, 'p/retention/streams-cursor.json')).toBeUndefined();
    } finally {
      await redis.del(key);
      redis.disconnect();
      await s3.drop();
    }
  });
});
