/**
 * Public bug reports of peer backup tools (Litestream, WAL-G, pgBackRest, mongodump, PBM, RIOT,
 * lib-storage), each replayed against @steadyfn/backup on the real services: FerretDB, Redis,
 * SQS (moto) and both S3 servers (moto and gofakes3). One `it` per report, titled with it; the
 * comment says what went wrong for the peer and what we must do instead. Faults are injected
 * with a client that refuses chosen S3 commands, or by changing objects in the bucket.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  CompleteMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EJSON } from 'bson';
import type { Redis } from 'ioredis';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient, type Db } from 'mongodb';
import { handler } from '@steadyfn/handler';
import {
  BackupCorruptedError,
  BackupIncompleteError,
  BackupNotFoundError,
  PitrTargetError,
  RetentionDeleteError,
  StorageError,
  TimelineGapError,
  VerificationFailedError,
  applyRetention,
  mongoSource,
  mongoTarget,
  parseManifest,
  pointInTimeRestore,
  redisSource,
  redisStreamSource,
  redisTarget,
  restore,
  restoreStream,
  snapshotBackup,
  streamBackup,
  verifyBackup,
  type Manifest,
  type OutboxEnvelope,
  type SnapshotCheckpoint,
  type S3Target,
} from '../src/index.js';
import { sqsSource } from '../src/sqs.js';
import { serializeManifest, segmentChecksum } from '../src/format/manifest.js';
import { MAX_PARTS, MAX_PART_BYTES, MIN_PART_BYTES, capacityBytes, partTarget } from '../src/s3/part-size.js';
import { requireService } from '../../../test/services/env.js';
import { dropPrefix } from '../../../test/support/redis.js';
import { outboxApp, type OutboxApp } from './outbox-fixture.js';
import { closeMongo, deadlineAfter, freshBucket, freshDb, listAll, noise, openUploads, readJson, redisClient, S3_SERVERS, unique, verifiedBackups } from './support.js';

afterAll(closeMongo);

type Doc = { _id: number; [field: string]: unknown };
type Sent = { send(command: unknown, options?: unknown): Promise<unknown> };

async function readObject(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}
async function writeObject(client: S3Client, bucket: string, key: string, body: Buffer | string): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}
async function dump(db: Db, collection = 'items'): Promise<string[]> {
  return (await db.collection(collection).find({}).sort({ _id: 1 }).toArray()).map((d) => EJSON.stringify(d));
}
/** An S3 client that answers `refuse(command)` (an error to throw) instead of sending, and records what was sent. */
function faultyClient(client: S3Client, refuse: (command: unknown) => Error | undefined): Sent & { sent: unknown[] } {
  const sent: unknown[] = [];
  return {
    sent,
    send(command: unknown, options?: unknown) {
      sent.push(command);
      const error = refuse(command);
      if (error) return Promise.reject(error);
      return client.send(command as never, options as never);
    },
  };
}
const s3Error = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
const lambdaContext = (id: string) => ({ awsRequestId: id, functionName: 'replay', getRemainingTimeInMillis: () => 600_000 });
const scheduleTick = () => ({ version: '0', id: unique('evt'), 'detail-type': 'Scheduled Event', source: 'aws.events', account: '1', time: new Date().toISOString(), region: 'us-east-1', resources: ['arn:aws:events:us-east-1:1:rule/r'], detail: {} });

describe.each(S3_SERVERS)('peer bug reports, snapshots, on $name', (server) => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  let source: Db;
  let prefixes = 0;
  /** A fresh prefix of the test's bucket (each replay its own backups). */
  const storage = (): S3Target & { prefix: string } => ({ client: s3.client, bucket: s3.bucket, prefix: `r${++prefixes}` });
  const manifestOf = async (loc: { prefix: string }, id: string): Promise<Manifest> => parseManifest((await readObject(s3.client, s3.bucket, `${loc.prefix}/backups/${id}/manifest.json`)).toString(), id);

  beforeAll(async () => {
    s3 = await freshBucket(server);
    source = await freshDb('replaysrc');
    await source.collection<Doc>('items').insertMany(Array.from({ length: 300 }, (_, i) => ({ _id: i, v: `value-${i}`, n: i * 7 })));
  });
  afterAll(async () => {
    await Promise.all([source.dropDatabase(), s3.drop()]);
  });

  it('mongodb/mongo-tools#48: a truncated archive ("insertion error: EOF") is refused by its SHA-256, never restored in part', async () => {
    // mongorestore read a truncated dump until EOF and inserted what it had, then failed
    // part way. We must find the truncation before the first write: every part's SHA-256 and
    // size are in the manifest, so a cut object is refused with a typed error and nothing written.
    const loc = storage();
    const [id] = await verifiedBackups(snapshotBackup({ source: mongoSource({ db: source }), target: loc }), loc, 1);
    const segment = (await manifestOf(loc, id!)).datasets[0]!.segments[0]!;
    const whole = await readObject(s3.client, s3.bucket, segment.key);
    await writeObject(s3.client, s3.bucket, segment.key, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const target = await freshDb('truncated');
    try {
      const refused = await restore({ backup: { storage: loc, id: id! }, target: mongoTarget({ db: target }) }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(BackupCorruptedError); // a size that differs from the manifest's
      expect(await target.listCollections().toArray()).toEqual([]);
      // Same length, different bytes (a cut written back padded): only the SHA-256 can tell.
      const padded = Buffer.concat([whole.subarray(0, Math.floor(whole.length * 0.6)), Buffer.alloc(whole.length - Math.floor(whole.length * 0.6))]);
      await writeObject(s3.client, s3.bucket, segment.key, padded);
      const paddedRefusal = await restore({ backup: { storage: loc, id: id! }, target: mongoTarget({ db: target }) }).catch((e: unknown) => e);
      expect(paddedRefusal).toBeInstanceOf(BackupCorruptedError);
      // Found by the part's SHA-256, before decoding (gzip's CRC and the content hash would be later lines of defence).
      expect((paddedRefusal as BackupCorruptedError).problems).toContainEqual(expect.objectContaining({ key: segment.key, message: 'SHA-256 mismatch' }));
      expect(await target.listCollections().toArray()).toEqual([]);
      await expect(verifyBackup({ backup: { storage: loc, id: id! }, level: 'full' })).rejects.toBeInstanceOf(VerificationFailedError);
    } finally {
      await target.dropDatabase();
    }
  });

  it('pgbackrest/pgbackrest#2502: verify exited 0 while it logged errors — ours fails the invocation', async () => {
    // `pgbackrest verify` reported checksum errors in its log and still exited 0, so no alarm
    // fired. A verification that finds a problem must reject (typed, with the problems), and
    // through the handler the scheduled invocation must fail.
    const loc = storage();
    const [id] = await verifiedBackups(snapshotBackup({ source: mongoSource({ db: source }), target: loc }), loc, 1);
    const segment = (await manifestOf(loc, id!)).datasets[0]!.segments[0]!;
    const whole = await readObject(s3.client, s3.bucket, segment.key);
    const flipped = Buffer.from(whole);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x10;
    await writeObject(s3.client, s3.bucket, segment.key, flipped);
    const drill = handler({}, () => verifyBackup({ backup: { storage: loc, id: 'latest' }, level: 'full' }));
    const failed = await drill.aws(scheduleTick(), lambdaContext('verify')).catch((e: unknown) => e);
    // The runtime sees the invocation fail with the verification's code (the handler renders the error).
    expect(failed).toMatchObject({ code: 'BACKUP_VERIFY_FAILED', retryable: false });
    const direct = await verifyBackup({ backup: { storage: loc, id: 'latest' }, level: 'full' }).catch((e: unknown) => e);
    expect(direct).toBeInstanceOf(VerificationFailedError);
    expect((direct as VerificationFailedError).problems.length).toBeGreaterThan(0);
  });

  it('wal-g/wal-g#1869: an S3 lifecycle rule deleted objects under a backup — verification fails loudly', async () => {
    // A lifecycle expiration removed WAL-G's older objects; the backup still listed as fine
    // until a restore needed them. Objects gone under a backup must fail even the quick
    // verification (it checks every segment is there at its size) and the restore, typed.
    const loc = storage();
    const [id] = await verifiedBackups(snapshotBackup({ source: mongoSource({ db: source }), target: loc }), loc, 1);
    const segment = (await manifestOf(loc, id!)).datasets[0]!.segments[0]!;
    await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: segment.key }));
    for (const level of ['quick', 'full'] as const) {
      const failed = await verifyBackup({ backup: { storage: loc, id: id! }, level }).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(VerificationFailedError);
      expect(JSON.stringify((failed as VerificationFailedError).problems)).toContain(segment.key);
    }
    const target = await freshDb('lifecycle');
    await expect(restore({ backup: { storage: loc, id: id! }, target: mongoTarget({ db: target }) })).rejects.toBeInstanceOf(BackupIncompleteError);
    expect(await target.listCollections().toArray()).toEqual([]);
    await target.dropDatabase();
  });

  it('wal-g/wal-g#81: a sentinel left behind by an interrupted delete became a phantom backup — ours deletes the manifest first', async () => {
    // WAL-G deleted a backup's data and then its sentinel; interrupted in between, the sentinel
    // listed a backup whose data was gone. Retention must delete the manifest first: a delete
    // stopped part way leaves no backup to list or restore, and `latest` is the real newest.
    const loc = storage();
    const ids = await verifiedBackups(snapshotBackup({ source: mongoSource({ db: source }), target: loc }), loc, 2);
    const interrupted = faultyClient(s3.client, (c) => (c instanceof DeleteObjectCommand && String(c.input.Key).endsWith('.ndjson.gz') ? s3Error('InternalError', 500) : undefined));
    await expect(applyRetention({ storage: { ...loc, client: interrupted }, keepLast: 1 })).rejects.toBeInstanceOf(RetentionDeleteError);
    const left = await listAll(s3.client, s3.bucket, `${loc.prefix}/backups/${ids[0]}/`);
    expect(left.some((k) => k.endsWith('.ndjson.gz'))).toBe(true); // data left behind …
    expect(left.some((k) => k.endsWith('manifest.json'))).toBe(false); // … but no sentinel
    const target = await freshDb('phantom');
    await expect(restore({ backup: { storage: loc, id: ids[0]! }, target: mongoTarget({ db: target }) })).rejects.toBeInstanceOf(BackupNotFoundError);
    const restored = await restore({ backup: { storage: loc, id: 'latest' }, target: mongoTarget({ db: target }) });
    expect(restored.backupId).toBe(ids[1]);
    expect(await dump(target)).toEqual(await dump(source));
    await target.dropDatabase();
  });

  it('wal-g/wal-g#1291: delete broke on a backup whose sentinel was missing — ours carries on and sweeps it as an orphan', async () => {
    // `wal-g delete` failed outright when one backup's sentinel was missing, so nothing was
    // pruned any more. A backup directory without a manifest must not stop retention: the
    // other backups are pruned, the manifest-less one is left within the grace and swept after.
    const loc = storage();
    const ids = await verifiedBackups(snapshotBackup({ source: mongoSource({ db: source }), target: loc }), loc, 3);
    await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: `${loc.prefix}/backups/${ids[1]}/manifest.json` }));
    const first = await applyRetention({ storage: loc, keepLast: 1 });
    expect(first.deleted).toEqual([ids[0]]);
    expect(first.kept).toEqual([ids[2]]);
    expect((await listAll(s3.client, s3.bucket, `${loc.prefix}/backups/${ids[1]}/`)).length).toBeGreaterThan(0); // within the grace
    await applyRetention({ storage: loc, keepLast: 1, orphanGraceMs: 0 });
    expect(await listAll(s3.client, s3.bucket, `${loc.prefix}/backups/${ids[1]}/`)).toEqual([]);
    expect((await listAll(s3.client, s3.bucket, `${loc.prefix}/backups/${ids[2]}/`)).length).toBeGreaterThan(1);
  });

  it('wal-g/wal-g#636: retention deleted the newest backup after an upgrade — ours never deletes the newest verified one', async () => {
    // After a PostgreSQL upgrade the new backups' names sorted before the old ones, and
    // `delete retain 1` removed the newest. Here the "upgrade" is a new job name and a new
    // source: retention over both jobs at once is refused (it could delete one job's only
    // backups); per job, whatever the names, the newest verified backup is kept, and an
    // unverified newer one does not count as the one to keep.
    const loc = storage();
    const upgraded = await freshDb('upgraded');
    try {
      await upgraded.collection<Doc>('items').insertMany([{ _id: 1, v: 'after upgrade' }]);
      const old = await verifiedBackups(snapshotBackup({ source: mongoSource({ db: source }), target: loc, job: 'zz-old-cluster' }), loc, 2);
      const fresh = await verifiedBackups(snapshotBackup({ source: mongoSource({ db: upgraded }), target: loc, job: 'aa-new-cluster' }), loc, 1);
      const unverified = await snapshotBackup({ source: mongoSource({ db: upgraded }), target: loc, job: 'aa-new-cluster' }).run();
      if (unverified.status !== 'complete') throw new Error('snapshot did not complete');
      await expect(applyRetention({ storage: loc, keepLast: 1 })).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'job' });
      const applied = await applyRetention({ storage: loc, keepLast: 1, job: 'aa-new-cluster' });
      expect(applied.protected.newestVerified).toBe(fresh[0]);
      expect(applied.deleted).toEqual([]);
      expect(applied.kept.sort()).toEqual([fresh[0], unverified.backupId].sort());
      const retired = await applyRetention({ storage: loc, keepLast: 1, job: 'zz-old-cluster' });
      expect(retired.deleted).toEqual([old[0]]);
      expect(retired.protected.newestVerified).toBe(old[1]);
      const target = await freshDb('upgradedrestore');
      await restore({ backup: { storage: loc, id: fresh[0]! }, target: mongoTarget({ db: target }) });
      expect(await dump(target)).toEqual(await dump(upgraded));
      await target.dropDatabase();
    } finally {
      await upgraded.dropDatabase();
    }
  });

  it('benbjohnson/litestream.io#36 / #236: retention failed silently without delete permission — ours throws', async () => {
    // Without s3:DeleteObject, Litestream's retention logged nothing useful and old data piled
    // up. A bucket policy denying DeleteObject (403 AccessDenied on every delete) must make
    // retention reject with RetentionDeleteError, delete nothing after it, and keep the backup.
    const loc = storage();
    const ids = await verifiedBackups(snapshotBackup({ source: mongoSource({ db: source }), target: loc }), loc, 2);
    const denied = faultyClient(s3.client, (c) => (c instanceof DeleteObjectCommand && String(c.input.Key).startsWith(`${loc.prefix}/backups/`) ? s3Error('AccessDenied', 403) : undefined));
    const failed = await applyRetention({ storage: { ...loc, client: denied }, keepLast: 1 }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(RetentionDeleteError);
    expect(failed).toMatchObject({ code: 'RETENTION_DELETE_FAILED' });
    expect((failed as Error).message).not.toContain('AccessDenied:'); // class and status, not the SDK's message
    expect(await listAll(s3.client, s3.bucket, `${loc.prefix}/backups/${ids[0]}/manifest.json`)).toHaveLength(1);
    // Through the handler the scheduled run fails (so its alarm fires), not returns.
    const prune = handler({}, () => applyRetention({ storage: { ...loc, client: denied }, keepLast: 1 }));
    await expect(prune.aws(scheduleTick(), lambdaContext('prune'))).rejects.toMatchObject({ code: 'RETENTION_DELETE_FAILED' });
  });

  it('benbjohnson/litestream#802: DeleteObjects needs Content-MD5 on some servers — ours never sends DeleteObjects', async () => {
    // Litestream's batch deletes failed on S3-compatible servers that require Content-MD5 on
    // DeleteObjects (the SDK sends a CRC instead). A server refusing DeleteObjects must not
    // stop retention: it deletes object by object (DeleteObject), so it prunes the same.
    const loc = storage();
    const ids = await verifiedBackups(snapshotBackup({ source: mongoSource({ db: source }), target: loc }), loc, 2);
    const strict = faultyClient(s3.client, (c) => (c instanceof DeleteObjectsCommand ? s3Error('InvalidRequest', 400) : undefined));
    const applied = await applyRetention({ storage: { ...loc, client: strict }, keepLast: 1 });
    expect(applied.deleted).toEqual([ids[0]]);
    expect(strict.sent.some((c) => c instanceof DeleteObjectsCommand)).toBe(false);
    expect(await listAll(s3.client, s3.bucket, `${loc.prefix}/backups/${ids[0]}/`)).toEqual([]);
  });

  it('percona/percona-backup-mongodb#489: a snapshot with files missing was resynced as complete — ours stops counting it once verification finds the hole', async () => {
    // PBM's storage resync listed a snapshot whose metadata was there but some files were not,
    // so it was offered as complete. A committed backup that lost a segment must fail its next
    // verification, and from then on count neither as the newest verified backup (retention
    // must then keep the older good one) nor as a point-in-time base.
    const loc = storage();
    const ids = await verifiedBackups(snapshotBackup({ source: mongoSource({ db: source }), target: loc }), loc, 2);
    const segment = (await manifestOf(loc, ids[1]!)).datasets[0]!.segments[0]!;
    await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: segment.key }));
    await expect(verifyBackup({ backup: { storage: loc, id: ids[1]! }, level: 'quick' })).rejects.toBeInstanceOf(VerificationFailedError);
    const planned = await applyRetention({ storage: loc, keepLast: 1, dryRun: true });
    expect(planned.protected.newestVerified).toBe(ids[0]);
    expect(planned.deleted).not.toContain(ids[0]);
  });

  it('aws/aws-sdk-js-v3#8299: a failed upload left its parts stranded — ours leaves none that nothing names, no manifest', async () => {
    // lib-storage's Upload could leave a multipart upload (and its billed parts) behind when it
    // failed. A snapshot whose CompleteMultipartUpload fails must write no manifest and reject
    // with StorageError; a retryable failure (500) keeps the upload only as its checkpoint names
    // it (the next run completes it; retention aborts it if the job is abandoned), a terminal one
    // (403) aborts it.
    const open = async (prefix: string) => (await openUploads(s3.client, s3.bucket)).filter((u) => u.key.startsWith(`${prefix}/`));
    for (const [name, status] of [['InternalError', 500], ['AccessDenied', 403]] as const) {
      const loc = storage();
      // A segment's (the S3 probe's own multipart upload is not the one this is about).
      const failing = faultyClient(s3.client, (c) => (c instanceof CompleteMultipartUploadCommand && String(c.input.Key).endsWith('.ndjson.gz') ? s3Error(name, status) : undefined));
      const job = snapshotBackup({ source: mongoSource({ db: source }), target: { ...loc, client: failing } });
      await expect(job.run()).rejects.toBeInstanceOf(StorageError);
      const checkpoint = await readJson<SnapshotCheckpoint>(s3.client, s3.bucket, `${loc.prefix}/jobs/snapshot/checkpoint.json`);
      const named = checkpoint!.datasets.flatMap((d) => (d.current ? [{ key: d.current.key, uploadId: d.current.uploadId }] : []));
      expect(named.length > 0, `${name}: the upload is kept`).toBe(status === 500);
      expect(await open(loc.prefix)).toEqual(named);
      expect((await listAll(s3.client, s3.bucket, `${loc.prefix}/backups/`)).filter((k) => k.endsWith('manifest.json'))).toEqual([]);
      const next = await snapshotBackup({ source: mongoSource({ db: source }), target: loc }).run();
      expect(next.status).toBe('complete');
      expect(await open(loc.prefix)).toEqual([]);
    }
  });
});

describe.each(S3_SERVERS)('peer bug reports, streams and point-in-time restore, on $name', (server) => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  let redis: Redis;
  const cleanup: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    s3 = await freshBucket(server);
    redis = await redisClient();
  });
  afterAll(async () => {
    for (const step of cleanup) await step();
    redis.disconnect();
    await s3.drop();
  });

  /** An application with an outbox (Redis stream) over its own database, its stream backup and its nightly snapshot, under its own prefix. */
  async function deployment(name: string) {
    const db = await freshDb(name);
    const key = unique(`${name}-outbox`);
    cleanup.push(() => db.dropDatabase(), () => redis.del(key));
    const loc = { client: s3.client, bucket: s3.bucket, prefix: unique(name) };
    const app = outboxApp(redis, key, 'items', db);
    const stream = streamBackup({ name: 'items', source: redisStreamSource({ client: redis, key, envelopeField: 'e', count: 5 }), target: loc, buffer: { maxBytes: 1024, maxMs: 60_000 } });
    const nightly = snapshotBackup({ source: mongoSource({ db, collections: ['items'] }), target: loc, stream: 'items' });
    const verifiedSnapshot = async () => (await verifiedBackups(nightly, loc, 1))[0]!;
    const scratch = async (label: string) => {
      const target = await freshDb(label);
      cleanup.push(() => target.dropDatabase());
      return target;
    };
    /** `count` documents written, archived, and a verified snapshot marked with the stream: the start of every replay. */
    const archivedAndSnapshotted = async (count: number) => {
      for (let i = 0; i < count; i++) await app.put(`d${i}`, { n: i, phase: 'a' });
      await stream.run();
      return verifiedSnapshot();
    };
    return { db, key, loc, app, stream, verifiedSnapshot, archivedAndSnapshotted, scratch };
  }
  const puts = async (app: OutboxApp, from: number, to: number, phase: string) => {
    for (let i = from; i < to; i++) await app.put(`d${i}`, { n: i, phase });
  };
  const streamObjects = async (loc: { prefix: string }) => (await listAll(s3.client, s3.bucket, `${loc.prefix}/streams/items/`)).filter((k) => k.endsWith('.ndjson.gz'));

  it('benbjohnson/litestream#224 / #805 / #535: restore failed on a missing WAL segment — ours refuses the gap, typed, before writing', async () => {
    // Litestream restores died part way ("missing WAL segment", "cannot find initial
    // segment") when one file of the chain was gone. A stream object missing from the chain
    // must make point-in-time restore and restoreStream reject with BackupIncompleteError before
    // anything is written, never restore the state around the hole.
    const d = await deployment('missingseg');
    await puts(d.app, 0, 20, 'a');
    await d.stream.run();
    const beforeSnapshot = (await streamObjects(d.loc)).length;
    await d.verifiedSnapshot();
    await puts(d.app, 0, 30, 'b');
    const at = Date.now();
    await d.stream.run();
    const objects = await streamObjects(d.loc);
    expect(objects.length).toBeGreaterThanOrEqual(beforeSnapshot + 3);
    // The "initial segment" of the replay after the snapshot (#224, #805), as a retention run or a lifecycle rule removes it.
    await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: objects[beforeSnapshot]! }));
    const target = await d.scratch('missingsegdst');
    await expect(pointInTimeRestore({ storage: d.loc, stream: 'items', at, target: mongoTarget({ db: target }) })).rejects.toBeInstanceOf(BackupIncompleteError);
    await expect(restoreStream({ storage: d.loc, stream: 'items', target: mongoTarget({ db: target }) })).rejects.toBeInstanceOf(BackupIncompleteError);
    expect(await target.listCollections().toArray()).toEqual([]);
  });

  it('benbjohnson/litestream#752: restore failed after a checkpoint during downtime — ours breaks the timeline and restores from the next snapshot', async () => {
    // While Litestream was down, SQLite checkpointed the WAL away; the replica silently missed
    // those pages and restores failed later. Changes the source discarded while the sink was
    // down must break the timeline at the next run (asking for a snapshot), point-in-time
    // restore across the hole must be refused, and after the new snapshot it must be exact.
    const d = await deployment('downtime');
    await d.archivedAndSnapshotted(10);
    await puts(d.app, 10, 25, 'down'); // the sink is down …
    await redis.xtrim(d.key, 'MAXLEN', 0); // … and the source drops what it has not seen
    await puts(d.app, 25, 30, 'back');
    const inGap = Date.now();
    const broke = await d.stream.run();
    expect(broke).toMatchObject({ timelineBroken: true, snapshotRequired: true, timeline: 2 });
    const target = await d.scratch('downtimedst');
    await expect(pointInTimeRestore({ storage: d.loc, stream: 'items', at: inGap, target: mongoTarget({ db: target }) })).rejects.toBeInstanceOf(TimelineGapError);
    expect(await target.listCollections().toArray()).toEqual([]);
    await d.verifiedSnapshot();
    await puts(d.app, 0, 5, 'after');
    const at = Date.now();
    await d.stream.run();
    await pointInTimeRestore({ storage: d.loc, stream: 'items', at, target: mongoTarget({ db: target }) });
    expect(await dump(target)).toEqual(await dump(d.db));
  });

  it('benbjohnson/litestream#136: out-of-sequence data — ours breaks the timeline at a seq jump and drops repeats', async () => {
    // Litestream found WAL frames out of sequence and could not tell whether data was lost.
    // Outbox events carry `seq` per aggregate: a repeat (≤ last) is kept and dropped by id on
    // restore; a jump is lost data and must break the timeline, and a replay across it refused.
    const loc = { client: s3.client, bucket: s3.bucket, prefix: unique('sequence') };
    const push = streamBackup({ name: 'items', target: loc });
    const t0 = Date.now();
    const event = (aggregateId: string, seq: number, at: number): OutboxEnvelope => ({ id: uuidv7(), type: 'Saved', aggregateType: 'items', aggregateId, seq, payload: {}, occurredAt: new Date(at).toISOString(), schemaVersion: 1, change: { op: seq === 1 ? 'insert' : 'update', after: { seq } } });
    const [first, second] = [event('a', 1, t0 - 2_000), event('a', 2, t0 - 1_000)];
    expect(await push.append([first, second])).toMatchObject({ timelineBroken: false });
    expect(await push.append([second, event('b', 1, t0)])).toMatchObject({ timelineBroken: false }); // a relay's retry, then news
    // The break is dated at the coverage before it (t0): a lost event may be from then on.
    const beforeJump = t0 - 500;
    expect(await push.append([event('a', 4, Date.now())])).toMatchObject({ timelineBroken: true, snapshotRequired: true });
    const target = await freshDb('sequencedst');
    try {
      await expect(restoreStream({ storage: loc, stream: 'items', timeline: 1, until: Date.now(), target: mongoTarget({ db: target }) })).rejects.toBeInstanceOf(TimelineGapError);
      expect(await target.listCollections().toArray()).toEqual([]);
      const replayed = await restoreStream({ storage: loc, stream: 'items', timeline: 1, until: beforeJump, target: mongoTarget({ db: target }) });
      expect(replayed).toMatchObject({ changes: 2, duplicates: 1 });
      expect(await target.collection('items').find({}).toArray()).toEqual([{ _id: 'a', seq: 2 }]);
    } finally {
      await target.dropDatabase();
    }
  });

  it('percona/percona-backup-mongodb#421 / #429 / #1163: oplog gaps made PITR impossible unnoticed — ours marks the timeline broken at the gap (SQS)', async () => {
    // PBM's oplog slices had holes (or too short a range) and PITR failed at restore time.
    // An SQS-fed stream (an outbox relay's FIFO queue) that loses an event must break the
    // timeline when it is archived, and a replay across the hole must be refused.
    await requireService('sqs');
    const sqs = new SQSClient({ endpoint: process.env.SQS_ENDPOINT, region: process.env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${unique('oplog').replace(/[^a-z0-9-]/g, '')}.fifo`, Attributes: { FifoQueue: 'true' } }));
    const loc = { client: s3.client, bucket: s3.bucket, prefix: unique('oplog') };
    const broken: string[] = [];
    const job = streamBackup({ name: 'items', source: sqsSource({ client: sqs, queueUrl: QueueUrl!, waitTimeSeconds: 0, envelopes: true }), target: loc, onTimelineBroken: (info) => void broken.push(info.reason) });
    const send = async (seq: number) => {
      const envelope: OutboxEnvelope = { id: uuidv7(), type: 'Saved', aggregateType: 'items', aggregateId: 'x', seq, payload: {}, occurredAt: new Date().toISOString(), schemaVersion: 1, change: { op: seq === 1 ? 'insert' : 'update', after: { seq } } };
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(envelope), MessageGroupId: 'x', MessageDeduplicationId: envelope.id }));
    };
    const target = await freshDb('oplogdst');
    try {
      await send(1);
      await send(2);
      expect(await job.run()).toMatchObject({ records: 2, timelineBroken: false });
      await send(5); // 3 and 4 never reached the queue
      expect(await job.run()).toMatchObject({ timelineBroken: true, snapshotRequired: true });
      expect(broken).toHaveLength(1);
      expect(broken[0]).toContain('seq');
      await expect(restoreStream({ storage: loc, stream: 'items', timeline: 1, until: Date.now(), target: mongoTarget({ db: target }) })).rejects.toBeInstanceOf(TimelineGapError);
      expect(await target.listCollections().toArray()).toEqual([]);
    } finally {
      await target.dropDatabase();
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
      sqs.destroy();
    }
  });

  it('percona/percona-backup-mongodb#579: a PITR target beyond the last oplog chunk — ours refuses it, nothing written', async () => {
    // PBM accepted a point-in-time target later than its last oplog chunk and restored to an
    // earlier state than asked. A target past the stream's last drain must be refused with
    // PitrTargetError, before any write; a target within coverage is exact.
    const d = await deployment('beyond');
    await d.archivedAndSnapshotted(10);
    await puts(d.app, 0, 5, 'b');
    const covered = Date.now();
    const expected = await dump(d.db);
    await d.stream.run();
    await puts(d.app, 0, 5, 'not-archived-yet');
    const target = await d.scratch('beyonddst');
    for (const at of [Date.now(), Date.now() + 3_600_000]) {
      await expect(pointInTimeRestore({ storage: d.loc, stream: 'items', at, target: mongoTarget({ db: target }) })).rejects.toBeInstanceOf(PitrTargetError);
    }
    expect(await target.listCollections().toArray()).toEqual([]);
    await pointInTimeRestore({ storage: d.loc, stream: 'items', at: covered, target: mongoTarget({ db: target }) });
    expect(await dump(target)).toEqual(expected);
  });

  it('percona/percona-backup-mongodb#649: PITR slicing resumed after a restore overwrote chunks — ours never rewrites an archived object', async () => {
    // After a restore, PBM's PITR resumed and wrote new oplog chunks over the names of old ones,
    // so the history before the restore was lost. Archiving after a point-in-time restore must
    // leave every existing stream object as it was (same keys, same ETags), and the same
    // point-in-time restore must still give the same state.
    const d = await deployment('overwrite');
    await d.archivedAndSnapshotted(10);
    await puts(d.app, 0, 10, 'b');
    const at = Date.now();
    const stateAt = await dump(d.db);
    await d.stream.run();
    const etags = async () => new Map(await Promise.all((await streamObjects(d.loc)).map(async (k) => [k, (await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: k }))).ETag] as const)));
    const before = await etags();
    const restored = await d.scratch('overwritedst');
    await pointInTimeRestore({ storage: d.loc, stream: 'items', at, target: mongoTarget({ db: restored }) });
    expect(await dump(restored)).toEqual(stateAt);
    // The application carries on (on the restored state, as after a real restore) and the stream with it.
    await puts(d.app, 0, 25, 'after-restore');
    await d.stream.run();
    await d.verifiedSnapshot();
    const after = await etags();
    for (const [k, etag] of before) expect(after.get(k)).toBe(etag);
    expect(after.size).toBeGreaterThan(before.size);
    const again = await d.scratch('overwriteagain');
    await pointInTimeRestore({ storage: d.loc, stream: 'items', at, target: mongoTarget({ db: again }) });
    expect(await dump(again)).toEqual(stateAt);
  });
});

const MIB = 1024 * 1024;
/** About 9.4 MiB of incompressible documents: two 5 MiB parts, so a deadline can cut between them. */
const BIG_DOCS = 2_400;
const big = { partSizeBytes: 5 * MIB, partsInFlight: 2, memoryBudgetBytes: 64 * MIB, leaseMs: 3_000 };

describe.each(S3_SERVERS)('peer bug reports, multipart snapshots, on $name', (server) => {
  let source: Db;
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  const loc = (prefix: string) => ({ client: s3.client, bucket: s3.bucket, prefix: unique(prefix) });
  const checkpointOf = async (l: { prefix: string }) => (await readJson<SnapshotCheckpoint>(s3.client, s3.bucket, `${l.prefix}/jobs/snapshot/checkpoint.json`))!;
  /** A snapshot job under a fresh prefix, run once and cut by the deadline after its first part (checkpointed). */
  const cutSnapshot = async (prefix: string) => {
    // The deadline "nears" once the first part is sent.
    const deadline = deadlineAfter(s3.client, UploadPartCommand, 1);
    const storage = { ...loc(prefix), client: deadline.client };
    const job = snapshotBackup({ source: mongoSource({ db: source, batchSize: 200 }), target: storage, ...big });
    const cut = await job.run(deadline.ctx());
    expect(cut.status).toBe('checkpointed');
    return { storage, job, cut };
  };
  beforeAll(async () => {
    s3 = await freshBucket(server);
    source = await freshDb('replaybig');
    for (let start = 0; start < BIG_DOCS; start += 400) {
      await source.collection<Doc>('items').insertMany(Array.from({ length: 400 }, (_, i) => ({ _id: start + i, blob: noise(4096) })));
    }
  }, 120_000);
  afterAll(async () => {
    await Promise.all([source.dropDatabase(), s3.drop()]);
  });

  it('alexkravets/heroku-mongo-backup#23: the cursor timed out on a large collection — ours resumes by _id range in a new invocation', async () => {
    // The dump kept one cursor open for the whole collection and died when the server timed
    // it out. A snapshot cut by the deadline must continue in the next invocation from the last
    // `_id` written, on a new connection (no cursor survives), with every document once.
    const storage = loc('cursor');
    const firstClient = await MongoClient.connect(process.env.MONGODB_URI!);
    // The deadline "nears" once the first part is sent.
    const deadline = deadlineAfter(s3.client, UploadPartCommand, 1);
    const first = await snapshotBackup({ source: mongoSource({ db: firstClient.db(source.databaseName), batchSize: 200 }), target: { ...storage, client: deadline.client }, ...big }).run(deadline.ctx());
    await firstClient.close(); // its cursors are gone with it
    expect(first.status).toBe('checkpointed');
    const secondClient = await MongoClient.connect(process.env.MONGODB_URI!);
    const target = await freshDb('cursordst');
    try {
      const second = await snapshotBackup({ source: mongoSource({ db: secondClient.db(source.databaseName), batchSize: 200 }), target: storage, ...big }).run();
      expect(second).toMatchObject({ status: 'complete', backupId: first.backupId, resumed: true, records: BIG_DOCS });
      await restore({ backup: { storage, id: first.backupId! }, target: mongoTarget({ db: target }) });
      expect(await dump(target)).toEqual(await dump(source));
    } finally {
      await secondClient.close();
      await target.dropDatabase();
    }
  }, 120_000);

  it('percona/percona-backup-mongodb#489: an incomplete snapshot was treated as complete — ours is no backup until its manifest is written', async () => {
    // PBM listed (and resynced) a backup whose upload had not finished as if it were done. A
    // checkpointed (unfinished) snapshot must not be restorable, verifiable or `latest`, must
    // not count for retention, and must not be swept while its checkpoint is live.
    const { storage, job, cut } = await cutSnapshot('incomplete');
    expect((await checkpointOf(storage)).datasets[0]!.current!.parts.length).toBeGreaterThan(0);
    const target = await freshDb('incompletedst');
    try {
      for (const id of [cut.backupId!, 'latest']) {
        await expect(restore({ backup: { storage, id }, target: mongoTarget({ db: target }) })).rejects.toBeInstanceOf(BackupNotFoundError);
      }
      await expect(verifyBackup({ backup: { storage, id: cut.backupId! }, level: 'quick' })).rejects.toBeInstanceOf(VerificationFailedError);
      const retention = await applyRetention({ storage, keepLast: 1, orphanGraceMs: 0 });
      expect([...retention.kept, ...retention.deleted]).toEqual([]);
      expect(await openUploads(s3.client, s3.bucket)).toContainEqual(expect.objectContaining({ key: expect.stringContaining(cut.backupId!) }));
      const done = await job.run();
      expect(done).toMatchObject({ status: 'complete', backupId: cut.backupId, resumed: true });
      await restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db: target }) });
      expect(await dump(target)).toEqual(await dump(source));
    } finally {
      await target.dropDatabase();
    }
  }, 120_000);

  it('pgbackrest/pgbackrest#462: a resumed backup kept a file whose checksum no longer matched — ours re-checks what it resumes', async () => {
    // pgBackRest resumed a backup and reused a file already in the repository whose content
    // had changed, so the backup failed verification later. A part uploaded before the cut and
    // replaced in S3 before the resume (same upload, same part number, other bytes) must not
    // end up in the backup: the resumed backup verifies in full and restores equal.
    const { storage, job, cut } = await cutSnapshot('resumedpart');
    const current = (await checkpointOf(storage)).datasets[0]!.current!;
    await s3.client.send(new UploadPartCommand({ Bucket: s3.bucket, Key: current.key, UploadId: current.uploadId, PartNumber: 1, Body: Buffer.alloc(5 * MIB, 7) }));
    const target = await freshDb('resumedpartdst');
    try {
      // The part's ETag no longer matches the checkpoint: the upload is dropped and its records read again.
      const resumed = await job.run();
      expect(resumed).toMatchObject({ status: 'complete', backupId: cut.backupId, resumed: true, records: BIG_DOCS });
      await verifyBackup({ backup: { storage, id: cut.backupId! }, level: 'full' });
      await restore({ backup: { storage, id: cut.backupId! }, target: mongoTarget({ db: target }) });
      expect(await dump(target)).toEqual(await dump(source));
    } finally {
      await target.dropDatabase();
    }
  }, 120_000);

  it('aws/aws-sdk-js-v3#8299: parts stranded when an upload failed mid-way — ours keeps them only as the checkpoint names them', async () => {
    // lib-storage left the parts of a failed multipart upload behind (billed, invisible). A
    // snapshot whose second part fails with a retryable error (SlowDown) writes no manifest,
    // rejects with StorageError and keeps the upload only as its checkpoint names it, with the
    // part S3 acknowledged: the next run continues after it and leaves no upload open.
    const storage = loc('stranded');
    let parts = 0;
    const failing = faultyClient(s3.client, (c) => (c instanceof UploadPartCommand && String(c.input.Key).endsWith('.ndjson.gz') && ++parts === 2 ? s3Error('SlowDown', 503) : undefined));
    const open = async () => (await openUploads(s3.client, s3.bucket)).filter((u) => u.key.startsWith(`${storage.prefix}/`));
    expect(await open()).toEqual([]);
    const job = (client: S3Target['client']) => snapshotBackup({ source: mongoSource({ db: source, batchSize: 200 }), target: { ...storage, client }, ...big });
    await expect(job(failing).run()).rejects.toBeInstanceOf(StorageError);
    const current = (await checkpointOf(storage)).datasets[0]!.current!;
    expect(current.parts.map((p) => p.number)).toEqual([1]);
    expect(await open()).toEqual([{ key: current.key, uploadId: current.uploadId }]);
    expect((await listAll(s3.client, s3.bucket, `${storage.prefix}/backups/`)).filter((k) => k.endsWith('manifest.json'))).toEqual([]);
    expect(await job(s3.client).run()).toMatchObject({ status: 'complete', resumed: true, records: BIG_DOCS });
    expect(await open()).toEqual([]);
  }, 120_000);

  it('aws/aws-sdk-js#617: a small part size overflowed the 10,000-part limit — ours grows parts and rolls segments over', async () => {
    // lib-storage with a fixed small partSize failed past 10,000 parts (~48.8 GiB at 5 MiB).
    // The part-size schedule must grow parts (5 MiB base: > 4.8 TiB in 10,000 parts when
    // memory allows; far above the default 1 GiB segment), never plan a part under 5 MiB, and a
    // segment must roll over at its size limit (here the smallest, 5 MiB, on real data) — the
    // copy also rolls over at part 10,000 whatever the size — so no upload needs part 10,001.
    const roomy = { basePartBytes: MIN_PART_BYTES, maxPartBytes: MAX_PART_BYTES };
    expect(capacityBytes(roomy)).toBeGreaterThan(4.8 * 1024 * 1024 * MIB);
    const tight = { basePartBytes: MIN_PART_BYTES, maxPartBytes: MIN_PART_BYTES };
    expect(capacityBytes(tight)).toBe(MAX_PARTS * MIN_PART_BYTES);
    for (const plan of [roomy, tight]) for (const n of [1, 1_000, 1_001, 5_000, MAX_PARTS]) expect(partTarget(plan, n)).toBeGreaterThanOrEqual(MIN_PART_BYTES);
    const storage = loc('parts');
    const result = await snapshotBackup({ source: mongoSource({ db: source, batchSize: 200 }), target: storage, ...big, segmentBytes: 5 * MIB }).run();
    expect(result.status).toBe('complete');
    if (result.status !== 'complete') return;
    expect(result.datasets[0]!.segments).toBeGreaterThanOrEqual(2);
    await verifyBackup({ backup: { storage, id: result.backupId }, level: 'full' });
  }, 120_000);
});

describe.each(S3_SERVERS)('peer bug reports, Redis, on $name', (server) => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  let redis: Redis;
  const prefix = unique('riot');
  beforeAll(async () => {
    s3 = await freshBucket(server);
    redis = await redisClient();
  });
  afterAll(async () => {
    await dropPrefix(redis, prefix);
    redis.disconnect();
    await s3.drop();
  });

  it('redis/riot#45: big keys ran the export out of memory — ours exports them in chunks and restores them whole', async () => {
    // RIOT read each big key whole (DUMP of a huge hash) and died silently of OOM. A key above
    // the big-key threshold must be exported as typed chunks (HSCAN), several records for one
    // key, and restored to the same value, with a drill agreeing.
    const src = `${prefix}:big:`;
    const fields: Record<string, string> = {};
    for (let i = 0; i < 3_000; i++) fields[`f${i}`] = `value-${i}`;
    await redis.hset(`${src}hash`, fields);
    for (let i = 0; i < 20; i++) await redis.set(`${src}s${i}`, `v${i}`);
    const storage = { client: s3.client, bucket: s3.bucket, prefix: unique('bigkeys') };
    const result = await snapshotBackup({ source: redisSource({ client: redis, pattern: `${src}*`, bigKeyElements: 100, chunkElements: 500 }), target: storage }).run();
    if (result.status !== 'complete') throw new Error('snapshot did not complete');
    expect(result.records).toBeGreaterThanOrEqual(20 + 6); // 20 strings and the hash in ≥ 6 chunks
    await restore({ backup: { storage, id: result.backupId }, target: redisTarget({ client: redis, keyPrefix: `${prefix}:restored:` }) });
    expect(await redis.hgetall(`${prefix}:restored:${src}hash`)).toEqual(fields);
    expect(await redis.get(`${prefix}:restored:${src}s7`)).toBe('v7');
    const drilled = await verifyBackup({ backup: { storage, id: result.backupId }, level: 'drill', scratch: redisTarget({ client: redis, keyPrefix: `${prefix}:drill:` }) });
    expect(drilled.drill).toMatchObject({ ok: true });
  });

  it('redis/riot#165: a copy moved 16k of 500k keys and reported success — ours checks counts, refusing a backup short of keys', async () => {
    // RIOT's replication ended "successfully" with a fraction of the keys. A backup whose data
    // holds fewer keys than its manifest counts — even with every checksum recomputed to match
    // — must be refused by restore (count and content hash), with nothing written.
    const src = `${prefix}:short:`;
    for (let i = 0; i < 300; i++) await redis.set(`${src}k${i}`, `v${i}`);
    const storage = { client: s3.client, bucket: s3.bucket, prefix: unique('short') };
    const result = await snapshotBackup({ source: redisSource({ client: redis, pattern: `${src}*` }), target: storage }).run();
    if (result.status !== 'complete') throw new Error('snapshot did not complete');
    expect(result.records).toBe(300);
    const manifestKey = result.manifestKey;
    const manifest = parseManifest((await readObject(s3.client, s3.bucket, manifestKey)).toString(), manifestKey);
    const dataset = manifest.datasets[0]!;
    const segment = dataset.segments[0]!;
    expect(segment.parts).toHaveLength(1);
    // Drop 30 keys from the data, then make every part, segment and manifest checksum agree again.
    const lines = gunzipSync(await readObject(s3.client, s3.bucket, segment.key)).toString().split('\n').filter(Boolean);
    const kept = lines.slice(30);
    const body = gzipSync(`${kept.join('\n')}\n`);
    const part = { ...segment.parts[0]!, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex'), records: kept.length };
    await writeObject(s3.client, s3.bucket, segment.key, body);
    const { selfChecksum: _s, ...rest } = manifest;
    await writeObject(s3.client, s3.bucket, manifestKey, serializeManifest({ ...rest, datasets: [{ ...dataset, segments: [{ ...segment, bytes: body.length, records: kept.length, sha256: segmentChecksum([part]), parts: [part] }] }] }));
    const restoredPrefix = `${prefix}:shortdst:`;
    await expect(restore({ backup: { storage, id: result.backupId }, target: redisTarget({ client: redis, keyPrefix: restoredPrefix }) })).rejects.toBeInstanceOf(BackupCorruptedError);
    expect(await redis.keys(`${restoredPrefix}*`)).toEqual([]);
    await expect(verifyBackup({ backup: { storage, id: result.backupId }, level: 'full' })).rejects.toBeInstanceOf(VerificationFailedError);
  });
});

describe.each(S3_SERVERS)('peer bug reports, S3 compatibility, on $name', (server) => {
  it('benbjohnson/litestream#948 / #947 / #940: the SDK\'s new default checksums broke S3-compatible servers — ours works with a default client', async () => {
    // After the AWS SDKs began sending CRC checksums (aws-chunked uploads) by default, uploads
    // to R2, B2 and others failed. With a client left at the SDK's defaults, every job must
    // work on an S3-compatible server (gofakes3 is one): snapshot, full verify, restore,
    // stream archive, point-in-time restore and retention — our SHA-256 is what proves the data.
    const s3 = await freshBucket(server, { defaults: true });
    const redis = await redisClient();
    const db = await freshDb('defaults');
    const target = await freshDb('defaultsdst');
    const key = unique('defaults-outbox');
    try {
      const storage = { client: s3.client, bucket: s3.bucket, prefix: 'defaults' };
      const app = outboxApp(redis, key, 'items', db);
      for (let i = 0; i < 20; i++) await app.put(`d${i}`, { n: i });
      const stream = streamBackup({ name: 'items', source: redisStreamSource({ client: redis, key, envelopeField: 'e' }), target: storage });
      await stream.run();
      const ids = await verifiedBackups(snapshotBackup({ source: mongoSource({ db, collections: ['items'] }), target: storage, stream: 'items' }), storage, 2);
      await restore({ backup: { storage, id: ids[1]! }, target: mongoTarget({ db: target }) });
      expect(await dump(target)).toEqual(await dump(db));
      for (let i = 0; i < 5; i++) await app.put(`d${i}`, { n: i, again: true });
      const at = Date.now();
      await stream.run();
      const pitr = await freshDb('defaultspitr');
      await pointInTimeRestore({ storage, stream: 'items', at, target: mongoTarget({ db: pitr }) });
      expect(await dump(pitr)).toEqual(await dump(db));
      await pitr.dropDatabase();
      expect((await applyRetention({ storage, keepLast: 1 })).deleted).toEqual([ids[0]]);
    } finally {
      await redis.del(key);
      redis.disconnect();
      await Promise.all([db.dropDatabase(), target.dropDatabase(), s3.drop()]);
    }
  });
});
