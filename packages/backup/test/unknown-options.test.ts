/**
 * An option key a backup factory does not know — a typo, or the name before the `…Ms`
 * convention (`keep` for `keepMs`) — would be ignored and leave the default in force without a
 * word: each factory refuses it, in nested option objects too (`storage`, `backup`, `buffer`),
 * naming the dotted field. Every documented option (read from the options types with the
 * TypeScript checker) is accepted. Driver-owned objects (clients, `Db`) are never looked inside.
 */
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyRetention,
  mongoSource,
  mongoTarget,
  mongoWatermarkSource,
  pointInTimeRestore,
  probeS3,
  redisSource,
  redisStreamSource,
  redisTarget,
  restore,
  restoreStream,
  snapshotBackup,
  streamBackup,
  verifyBackup,
  type MongoSourceOptions,
  type MongoTargetOptions,
  type MongoWatermarkSourceOptions,
  type PointInTimeRestoreOptions,
  type RedisSourceOptions,
  type RedisStreamSourceOptions,
  type RedisTargetOptions,
  type RestoreOptions,
  type RestoreStreamOptions,
  type RetentionOptions,
  type S3Target,
  type SnapshotBackupOptions,
  type StreamBackupOptions,
  type VerifyBackupOptions,
} from '../src/index.js';
import { sqsSource, type SqsSourceOptions } from '../src/sqs.js';
import { expectOptionRefused } from '../../../test/support/config-errors.js';
import { documentedOptionKeys, loadOptionTypes } from '../../../test/support/option-types.js';

const src = (path: string): string => fileURLToPath(new URL(`../src/${path}`, import.meta.url));
// Real clients, never connected (the S3 endpoint refuses at once): the factories only check their options.
const redis = new Redis({ lazyConnect: true });
const mongo = new MongoClient('mongodb://127.0.0.1:1/x');
const db = mongo.db('x');
const s3 = new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1', forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const sqs = new SQSClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1', maxAttempts: 1, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
afterAll(() => {
  redis.disconnect();
  s3.destroy();
  sqs.destroy();
});
// The options types are read with the TypeScript checker: seconds of work (more on a loaded machine), done once here.
const typed = ['sources/mongo.ts', 'sources/redis.ts', 'restore/mongo.ts', 'restore/redis.ts', 'stream/sources/redis-stream.ts', 'stream/sources/mongo-watermark.ts', 'stream/sources/sqs.ts', 'snapshot/options.ts', 'target.ts', 'stream/index.ts', 'restore/options.ts', 'verify/index.ts', 'restore/pitr-options.ts', 'retention-options.ts'];
beforeAll(() => loadOptionTypes(typed.map(src)), 120_000);

const storage: Required<S3Target> = { client: s3, bucket: 'backups', prefix: 'shop' };
const source = redisSource({ client: redis });
const target = mongoTarget({ db });

/** `expectOptionRefused` for a factory that rejects. */
async function expectRefusedAsync(make: () => Promise<unknown>, owner: string, field: string, mentions: string[] = []): Promise<void> {
  const thrown = await make().then(
    () => undefined,
    (e: unknown) => e,
  );
  expectOptionRefused(
    () => {
      throw thrown;
    },
    owner,
    field,
    mentions,
  );
}

/** Options accepted: the call gets past them (to the unreachable S3 endpoint), not a ConfigurationError. */
async function expectAcceptedAsync(make: () => Promise<unknown>): Promise<void> {
  const thrown = await make().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect((thrown as Error | undefined)?.name).not.toBe('ConfigurationError');
}

describe('backup sources and targets: unknown option keys', () => {
  it('mongoSource() refuses a misspelt key; accepts every documented option', () => {
    expectOptionRefused(() => mongoSource({ db, batchSise: 10 } as never), 'mongoSource', 'batchSise', ['db, collections, batchSize']);
    const all: Required<MongoSourceOptions> = { db, collections: ['a'], batchSize: 10 };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('sources/mongo.ts'), 'MongoSourceOptions'));
    expect(() => mongoSource({ ...all, typo: undefined } as never)).not.toThrow();
  });

  it('redisSource() refuses a misspelt key; accepts every documented option', () => {
    expectOptionRefused(() => redisSource({ client: redis, patern: 'a:*' } as never), 'redisSource', 'patern', ['client, pattern, scanCount']);
    const all: Required<RedisSourceOptions> = {
      client: redis,
      pattern: 'a:*',
      scanCount: 100,
      bigKeyBytes: 1024,
      bigKeyElements: 10,
      chunkElements: 10,
      chunkBytes: 1024,
      encoding: 'typed',
      targetRdbVersion: 11,
      digestWithoutPrefix: 'drill:',
    };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('sources/redis.ts'), 'RedisSourceOptions'));
    expect(() => redisSource(all)).not.toThrow();
  });

  it('mongoTarget() refuses a misspelt key; accepts every documented option', () => {
    expectOptionRefused(() => mongoTarget({ db, unsupportedMetaData: 'skip' } as never), 'mongoTarget', 'unsupportedMetaData', ['db, collectionName, batchSize, unsupportedMetadata']);
    const all: Required<MongoTargetOptions> = { db, collectionName: (n) => n, batchSize: 10, unsupportedMetadata: 'skip' };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('restore/mongo.ts'), 'MongoTargetOptions'));
    expect(() => mongoTarget(all)).not.toThrow();
  });

  it('redisTarget() refuses a misspelt key; accepts every documented option', () => {
    expectOptionRefused(() => redisTarget({ client: redis, prefix: 'r:' } as never), 'redisTarget', 'prefix', ['client, keyPrefix, batchSize, connectTimeoutMs']);
    const all: Required<RedisTargetOptions> = { client: redis, keyPrefix: 'r:', batchSize: 10, connectTimeoutMs: 5_000 };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('restore/redis.ts'), 'RedisTargetOptions'));
    expect(() => redisTarget(all)).not.toThrow();
  });

  it('redisStreamSource() refuses a misspelt key; accepts every documented option', () => {
    expectOptionRefused(() => redisStreamSource({ client: redis, key: 's', envelope: 'e' } as never), 'redisStreamSource', 'envelope', ['client, key, envelopeField, count']);
    const all: Required<RedisStreamSourceOptions> = { client: redis, key: 's', envelopeField: 'e', count: 10 };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('stream/sources/redis-stream.ts'), 'RedisStreamSourceOptions'));
    expect(() => redisStreamSource(all)).not.toThrow();
  });

  it('mongoWatermarkSource() refuses pre-Ms names and a misspelt key; accepts every documented option', () => {
    expectOptionRefused(() => mongoWatermarkSource({ db, collection: 'c', lag: 1000 } as never), 'mongoWatermarkSource', 'lag', ['"lagMs"', 'db, collection, field, deletedField, lagMs']);
    expectOptionRefused(() => mongoWatermarkSource({ db, collection: 'c', overlap: 1000 } as never), 'mongoWatermarkSource', 'overlap', ['"overlapMs"']);
    expectOptionRefused(() => mongoWatermarkSource({ db, collection: 'c', deleteField: 'd' } as never), 'mongoWatermarkSource', 'deleteField');
    const all: Required<MongoWatermarkSourceOptions> = { db, collection: 'c', field: 'u', deletedField: 'd', lagMs: 0, overlapMs: 0, batchSize: 10, now: Date.now };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('stream/sources/mongo-watermark.ts'), 'MongoWatermarkSourceOptions'));
    expect(() => mongoWatermarkSource(all)).not.toThrow();
  });

  it('sqsSource() refuses a misspelt key; accepts every documented option', () => {
    expectOptionRefused(() => sqsSource({ client: sqs, queueUrl: 'q', waitTimeSecond: 1 } as never), 'sqsSource', 'waitTimeSecond', ['client, queueUrl, waitTimeSeconds']);
    const all: Required<SqsSourceOptions> = { client: sqs, queueUrl: 'q', waitTimeSeconds: 1, visibilityTimeoutSeconds: 60, envelopes: true, claimCheck: { s3 } };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('stream/sources/sqs.ts'), 'SqsSourceOptions'));
    expect(() => sqsSource(all)).not.toThrow();
  });
});

describe('backup jobs: unknown option keys, top level and nested', () => {
  it('snapshotBackup() refuses a pre-Ms name, a misspelt key and one in target; accepts every documented option', () => {
    expectOptionRefused(() => snapshotBackup({ source, target: storage, lease: 60_000 } as never), 'snapshotBackup', 'lease', ['"leaseMs"', 'source, target, job, stream']);
    expectOptionRefused(() => snapshotBackup({ source, target: storage, partInFlight: 2 } as never), 'snapshotBackup', 'partInFlight');
    expectOptionRefused(() => snapshotBackup({ source, target: { ...storage, prefx: 'p' } } as never), 'snapshotBackup', 'target.prefx', ['an option of "target"', 'client, bucket, prefix']);
    const all: Required<SnapshotBackupOptions> = {
      source,
      target: storage,
      job: 'nightly',
      stream: 'orders',
      memoryBudgetBytes: 256 * 1024 * 1024,
      partsInFlight: 2,
      partSizeBytes: 8 * 1024 * 1024,
      segmentBytes: 64 * 1024 * 1024,
      compressionLevel: 6,
      leaseMs: 60_000,
      reserveMs: 5000,
    };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('snapshot/options.ts'), 'SnapshotBackupOptions'));
    expect(Object.keys(storage).sort()).toEqual(documentedOptionKeys(src('target.ts'), 'S3Target'));
    expect(() => snapshotBackup({ ...all, target: { ...storage, typo: undefined } } as never)).not.toThrow();
  });

  it('streamBackup() refuses a pre-Ms name, a misspelt key and pre-Ms/misspelt keys in buffer; accepts every documented option', () => {
    expectOptionRefused(() => streamBackup({ name: 'o', target: storage, reserve: 1000 } as never), 'streamBackup', 'reserve', ['"reserveMs"', 'name, source, target, buffer']);
    expectOptionRefused(() => streamBackup({ name: 'o', target: storage, maxRecord: 10 } as never), 'streamBackup', 'maxRecord');
    expectOptionRefused(() => streamBackup({ name: 'o', target: storage, buffer: { max: 1000 } } as never), 'streamBackup', 'buffer.max', ['"maxMs"', 'an option of "buffer"', 'maxBytes, maxMs']);
    expectOptionRefused(() => streamBackup({ name: 'o', target: storage, buffer: { maxByte: 1024 } } as never), 'streamBackup', 'buffer.maxByte');
    expectOptionRefused(() => streamBackup({ name: 'o', target: { ...storage, bukcet: 'b' } } as never), 'streamBackup', 'target.bukcet');
    const all: Required<StreamBackupOptions> = {
      name: 'orders',
      source: redisStreamSource({ client: redis, key: 's' }),
      target: storage,
      buffer: { maxBytes: 1024 * 1024, maxMs: 1000 },
      maxRecords: 10,
      leaseMs: 60_000,
      reserveMs: 1000,
      coverageLagMs: 0,
      onTimelineBroken: () => undefined,
    };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('stream/index.ts'), 'StreamBackupOptions'));
    expect(() => streamBackup(all)).not.toThrow();
  });

  it('restore() refuses a misspelt key, and one in backup and backup.storage; accepts every documented option', async () => {
    const backup = { storage, id: 'latest', job: 'nightly' };
    await expectRefusedAsync(() => restore({ backup, target, spoolByte: 0 } as never), 'restore', 'spoolByte', ['backup, target, spoolBytes']);
    await expectRefusedAsync(() => restore({ backup: { ...backup, backupId: 'x' }, target } as never), 'restore', 'backup.backupId', ['an option of "backup"', 'storage, id']);
    await expectRefusedAsync(() => restore({ backup: { ...backup, storage: { ...storage, prefx: 'p' } }, target } as never), 'restore', 'backup.storage.prefx', ['client, bucket, prefix']);
    const all: Required<RestoreOptions> = { backup, target, spoolBytes: 0, lockMs: 60_000, ifTargetNotEmpty: 'merge' };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('restore/options.ts'), 'RestoreOptions'));
    expect(Object.keys(backup).sort()).toEqual(documentedOptionKeys(src('restore/options.ts'), 'BackupRef'));
    await expectAcceptedAsync(() => restore(all));
  });

  it('verifyBackup() refuses a misspelt key and one in backup; accepts every documented option', async () => {
    const backup = { storage, id: 'latest' };
    await expectRefusedAsync(() => verifyBackup({ backup, keepScrach: true } as never), 'verifyBackup', 'keepScrach', ['backup, level, scratch, keepScratch']);
    await expectRefusedAsync(() => verifyBackup({ backup: { ...backup, storage: { ...storage, buckt: 'b' } } } as never), 'verifyBackup', 'backup.storage.buckt');
    const all: Required<VerifyBackupOptions> = { backup, level: 'drill', scratch: redisTarget({ client: redis, keyPrefix: 'drill:' }), keepScratch: false };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('verify/index.ts'), 'VerifyBackupOptions'));
    await expectAcceptedAsync(() => verifyBackup(all));
  });

  it('pointInTimeRestore() refuses a misspelt key and one in storage; accepts every documented option', async () => {
    await expectRefusedAsync(() => pointInTimeRestore({ storage, stream: 'o', at: 0, target, allowUnverfied: true } as never), 'pointInTimeRestore', 'allowUnverfied', ['storage, stream, at, target, job, allowUnverified']);
    await expectRefusedAsync(() => pointInTimeRestore({ storage: { ...storage, prefx: 'p' }, stream: 'o', at: 0, target } as never), 'pointInTimeRestore', 'storage.prefx', ['an option of "storage"']);
    const all: Required<PointInTimeRestoreOptions> = { storage, stream: 'o', at: new Date(), target, job: 'nightly', allowUnverified: true, lockMs: 60_000, ifTargetNotEmpty: 'merge', allowPartial: false };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('restore/pitr-options.ts'), 'PointInTimeRestoreOptions'));
    await expectAcceptedAsync(() => pointInTimeRestore(all));
  });

  it('restoreStream() refuses a misspelt key and one in storage; accepts every documented option', async () => {
    await expectRefusedAsync(() => restoreStream({ storage, stream: 'o', target, untill: 0 } as never), 'restoreStream', 'untill', ['storage, stream, target, timeline, allowPartial, until']);
    await expectRefusedAsync(() => restoreStream({ storage: { ...storage, client: s3, bucket: 'b', region: 'x' }, stream: 'o', target } as never), 'restoreStream', 'storage.region');
    const all: Required<RestoreStreamOptions> = { storage, stream: 'o', target, timeline: 1, allowPartial: false, until: Date.now(), lockMs: 60_000, ifTargetNotEmpty: 'merge' };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('restore/stream-restore.ts'), 'RestoreStreamOptions'));
    await expectAcceptedAsync(() => restoreStream(all));
  });

  it('applyRetention() refuses pre-Ms names (maxAge-style typos too), a misspelt key and one in storage; accepts every documented option', async () => {
    await expectRefusedAsync(() => applyRetention({ storage, keepLast: 3, keep: 86_400_000 } as never), 'applyRetention', 'keep', ['"keepMs"', 'storage, keepLast, keepMs, pitrWindowMs']);
    await expectRefusedAsync(() => applyRetention({ storage, pitrWindow: 1000 } as never), 'applyRetention', 'pitrWindow', ['"pitrWindowMs"']);
    await expectRefusedAsync(() => applyRetention({ storage, keepLast: 3, maxAgeMS: 1000 } as never), 'applyRetention', 'maxAgeMS');
    await expectRefusedAsync(() => applyRetention({ storage: { ...storage, Bucket: 'b' } } as never), 'applyRetention', 'storage.Bucket');
    const all: Required<RetentionOptions> = {
      storage,
      keepLast: 3,
      keepMs: 0,
      pitrWindowMs: 0,
      job: 'nightly',
      stream: 'orders',
      dryRun: true,
      orphanGraceMs: 1000,
      orphanBatchSize: 10,
      abandonedCheckpointMs: 604_800_000,
      reserveMs: 5_000,
      leaseMs: 60_000,
      now: Date.now,
    };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('retention-options.ts'), 'RetentionOptions'));
    await expectAcceptedAsync(() => applyRetention(all));
  });

  it('probeS3() refuses a misspelt key in its location; accepts the documented ones', async () => {
    await expectRefusedAsync(() => probeS3({ ...storage, prefx: 'p' } as never), 'probeS3', 'target.prefx', ['client, bucket, prefix']);
    await expectAcceptedAsync(() => probeS3({ ...storage, bucket: 'probe-keys' }));
  });
});
