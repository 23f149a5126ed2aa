/**
 * Review (try-to-break) findings on option checks: options that were accepted when a job or
 * target was defined and failed later, deep inside (a `TypeError` at apply time, or when a
 * timeline breaks), or were reported under another function's name, or (a job name too long
 * for S3's keys) failed at run time as a lease request error. Each must be a
 * `ConfigurationError` (`CONFIG_INVALID`) naming the field, before anything is sent.
 */
import { describe, expect, it } from 'vitest';
import { client, configError, db, storage } from './offline-options.js';
import { mongoSource, mongoTarget, probeS3, restoreStream, snapshotBackup, streamBackup } from '../src/index.js';

describe('options checked up front', () => {
  it('mongoTarget: collectionName must be a function', async () => {
    const error = await configError(() => mongoTarget({ db, collectionName: 'orders' as never }));
    expect(error.field).toBe('collectionName');
    expect(error.message).toMatch(/^mongoTarget\(\): option "collectionName" must be a function/);
  });

  it('streamBackup: onTimelineBroken must be a function', async () => {
    const error = await configError(() => streamBackup({ name: 'orders', target: storage, onTimelineBroken: 'alert' as never }));
    expect(error.field).toBe('onTimelineBroken');
  });

  it('restoreStream: until and timeline are checked before anything is sent, under their own names', async () => {
    const target = mongoTarget({ db });
    const until = await configError(() => restoreStream({ storage, stream: 'orders', target, until: 'yesterday' }));
    expect(until.field).toBe('until');
    expect(until.message).toMatch(/^restoreStream\(\): option "until"/);
    expect((await configError(() => restoreStream({ storage, stream: 'orders', target, timeline: 0 }))).field).toBe('timeline');
    expect((await configError(() => restoreStream({ storage, stream: 'orders', target, timeline: 1.5 }))).field).toBe('timeline');
    expect((await configError(() => restoreStream(undefined as never))).field).toBe('options');
  });

  it('snapshotBackup: a job name whose S3 keys cannot fit 1,024 bytes', async () => {
    const source = mongoSource({ db });
    expect((await configError(() => snapshotBackup({ source, target: storage, job: 'é'.repeat(200) }))).field).toBe('job');
    expect(snapshotBackup({ source, target: storage, job: 'j'.repeat(900) })).toBeTypeOf('function');
  });

  it('probeS3: a missing or bad location is a ConfigurationError, not a TypeError', async () => {
    expect((await configError(() => probeS3(undefined as never))).field).toBe('target');
    expect((await configError(() => probeS3({ client, bucket: 'Bad_Bucket' } as never))).field).toBe('target.bucket');
  });
});
