/**
 * An S3 lease store whose endpoint cannot be reached: a port nothing listens on (freePort, then
 * closed), so every request is refused (`ECONNREFUSED`). The SDK's error reached the caller raw
 * (no stable code, its message naming the address); every operation now fails with
 * `LeaseStoreUnavailableError` (`LEASE_STORE_UNAVAILABLE`, 503, retryable, store `s3`), the SDK's
 * error as its cause. The caller's abort passes through unchanged.
 */
import { randomUUID } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseStoreUnavailableError, type LeaseStore } from '../src/index.js';
import { s3LeaseStore } from '../src/s3.js';
import { freePort } from '../../../test/support/servers.js';
import { leaseOperations } from './support/operations.js';

const SECRET_KEY = `unavailable-${randomUUID()}`;
const SECRET_OWNER = `owner-${randomUUID()}`;
const SECRET_DATA = `data-${randomUUID()}`;

describe('s3LeaseStore on an endpoint that refuses connections', () => {
  let port: number;
  let client: S3Client;
  beforeAll(async () => {
    port = await freePort();
    client = new S3Client({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
  });
  afterAll(() => client?.destroy());

  it('every operation is LEASE_STORE_UNAVAILABLE with the SDK error as cause, no key, owner, data or port in the message', async () => {
    const store: LeaseStore & { probe(): Promise<unknown> } = s3LeaseStore({ client, bucket: `b-${randomUUID().slice(0, 8)}`, prefix: `p-${randomUUID()}/` });
    const calls: Array<[string, () => Promise<unknown>]> = [...leaseOperations(store, { key: SECRET_KEY, owner: SECRET_OWNER, data: SECRET_DATA }), ['probe', () => store.probe()]];
    for (const [operation, call] of calls) {
      const err = await call().then((value) => ({ value }), (e: unknown) => e);
      expect(err, operation).toBeInstanceOf(LeaseStoreUnavailableError);
      expect(err, operation).toMatchObject({ code: 'LEASE_STORE_UNAVAILABLE', status: 503, retryable: true, store: 's3' });
      const { message, cause } = err as Error;
      expect((cause as { code?: string } | undefined)?.code, `${operation}: the SDK's error is the cause`).toBe('ECONNREFUSED');
      for (const secret of [SECRET_KEY, SECRET_OWNER, SECRET_DATA, String(port)]) expect(message, operation).not.toContain(secret);
    }
  });

  it("the caller's abort passes through unchanged", async () => {
    const store = s3LeaseStore({ client, bucket: `b-${randomUUID().slice(0, 8)}` });
    const controller = new AbortController();
    const reason = new Error('the caller gave up');
    controller.abort(reason);
    expect(await store.get('k', { signal: controller.signal }).then(() => undefined, (e: unknown) => e)).toBe(reason);
  });
});
