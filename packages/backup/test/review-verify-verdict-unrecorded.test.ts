/**
 * Review finding: a verification that found a backup damaged wrote its failing verdict with
 * `.catch(() => undefined)`. When that write failed, the backup's earlier passing record
 * stayed — retention and point-in-time restore trust a backup by it — and nothing said so: the
 * error and the log read as if the verdict were recorded. The error and the log must say the
 * verdict was not recorded (class and status only), where and what that leaves trusted.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongoSource, snapshotBackup, VerificationFailedError, verifyBackup, type LogLike } from '../src/index.js';
import { closeMongo, flipByte, freshBucket, freshDb, listAll, readJson, S3_SERVERS } from './support.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)('a failing verdict that cannot be recorded, on $name', (server) => {
  let s3: Awaited<ReturnType<typeof freshBucket>>;
  beforeAll(async () => {
    s3 = await freshBucket(server);
  });
  afterAll(() => s3?.drop());

  it('is said in the error and the log, the earlier passing record named', async () => {
    const db = await freshDb('verdict');
    await db.collection<{ _id: number; s: string }>('orders').insertMany(Array.from({ length: 200 }, (_, i) => ({ _id: i, s: `order ${i}` })));
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'p' };
    const { backupId } = (await snapshotBackup({ source: mongoSource({ db }), target: storage }).run()) as { backupId: string };
    expect((await verifyBackup({ backup: { storage, id: backupId }, level: 'full' })).ok).toBe(true);

    // One byte of the segment changed, its size kept.
    const segment = (await listAll(s3.client, s3.bucket, `p/backups/${backupId}/data/`))[0]!;
    await flipByte(s3.client, s3.bucket, segment, { mask: 0xff });

    // S3 refuses the verdict's write.
    const failing = {
      async send(command: unknown, options?: unknown) {
        if (command instanceof PutObjectCommand && String(command.input.Key).endsWith('/verification.json')) {
          throw Object.assign(new Error('injected write failure'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
        }
        return s3.client.send(command as never, options as never);
      },
    };
    const logged: Array<{ message: string; fields?: Record<string, unknown> }> = [];
    const log: LogLike = { info: () => {}, warn: () => {}, error: (message, fields) => void logged.push({ message, ...(fields ? { fields } : {}) }) };
    const error = await verifyBackup({ backup: { storage: { ...storage, client: failing }, id: backupId }, level: 'full' }, { log }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerificationFailedError);
    expect((error as Error).message).toMatch(/verdict could not be recorded in p\/backups\/.+\/verification\.json: InternalError HTTP 500; an earlier passing verification there still makes retention/);
    expect((error as Error).message).not.toMatch(/injected/);
    expect(logged.find((l) => l.message === 'backup verification failed')?.fields).toMatchObject({ backupId, level: 'full', verdictNotRecorded: 'InternalError HTTP 500' });
    // What that leaves: the earlier passing record.
    expect(await readJson<{ ok: boolean }>(s3.client, s3.bucket, `p/backups/${backupId}/verification.json`)).toMatchObject({ ok: true, level: 'full' });
  }, 60_000);
});
