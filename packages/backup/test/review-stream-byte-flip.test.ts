/**
 * Attack list (review-byte-flip.test.ts extended past snapshot objects): one byte changed in
 * - each stream object (first byte, a middle byte, last byte; XOR 0x20): `restoreStream` must
 *   refuse with a typed `BackupError` naming the object, nothing written;
 * - the hourly index, at every byte of its header and of one entry, by XOR 0x01 (a digit
 *   becomes another digit, a letter another letter: what stays valid JSON of the index's
 *   shape; the changes that break the JSON are the damaged-index tests' case): a restore
 *   either refuses with a typed error, nothing written, or restores exactly the archived
 *   state; retention (no orphan grace) never deletes an object the undamaged index lists;
 * - a backup's `verification.json`, at every byte, XOR 0x20 and 0x01 (what stays JSON): retention (`keepLast: 1`)
 *   never plans to delete that newest backup, and never stops for it: a record that no longer
 *   reads holds its backup (reported in `damaged`, the older one then the newest verified and
 *   kept; before, the run stopped with a typed error until the record was repaired, blocking
 *   retention of every other backup: review-retention-damaged-verification.test.ts); a `full`
 *   verification passes and writes a good record again.
 * On both S3 servers (moto, gofakes3); Redis 7 as the stream's source, FerretDB as source and target.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRetention, BackupError, mongoSource, mongoTarget, redisStreamSource, restoreStream, snapshotBackup, streamBackup, verifyBackup } from '../src/index.js';
import { hourIndexSchema } from '../src/stream/objects.js';
import { outboxApp } from './outbox-fixture.js';
import { clearOfHourEnd, closeMongo, freshBucket, freshDb, listAll, redisClient, S3_SERVERS, unique, verifiedBackups } from './support.js';

afterAll(closeMongo);

async function bytesOf(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  return Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
}

async function put(client: S3Client, bucket: string, key: string, body: Buffer): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

function flipped(original: Buffer, at: number, mask: number): Buffer {
  const body = Buffer.from(original);
  body[at]! ^= mask;
  return body;
}

function parses(body: Buffer): boolean {
  try {
    JSON.parse(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

async function documents(db: Db): Promise<unknown[]> {
  return db.collection('orders').find({}).sort({ _id: 1 }).toArray();
}

describe.each(S3_SERVERS)('one byte changed in stream objects, hourly indexes and verification records ($name)', (server) => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await redisClient();
  });
  afterAll(() => redis.disconnect());

  it('stream objects and the hourly index: a restore refuses typed or restores exactly; retention deletes nothing listed', async () => {
    const s3 = await freshBucket(server);
    const key = unique('flipstream');
    const target = await freshDb('flipstream');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'fs' };
    const job = streamBackup({ name: 'orders', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage });
    const restoreInto = () => restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: target }) });
    try {
      await clearOfHourEnd(); // its objects must fall in one hour
      const app = outboxApp(redis, key, 'orders');
      for (let run = 0; run < 3; run++) {
        for (let i = 0; i < 5; i++) await app.put(`k${run}-${i}`, { n: i, run });
        await job.run();
      }
      const before = await listAll(s3.client, s3.bucket, 'fs/streams/orders/t');
      const objects = before.filter((k) => k.endsWith('.ndjson.gz'));
      const indexes = before.filter((k) => k.endsWith('/index.json'));
      expect(objects).toHaveLength(3);
      expect(indexes).toHaveLength(1); // the test's runs fall in one hour
      expect((await restoreInto()).changes).toBe(15);
      const good = await documents(target);
      expect(good).toHaveLength(15);
      await target.dropDatabase();

      for (const object of objects) {
        const original = await bytesOf(s3.client, s3.bucket, object);
        for (const at of [0, Math.floor(original.length / 2), original.length - 1]) {
          const label = `${object} @${at}`;
          await put(s3.client, s3.bucket, object, flipped(original, at, 0x20));
          const refused: unknown = await restoreInto().catch((e: unknown) => e);
          expect(refused, label).toBeInstanceOf(BackupError);
          expect((refused as BackupError).problems.map((p) => p.key), label).toContain(object);
          expect(await target.listCollections().toArray(), `${label}: nothing restored`).toEqual([]);
          await put(s3.client, s3.bucket, object, original);
        }
      }

      const indexKey = indexes[0]!;
      const original = await bytesOf(s3.client, s3.bucket, indexKey);
      // The header and the middle entry (the others are alike).
      const start = original.indexOf(Buffer.from(JSON.stringify(objects[1]!))) - '{"key":'.length;
      const end = original.indexOf(Buffer.from(JSON.stringify(objects[2]!)));
      expect(start).toBeGreaterThan(0);
      const positions = [...Array.from({ length: original.indexOf(Buffer.from('"objects"')) }, (_, i) => i), ...Array.from({ length: end - start }, (_, i) => start + i)];
      // Every change that leaves an index of the right shape (the risky ones: nothing refuses it
      // on reading) is tried against restore and retention; of those that break the shape —
      // refused on reading by the schema, and left alone by retention with their hour
      // (retention-stream-damaged-index.test.ts) — every 10th against restore.
      const readsAt = (at: number) => hourIndexSchema.safeParse(JSON.parse(flipped(original, at, 0x01).toString('utf8'))).success;
      const valid = positions.filter((at) => parses(flipped(original, at, 0x01)));
      const readable = valid.filter(readsAt);
      const unreadable = valid.filter((at) => !readsAt(at)).filter((_, i) => i % 10 === 0);
      expect(readable.length).toBeGreaterThan(20);
      for (const at of [...readable, ...unreadable]) {
        const damaged = flipped(original, at, 0x01);
        const label = `${indexKey} @${at} ${JSON.stringify(original.subarray(Math.max(0, at - 12), at + 12).toString('utf8'))}`;
        await put(s3.client, s3.bucket, indexKey, damaged);
        const outcome: unknown = await restoreInto().catch((e: unknown) => e);
        if (outcome instanceof Error) {
          expect(outcome, label).toBeInstanceOf(BackupError);
          expect(await target.listCollections().toArray(), `${label}: nothing restored`).toEqual([]);
        } else {
          expect(await documents(target), `${label}: restored exactly`).toEqual(good);
          await target.dropDatabase();
        }
        if (readable.includes(at)) {
          await applyRetention({ storage, orphanGraceMs: 0 }).catch((e: unknown) => expect(e, label).toBeInstanceOf(BackupError));
          const left = await listAll(s3.client, s3.bucket, 'fs/streams/orders/t');
          expect(objects.filter((k) => !left.includes(k)), `${label}: nothing listed deleted`).toEqual([]);
        }
        await put(s3.client, s3.bucket, indexKey, original);
      }
      expect((await restoreInto()).changes).toBe(15);
    } finally {
      await redis.del(key);
      await Promise.all([target.dropDatabase(), s3.drop()]);
    }
  }, 600_000);

  it('verification.json: retention never plans to delete the newest backup for it, nor stops: a damaged record holds it, reported; a full verification writes it good again', async () => {
    const s3 = await freshBucket(server);
    const source = await freshDb('flipverif');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'fv' };
    try {
      await source.collection<{ _id: number }>('a').insertMany([{ _id: 1 }, { _id: 2 }]);
      const [older, newest] = await verifiedBackups(snapshotBackup({ source: mongoSource({ db: source }), target: storage }), storage, 2);
      const recordKey = `fv/backups/${newest}/verification.json`;
      const original = await bytesOf(s3.client, s3.bucket, recordKey);
      expect((await applyRetention({ storage, keepLast: 1, dryRun: true })).deleted).toEqual([older]);
      let held = 0;
      for (const mask of [0x20, 0x01]) {
        for (let at = 0; at < original.length; at++) {
          const damaged = flipped(original, at, mask);
          if (!parses(damaged)) continue; // not JSON: held as well (review-retention-damaged-verification.test.ts)
          const label = `@${at} ^${mask} ${JSON.stringify(original.subarray(Math.max(0, at - 8), at + 8).toString('utf8'))}`;
          await put(s3.client, s3.bucket, recordKey, damaged);
          const planned = await applyRetention({ storage, keepLast: 1, dryRun: true });
          expect(planned.deleted, label).not.toContain(newest);
          if (planned.damaged.length > 0) {
            // Held: the older backup is then the newest verified one, and kept.
            expect(planned.damaged, label).toEqual([expect.objectContaining({ key: `backups/${newest}/verification.json`, what: 'verification record', backupId: newest, code: 'BACKUP_CORRUPTED', leftAlone: 'backup held' })]);
            expect(planned, label).toMatchObject({ deleted: [], kept: [older, newest], protected: { newestVerified: older } });
            held++;
          }
        }
      }
      expect(held).toBeGreaterThan(0); // some flips do break the record's shape (the test can fail)
      await expect(verifyBackup({ backup: { storage, id: newest! }, level: 'full' })).resolves.toMatchObject({ ok: true });
      expect((await applyRetention({ storage, keepLast: 1, dryRun: true })).deleted).toEqual([older]);
    } finally {
      await Promise.all([source.dropDatabase(), s3.drop()]);
    }
  }, 600_000);
});
