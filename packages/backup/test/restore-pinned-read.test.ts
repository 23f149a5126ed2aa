/**
 * A restore writes the data it verified. It used to download every part twice (once to check,
 * once to write): a segment replaced or deleted between the two reads made the restore fail
 * part way, after other data was written. Now the checked parts are spooled and written from
 * the spool (one read); with `spoolBytes: 0` (a backup larger than the spool) the second read
 * is pinned to what was checked — `If-Match` with the checked ETag (moto answers 412; gofakes3
 * ignores `If-Match` on GET, so the returned ETag is compared too), `VersionId` in a versioned
 * bucket (both servers honour it) — and every part's SHA-256 is checked again before any of
 * its records is written. On FerretDB and Redis 7, with both S3 servers.
 */
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { BackupChangedError, mongoSource, mongoTarget, redisSource, redisTarget, restore, snapshotBackup, type Manifest, type RestoreTarget } from '../src/index.js';
import { loadManifest } from '../src/restore/load.js';
import { closeMongo, freshBucket, freshDb, redisClient, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

type Doc = { _id: number; v: string };

async function tamper(client: S3Client, bucket: string, key: string): Promise<void> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body = Buffer.from(await out.Body!.transformToByteArray());
  body[body.length - 12]! ^= 0xff; // inside the last gzip member's deflate data
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

/** A target that runs `hook` once: on the last record checked, or when `apply` starts for `dataset`. */
function hooked(base: RestoreTarget, when: { checkedRecords?: number; applying?: string }, hook: () => Promise<void>): RestoreTarget {
  let checked = 0;
  let fired: Promise<void> | undefined;
  return {
    ...base,
    check(dataset, line) {
      if (++checked === when.checkedRecords) fired ??= hook();
      return base.check(dataset, line);
    },
    async apply(dataset, lines, signal) {
      await fired;
      if (dataset.name === when.applying) await (fired ??= hook());
      return base.apply(dataset, lines, signal);
    },
  };
}

describe.each(S3_SERVERS)('restore reads what it verified, on $name', (server) => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  let source: Db;
  let manifest: Manifest;
  let segmentB: string;
  let pristineB: Buffer;
  const storage = () => ({ client: s3.client, bucket: s3.bucket, prefix: 'pinned' });
  const total = 400;

  beforeAll(async () => {
    s3 = await freshBucket(server);
    source = await freshDb('pinsrc');
    await source.collection<Doc>('a').insertMany(Array.from({ length: 200 }, (_, i) => ({ _id: i, v: `a${i}` })));
    await source.collection<Doc>('b').insertMany(Array.from({ length: 200 }, (_, i) => ({ _id: i, v: `b${i}` })));
    const result = await snapshotBackup({ source: mongoSource({ db: source }), target: storage() }).run();
    if (result.status !== 'complete') throw new Error('backup did not complete');
    manifest = await loadManifest({ ...storage(), prefix: 'pinned' }, result.backupId);
    segmentB = manifest.datasets.find((d) => d.name === 'b')!.segments[0]!.key;
    const copy = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: segmentB }));
    pristineB = Buffer.from(await copy.Body!.transformToByteArray());
  });
  // Each test changes segment b; the next one starts from the intact backup.
  afterEach(async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: segmentB, Body: pristineB }));
  });
  afterAll(async () => {
    await source.dropDatabase();
    await s3.drop();
  });

  const restoreInto = async (target: RestoreTarget, spoolBytes?: number) =>
    restore({ backup: { storage: storage(), id: manifest.backupId }, target, ...(spoolBytes === undefined ? {} : { spoolBytes }) }).catch((e: unknown) => e);

  it('one read: a segment tampered with after it was checked does not stop the restore, which writes the verified data', async () => {
    const db = await freshDb('pinone');
    const report = await restoreInto(hooked(mongoTarget({ db }), { checkedRecords: total }, () => tamper(s3.client, s3.bucket, segmentB)));
    expect(report).toMatchObject({ records: total, reads: 1 });
    expect(await db.collection<Doc>('b').findOne({ _id: 199 })).toEqual({ _id: 199, v: 'b199' });
    await db.dropDatabase();
  });

  it('two reads (spoolBytes: 0): a segment changed during the check is refused before anything is written', async () => {
    const db = await freshDb('pinpre');
    // Changed right after the check read it: before the second HEAD of segment b (the check that the pins hold).
    let heads = 0;
    const client = {
      send: async (command: { input?: { Key?: string } }, options?: { abortSignal?: AbortSignal }) => {
        if (command instanceof HeadObjectCommand && command.input.Key === segmentB && ++heads === 2) await tamper(s3.client, s3.bucket, segmentB);
        return s3.client.send(command as never, options);
      },
    };
    const error = await restore({ backup: { storage: { ...storage(), client }, id: manifest.backupId }, target: mongoTarget({ db }), spoolBytes: 0 }).catch((e: unknown) => e);
    expect(heads).toBe(2);
    expect(error).toBeInstanceOf(BackupChangedError);
    expect(error).toMatchObject({ code: 'BACKUP_CHANGED', written: false, problems: [{ key: segmentB }] });
    expect(await db.collection('a').countDocuments()).toBe(0);
    expect(await db.collection('b').countDocuments()).toBe(0);
    await db.dropDatabase();
  });

  it('two reads: a segment deleted while the restore writes ends with BackupChangedError (written: true), nothing of it written', async () => {
    const db = await freshDb('pinmid');
    const error = await restoreInto(hooked(mongoTarget({ db }), { applying: 'b' }, async () => void (await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: segmentB })))), 0);
    expect(error).toBeInstanceOf(BackupChangedError);
    expect(error).toMatchObject({ code: 'BACKUP_CHANGED', written: true });
    expect(await db.collection('a').countDocuments()).toBe(200); // whole records of the verified backup
    expect(await db.collection('b').countDocuments()).toBe(0);
    await db.dropDatabase();
  });

  it('two reads in a versioned bucket: the pinned version is read whatever replaced it', async () => {
    const versioned = await freshBucket(server);
    try {
      await versioned.client.send(new PutBucketVersioningCommand({ Bucket: versioned.bucket, VersioningConfiguration: { Status: 'Enabled' } }));
      const at = { client: versioned.client, bucket: versioned.bucket, prefix: 'v' };
      const result = await snapshotBackup({ source: mongoSource({ db: source }), target: at }).run();
      if (result.status !== 'complete') throw new Error('backup did not complete');
      const key = (await loadManifest(at, result.backupId)).datasets.find((d) => d.name === 'b')!.segments[0]!.key;
      const db = await freshDb('pinver');
      const report = await restore({ backup: { storage: at, id: result.backupId }, target: hooked(mongoTarget({ db }), { applying: 'b' }, () => tamper(versioned.client, versioned.bucket, key)), spoolBytes: 0 });
      expect(report).toMatchObject({ records: total, reads: 2 });
      expect(await db.collection<Doc>('b').findOne({ _id: 0 })).toEqual({ _id: 0, v: 'b0' });
      await db.dropDatabase();
    } finally {
      await versioned.drop();
    }
  });

  it('Redis: a two-read restore whose segment is deleted after the check is refused before any key is written; one read restores', async () => {
    const redis = await redisClient();
    const p = unique('pinredis');
    try {
      for (let i = 0; i < 50; i++) await redis.set(`${p}:src:${i}`, `v${i}`);
      const at = { ...storage(), prefix: 'pinredis' };
      const result = await snapshotBackup({ source: redisSource({ client: redis, pattern: `${p}:src:*` }), target: at, job: 'redis' }).run();
      if (result.status !== 'complete') throw new Error('backup did not complete');
      const key = (await loadManifest(at, result.backupId)).datasets[0]!.segments[0]!.key;
      const copy = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
      const saved = Buffer.from(await copy.Body!.transformToByteArray());
      const deleteIt = async () => void (await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key })));

      const twice = hooked(redisTarget({ client: redis, keyPrefix: `${p}:two:` }), { checkedRecords: 50 }, deleteIt);
      const error = await restore({ backup: { storage: at, id: result.backupId }, target: twice, spoolBytes: 0 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackupChangedError);
      expect(error).toMatchObject({ written: false });
      expect(await redis.keys(`${p}:two:*`)).toEqual([]);

      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: saved }));
      const once = hooked(redisTarget({ client: redis, keyPrefix: `${p}:one:` }), { checkedRecords: 50 }, deleteIt);
      expect(await restore({ backup: { storage: at, id: result.backupId }, target: once })).toMatchObject({ records: 50, reads: 1 });
      expect(await redis.get(`${p}:one:${p}:src:7`)).toBe('v7');
    } finally {
      const keys = await redis.keys(`${p}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
});
