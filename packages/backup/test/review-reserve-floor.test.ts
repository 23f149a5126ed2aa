/**
 * `reserveMs` below 1,000 ms is refused up front with `ConfigurationError` (`CONFIG_INVALID`,
 * field `reserveMs`, the floor in `expected`) by `snapshotBackup`, `streamBackup` and
 * `applyRetention`. Before, `reserveMs: 0` was accepted, and with the handler's `remainingMs()`
 * (which stops at 0) a stream run's `remainingMs() < reserveMs` never held: it never stopped
 * pulling by itself, a snapshot stopped only with twice a part's time left and no time for its
 * checkpoint and lease release. 1,000 is accepted. Definitions only (no S3 request is made for
 * the two jobs; retention is given an empty moto bucket).
 */
import { describe, expect, it } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import { ConfigurationError, applyRetention, mongoSource, snapshotBackup, streamBackup } from '../src/index.js';
import { freshBucket, S3_SERVERS } from './support.js';

function expectRefused(error: unknown): void {
  expect(error).toBeInstanceOf(ConfigurationError);
  expect(error).toMatchObject({ code: 'CONFIG_INVALID', field: 'reserveMs' });
  expect((error as ConfigurationError).issues?.[0]).toMatchObject({ field: 'reserveMs', expected: expect.stringContaining('1000') });
}

const refusal = (define: () => unknown): unknown => {
  try {
    define();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('reserveMs has a floor of 1,000 ms', () => {
  const target = { client: new S3Client({ region: 'us-east-1' }), bucket: 'never-used', prefix: 'p' };
  const source = mongoSource({ db: { databaseName: 'never-used' } as never });

  it('snapshotBackup and streamBackup refuse 0 and 999 when defined, accept 1,000', () => {
    for (const reserveMs of [0, 999]) {
      expectRefused(refusal(() => snapshotBackup({ source, target, reserveMs })));
      expectRefused(refusal(() => streamBackup({ name: 's', target, reserveMs })));
    }
    expect(refusal(() => snapshotBackup({ source, target, reserveMs: 1_000 }))).toBeUndefined();
    expect(refusal(() => streamBackup({ name: 's', target, reserveMs: 1_000 }))).toBeUndefined();
  });

  it('applyRetention refuses 0 and 999 before any delete', async () => {
    const s3 = await freshBucket(S3_SERVERS[0]!);
    try {
      for (const reserveMs of [0, 999]) expectRefused(await applyRetention({ storage: { client: s3.client, bucket: s3.bucket }, keepLast: 1, reserveMs }).catch((e: unknown) => e));
    } finally {
      await s3.drop();
    }
  }, 30_000);
});
