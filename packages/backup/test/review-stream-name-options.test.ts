/**
 * Review (try-to-break) finding on the stream name given to the APIs that refer to a stream:
 * `streamBackup` refuses a `name` with anything but letters, digits, `.`, `_` and `-` (it is
 * part of the S3 keys), but `snapshotBackup({ stream })`, `pointInTimeRestore`, `restoreStream`
 * and `applyRetention` took any string. A snapshot marked with a name no stream can have
 * (`orders/eu`, a trailing space) ran and committed as usual, and the mistake showed only at
 * the point-in-time restore, as "no verified snapshot marked with stream …". Each must refuse
 * it with `ConfigurationError` on its `stream` field, before anything is sent.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '@steadyfn/handler';
import { configError, db, storage } from './offline-options.js';
import { applyRetention, mongoSource, mongoTarget, pointInTimeRestore, restoreStream, snapshotBackup } from '../src/index.js';

const BAD = ['orders/eu', 'orders ', 'ördérs', 'a*b'];

describe('a stream name no stream backup can have', () => {
  it.each(BAD)('snapshotBackup: stream %j is refused when the job is defined', async (stream) => {
    const error = await configError(() => snapshotBackup({ source: mongoSource({ db }), target: storage, stream }));
    expect(error.field).toBe('stream');
  });

  it.each(BAD)('pointInTimeRestore, restoreStream and applyRetention: stream %j is refused', async (stream) => {
    expect((await configError(() => pointInTimeRestore({ storage, stream, at: Date.now(), target: mongoTarget({ db }) }))).field).toBe('stream');
    expect((await configError(() => restoreStream({ storage, stream, target: mongoTarget({ db }) }))).field).toBe('stream');
    expect((await configError(() => applyRetention({ storage, stream }))).field).toBe('stream');
  });

  it('a name streamBackup takes passes', async () => {
    expect(() => snapshotBackup({ source: mongoSource({ db }), target: storage, stream: 'orders.v2_eu-1' })).not.toThrow();
    // Past the option check, the first S3 call fails (the client refuses to send): not a ConfigurationError.
    await expect(pointInTimeRestore({ storage, stream: 'orders.v2_eu-1', at: Date.now(), target: mongoTarget({ db }) })).rejects.not.toBeInstanceOf(ConfigurationError);
  });
});
