/**
 * Break-and-fix: a stream object that is not the size its hourly index gives. The index lists
 * each object's `bytes`, but a replay downloaded the whole object before checking anything: one
 * replaced by a much larger object (an overwrite, a misdirected upload) was read into memory in
 * full — a function's memory, gigabytes for a large one — only to fail its SHA-256. A replay now
 * reads at most one byte past the size the index gives and refuses the object by its size
 * (`BACKUP_CORRUPTED`, naming the object and the sizes), before anything is written; a
 * truncated and an empty object are refused the same way (an empty object answers a ranged
 * GET with 416 on both servers, not a storage failure to retry). On both S3 servers, FerretDB target.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { BackupCorruptedError, mongoTarget, restoreStream, streamBackup } from '../src/index.js';
import { hourIndexKey, readHourIndex } from '../src/stream/objects.js';
import { insertEnvelope } from './outbox-fixture.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS } from './support.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)('a stream object of another size than its index gives, on $name', (server) => {
  it('is refused by its size, reading at most one byte past it, nothing written', async () => {
    const s3 = await freshBucket(server);
    const target = await freshDb('objsize');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'size' };
      const job = streamBackup({ name: 'orders', target: storage });
      await job.append([insertEnvelope('a'), insertEnvelope('b')]);
      const loc = { ...storage, prefix: 'size' };
      const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
      const index = (await readHourIndex(loc, 'orders', 1, hour)) ?? (await readHourIndex(loc, 'orders', 1, hour - 3_600_000));
      expect(index, hourIndexKey(loc, 'orders', 1, hour)).toBeDefined();
      const [entry] = index!.objects;
      const original = Buffer.from(await (await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: entry!.key }))).Body!.transformToByteArray());
      expect(original.length).toBe(entry!.bytes);

      // Bytes each GET of the object transferred (the response's length).
      const transferred: number[] = [];
      s3.client.middlewareStack.add(
        (next, context) => async (args) => {
          const out = await next(args);
          if (context.commandName === 'GetObjectCommand' && (args.input as { Key?: string }).Key === entry!.key) transferred.push(Number((out.output as { ContentLength?: number }).ContentLength ?? 0));
          return out;
        },
        { step: 'initialize', name: 'countObjectBytes' },
      );
      const cases: Array<[string, Buffer, string]> = [
        ['larger', Buffer.concat([original, randomBytes(2 * 1024 * 1024)]), `larger than the ${entry!.bytes} bytes its index gives`],
        ['truncated', original.subarray(0, original.length - 5), `${original.length - 5} bytes, its index gives ${entry!.bytes}`],
        ['empty', Buffer.alloc(0), `0 bytes, its index gives ${entry!.bytes}`],
      ];
      for (const [label, body, message] of cases) {
        await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: entry!.key, Body: body }));
        transferred.length = 0;
        const refused = await restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: target }) }).catch((e: unknown) => e);
        expect(refused, label).toBeInstanceOf(BackupCorruptedError);
        expect(Math.max(...transferred), label).toBeLessThanOrEqual(entry!.bytes + 1);
        expect((refused as BackupCorruptedError).problems, label).toEqual([{ key: entry!.key, message }]);
        expect(await target.listCollections().toArray(), label).toEqual([]);
      }
      // The object as written restores (the test can pass).
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: entry!.key, Body: original }));
      expect(await restoreStream({ storage, stream: 'orders', target: mongoTarget({ db: target }) })).toMatchObject({ changes: 2 });
      expect(await target.collection('orders').countDocuments()).toBe(2);
    } finally {
      await Promise.all([target.dropDatabase(), s3.drop()]);
    }
  }, 60_000);
});
