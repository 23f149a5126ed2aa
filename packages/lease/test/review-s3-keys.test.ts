/**
 * Review (try-to-break) findings on the S3 store's keys, on both S3 servers: S3 object keys are
 * at most 1,024 bytes of UTF-8, prefix included, while a lease key may be 1,024 characters. A
 * key that cannot fit must be refused before anything is sent, as `LeaseRequestError` naming
 * the field — not a raw `KeyTooLongError` from the server (gofakes3, like S3, enforces the
 * limit; moto does not). Keys with path-like and odd characters are distinct leases.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LeaseRequestError } from '../src/index.js';
import { s3LeaseStore } from '../src/s3.js';
import { token, useBackend } from './support/backends.js';

describe.each(['s3', 's3-alt'] as const)('S3 lease store keys on %s', (name) => {
  const backend = useBackend(name);

  it('refuses a key whose object key would pass 1,024 bytes with LeaseRequestError, for every call', async () => {
    const { client, bucket } = backend.s3!;
    const store = s3LeaseStore({ client, bucket, prefix: `k-${randomUUID()}/` });
    const long = 'é'.repeat(600); // 600 characters, 1,200 bytes
    const owner = token();
    await expect(store.claim({ key: long, owner, leaseMs: 5000 })).rejects.toMatchObject({ name: 'LeaseRequestError', code: 'LEASE_REQUEST_INVALID', field: 'request.key' });
    await expect(store.get(long)).rejects.toBeInstanceOf(LeaseRequestError);
    await expect(store.settle({ key: long, owner, fence: 1 })).rejects.toBeInstanceOf(LeaseRequestError);
    await expect(store.renew({ key: long, owner, fence: 1, leaseMs: 5000 })).rejects.toBeInstanceOf(LeaseRequestError);
    await expect(store.claimMany([{ key: 'short', owner, leaseMs: 5000 }, { key: long, owner, leaseMs: 5000 }])).rejects.toMatchObject({ field: 'requests[1].key' });
    // Nothing was claimed by the refused batch.
    expect(await store.get('short')).toBeUndefined();
    // The longest key that fits works.
    const prefixBytes = Buffer.byteLength(store.objectKey(''));
    const fits = 'x'.repeat(1024 - prefixBytes);
    expect(await store.claim({ key: fits, owner, leaseMs: 5000 })).toMatchObject({ claimed: true, fence: 1 });
  });

  it('keys that look like paths are distinct leases', async () => {
    const { client, bucket } = backend.s3!;
    const store = s3LeaseStore({ client, bucket, prefix: `p-${randomUUID()}/` });
    const keys = ['a/b', 'a/./b', 'a/../a/b', 'a//b', 'a/b/', 'a%2Fb', 'a b', 'a+b', 'a?b', 'a#b', 'ünï€😀'];
    for (const key of keys) expect(await store.claim({ key, owner: token(), leaseMs: 5000 }), key).toMatchObject({ claimed: true, fence: 1 });
  });
});
