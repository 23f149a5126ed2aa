/**
 * "A claim or claimMany that throws holds nothing it wrote" — on S3 too. Before, the S3 store
 * had no give-back: a claim whose conditional PUT was applied and whose reply was lost for every
 * attempt (the SDK's retries off, or all of them failed) threw and left the key held by a token
 * nobody knew, until its lease ended; a `claimMany` one of whose keys failed threw and left the
 * keys it had claimed held.
 *
 * Now a failed claim reads each key it sent a PUT for and, where the object is exactly the body
 * it sent (its owner token, generation and expiry to the ms), releases it — a PUT of the next
 * generation, released (`s: 'f'`), by `If-Match` on the ETag read, as the holder's own release
 * would. Not a conditional DELETE: gofakes3 ignores `If-Match` on DeleteObject and deletes
 * whatever is there (moto honours it; shown below), and a delete would restart the key's fences
 * at 1. Shown on moto and gofakes3 behind `test/support/reply-cut-proxy.ts`.
 */
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseStoreUnavailableError } from '../src/index.js';
import { s3LeaseStore, type S3LeaseStore } from '../src/s3.js';
import { requireService } from '../../../test/services/env.js';
import { startReplyCutProxy, type ReplyCutProxy } from '../../../test/support/reply-cut-proxy.js';
import { s3Client } from './support/backends.js';
import { failure } from './support/operations.js';

const PREFIX = 'leases/';

describe.each([
  ['s3', 'S3_ENDPOINT', true],
  ['s3-alt', 'S3_ALT_ENDPOINT', false],
] as const)('s3LeaseStore on %s: a claim that throws holds nothing it wrote', (service, variable, deleteHonoursIfMatch) => {
  let direct: S3Client;
  let proxied: S3Client;
  let proxy: ReplyCutProxy;
  let store: S3LeaseStore;
  let check: S3LeaseStore;
  const bucket = `lease-give-back-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    await requireService(service);
    const endpoint = new URL(process.env[variable]!);
    direct = s3Client(endpoint.origin);
    await direct.send(new CreateBucketCommand({ Bucket: bucket }));
    proxy = await startReplyCutProxy(Number(endpoint.port));
    // No SDK retry: a lost reply fails the call (with retries, the resend is recognised: review-s3-resend.test.ts).
    proxied = s3Client(`http://127.0.0.1:${proxy.port}`, { maxAttempts: 1 });
    store = s3LeaseStore({ client: proxied, bucket, prefix: PREFIX });
    check = s3LeaseStore({ client: direct, bucket, prefix: PREFIX });
    await store.probe();
    await check.probe();
  });
  afterAll(async () => {
    proxied?.destroy();
    direct?.destroy();
    await proxy?.close();
  });

  const newKey = (): string => `give-back-${randomUUID()}`;
  const putLine = (key: string): string => `PUT /${bucket}/${PREFIX}${key}`;
  const getLine = (key: string): string => `GET /${bucket}/${PREFIX}${key}`;
  const stored = async (key: string): Promise<{ s: string; g: number; o: string } | undefined> => {
    const got = await direct.send(new GetObjectCommand({ Bucket: bucket, Key: PREFIX + key })).catch(() => undefined);
    return got ? (JSON.parse(await got.Body!.transformToString()) as { s: string; g: number; o: string }) : undefined;
  };

  it('claim applied, its reply lost: LEASE_STORE_UNAVAILABLE, the key released (next generation), a second owner claims it at once', async () => {
    const key = newKey();
    const owner = `first-${randomUUID()}`;
    const before = proxy.cuts;
    proxy.on(putLine(key), 'cut');
    const error = await failure(store.claim({ key, owner, leaseMs: 600_000, data: 'd' }));
    expect(proxy.cuts).toBe(before + 1);
    expect(error).toBeInstanceOf(LeaseStoreUnavailableError);
    expect((error as LeaseStoreUnavailableError).code).toBe('LEASE_STORE_UNAVAILABLE');
    expect(await stored(key)).toMatchObject({ s: 'f', g: 2 });
    expect(await check.get(key)).toBeUndefined();
    // Fences keep growing: generation 1 was the failed claim's, 2 its release.
    expect(await check.claim({ key, owner: `second-${randomUUID()}`, leaseMs: 60_000 })).toMatchObject({ claimed: true, fence: 3 });
  });

  it('claimMany, one key\'s PUT never delivered: LEASE_STORE_UNAVAILABLE, no key held (the others given back)', async () => {
    const keys = [newKey(), newKey(), newKey()];
    const owner = `first-${randomUUID()}`;
    proxy.on(putLine(keys[1]!), 'drop');
    const error = await failure(store.claimMany(keys.map((key) => ({ key, owner, leaseMs: 600_000 }))));
    expect(error).toBeInstanceOf(LeaseStoreUnavailableError);
    for (const key of keys) expect(await check.get(key), key).toBeUndefined();
    const second = await check.claimMany(keys.map((key) => ({ key, owner: `second-${randomUUID()}`, leaseMs: 60_000 })));
    for (const r of second) expect(r.claimed).toBe(true);
  });

  it('a record another owner wrote before the give-back read is left alone', async () => {
    const key = newKey();
    const other = `other-${randomUUID()}`;
    proxy.on(putLine(key), 'cut');
    // The failed claim's give-back reads the key: just before, another process takes it over.
    proxy.on(getLine(key), async () => {
      const body = JSON.stringify({ v: 1, s: 'h', g: 2, o: other, e: Date.now() + 600_000 });
      await direct.send(new PutObjectCommand({ Bucket: bucket, Key: PREFIX + key, Body: body }));
    });
    expect(await failure(store.claim({ key, owner: `first-${randomUUID()}`, leaseMs: 600_000 }))).toBeInstanceOf(LeaseStoreUnavailableError);
    expect(await stored(key)).toMatchObject({ s: 'h', g: 2, o: other });
  });

  it(`why not a conditional DELETE: this server ${deleteHonoursIfMatch ? 'honours' : 'ignores'} If-Match on DeleteObject`, async () => {
    const key = `${PREFIX}delete-${randomUUID()}`;
    await direct.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }));
    await direct.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, IfMatch: '"00000000000000000000000000000000"' })).catch(() => undefined);
    const kept = await direct.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(() => true, () => false);
    expect(kept).toBe(deleteHonoursIfMatch);
  });
});
