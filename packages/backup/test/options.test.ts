/**
 * Options are checked when a job is defined: a ConfigurationError (terminal, CONFIG_INVALID)
 * names the option, what was expected and what was given.
 */
import { ConfigurationError } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { applyRetention, mongoSource, mongoTarget, pointInTimeRestore, redisSource, redisStreamSource, restore, restoreStream, snapshotBackup, streamBackup, verifyBackup } from '../src/index.js';

const client = { send: async () => ({}) };
const target = { client, bucket: 'backups' };
const db = { databaseName: 'x', collection: () => ({}), command: async () => ({}), listCollections: () => ({ toArray: async () => [] }) };

function configError(work: () => unknown): ConfigurationError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('CONFIG_INVALID');
    expect((error as ConfigurationError).retryable).toBe(false);
    return error as ConfigurationError;
  }
  throw new Error('no ConfigurationError');
}

describe('option validation', () => {
  it('snapshotBackup', () => {
    const source = mongoSource({ db });
    expect(configError(() => snapshotBackup({ source, target: { ...target, bucket: 'Bad_Bucket' } })).field).toBe('target.bucket');
    // The shared rule (@steadyfn/handler's s3BucketOption): an IP-shaped name and `..` were let
    // through; an access point ARN is accepted (S3 routes every object request through it).
    expect(configError(() => snapshotBackup({ source, target: { ...target, bucket: '10.0.0.1' } })).message).toMatch(/^snapshotBackup\(\): option "target\.bucket" must be an S3 bucket name: 3-63 characters/);
    expect(configError(() => snapshotBackup({ source, target: { ...target, bucket: 'backups..x' } })).field).toBe('target.bucket');
    expect(() => snapshotBackup({ source, target: { ...target, bucket: 'arn:aws:s3:eu-west-1:123456789012:accesspoint/backups' } })).not.toThrow();
    // Not a Multi-Region Access Point: the job lease's conditional writes would be checked in one region only.
    const mrap = configError(() => snapshotBackup({ source, target: { ...target, bucket: 'arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap' } }));
    expect(mrap).toMatchObject({ code: 'CONFIG_INVALID', field: 'target.bucket' });
    expect(mrap.message).toMatch(/not a Multi-Region Access Point/);
    expect(configError(() => snapshotBackup({ source, target, leaseMs: 500 })).message).toBe('snapshotBackup(): option "leaseMs" must be a whole number of milliseconds ≥ 1000; got 500');
    expect(configError(() => snapshotBackup({ source, target, partSizeBytes: 1024 })).field).toBe('partSizeBytes');
    expect(configError(() => snapshotBackup({ source, target, memoryBudgetBytes: 10 * 1024 * 1024 })).message).toMatch(/memoryBudgetBytes" must be at least 25 MiB for 3 parts in flight/);
    expect(configError(() => snapshotBackup({ source: {} as never, target })).field).toBe('source');
    expect(configError(() => snapshotBackup({ source, target: { ...target, prefix: '/x/' } })).field).toBe('target.prefix');
  });
  it('sources and targets', () => {
    expect(configError(() => mongoSource({ db: undefined as never })).field).toBe('db');
    expect(configError(() => mongoSource({ db, batchSize: 0 })).field).toBe('batchSize');
    expect(configError(() => redisSource({ client: undefined as never })).field).toBe('client');
    expect(configError(() => redisSource({ client: {} as never, encoding: 'zip' as never })).field).toBe('encoding');
    expect(configError(() => mongoTarget({ db, unsupportedMetadata: 'ignore' as never })).field).toBe('unsupportedMetadata');
    expect(configError(() => redisStreamSource({ client: {} as never, key: '' })).field).toBe('key');
  });
  it('a Multi-Region Access Point: taken where nothing is decided by a write (restores), refused by leases and verdicts', async () => {
    const mrapArn = 'arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap';
    // A client that records the bucket of each request, then fails it: reaching it means the options were taken.
    const buckets: string[] = [];
    const reached = { send: async (command: { input: { Bucket?: string } }) => { buckets.push(String(command.input.Bucket)); throw Object.assign(new Error('offline'), { name: 'Offline' }); } };
    const storage = { client: reached, bucket: mrapArn };
    const refusedLease = /not a Multi-Region Access Point \(a Multi-Region Access Point routes to the nearest/;
    // Restores only read and check what they read: the access point is used, not refused.
    await expect(restore({ backup: { storage, id: 'latest' }, target: mongoTarget({ db }) })).rejects.toMatchObject({ code: 'BACKUP_STORAGE_FAILED' });
    await expect(pointInTimeRestore({ storage, stream: 'orders', at: 0, target: mongoTarget({ db }) })).rejects.toMatchObject({ code: 'BACKUP_STORAGE_FAILED' });
    await expect(restoreStream({ storage, stream: 'orders', target: mongoTarget({ db }) })).rejects.toMatchObject({ code: 'BACKUP_STORAGE_FAILED' });
    expect(buckets.length).toBeGreaterThanOrEqual(3);
    expect(new Set(buckets)).toEqual(new Set([mrapArn]));
    // A verification records a verdict others trust, about the one replica it read: refused before any request.
    const sent = buckets.length;
    const verify = await verifyBackup({ backup: { storage, id: 'latest' }, level: 'full' }).then(() => undefined, (error: unknown) => error);
    expect(verify).toBeInstanceOf(ConfigurationError);
    expect(verify).toMatchObject({ code: 'CONFIG_INVALID', field: 'backup.storage.bucket' });
    expect((verify as Error).message).toMatch(/not a Multi-Region Access Point \(its verdict, which retention and point-in-time restore trust/);
    // Leases (conditional writes): refused with that reason.
    expect(configError(() => streamBackup({ name: 'orders', target: storage })).message).toMatch(refusedLease);
    await expect(applyRetention({ storage, keepLast: 1 })).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'storage.bucket', message: expect.stringMatching(refusedLease) });
    expect(buckets.length).toBe(sent);
  });
  it('streamBackup, restore, verify, retention', async () => {
    expect(configError(() => streamBackup({ name: 'a/b', target })).field).toBe('name');
    expect(configError(() => streamBackup({ name: 'a', target, buffer: { maxMs: -1 } })).field).toBe('buffer.maxMs');
    await expect(restore({ backup: { storage: target, id: '' }, target: mongoTarget({ db }) })).rejects.toMatchObject({ field: 'backup.id' });
    await expect(restore({ backup: { storage: target, id: 'x' }, target: mongoTarget({ db }), spoolBytes: -1 })).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'spoolBytes' });
    await expect(verifyBackup({ backup: { storage: target, id: 'x' }, level: 'drill' })).rejects.toMatchObject({ field: 'scratch' });
    await expect(applyRetention({ storage: target, keepLast: 0 })).rejects.toMatchObject({ field: 'keepLast' });
  });
});
