/**
 * The S3 store's own edges, on both S3 servers (moto: S3_ENDPOINT, gofakes3: S3_ALT_ENDPOINT):
 * races decided by conditional writes, the start-up probe, objects it did not write, a 409
 * conflict, and where a server deviates from S3. (The LeaseStore contract and fencing run on
 * both servers in contract.test.ts and fencing.test.ts.)
 */
import { randomUUID } from 'node:crypto';
import { PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { LeaseRecordUnreadableError, LeaseStoreUnsupportedError } from '../src/index.js';
import { s3LeaseStore } from '../src/s3.js';
import { eventually, token, useBackend } from './support/backends.js';

describe.each(['s3', 's3-alt'] as const)('S3 lease store on %s', (name) => {
  const backend = useBackend(name);

  it('deviation check: If-Match on a missing key is refused (S3 and moto: 404 NoSuchKey; gofakes3: 412), which the store reads as a lost race', async () => {
    const { client, bucket } = backend.s3!;
    const error = await client.send(new PutObjectCommand({ Bucket: bucket, Key: `missing-${randomUUID()}`, Body: 'x', IfMatch: '"0123"' })).catch((e: unknown) => e);
    // Deviation from S3: gofakes3 answers 412 PreconditionFailed where S3 answers 404.
    expect((error as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(name === 's3' ? 404 : 412);
  });

  it('of 8 concurrent claims of a free key, and of 8 of an expired one, exactly one wins', async () => {
    const k = `race:${randomUUID()}`;
    const stores = Array.from({ length: 8 }, () => backend.another());
    // The winner's lease must outlast the round: a loser re-reads after its conditional PUT is
    // refused, and S3's clock (its Date header, up to 1 s behind) makes a 200 ms lease end as
    // soon as 200 ms after the winner's write — on a loaded machine a loser then found it expired
    // and took it over too (two winners). 3 s; the wait for it to run out allows for that.
    const first = await Promise.all(stores.map((s) => s.claim({ key: k, owner: token(), leaseMs: 3_000 })));
    expect(first.filter((r) => r.claimed)).toHaveLength(1);
    const winner = first.find((r) => r.claimed) as { fence: number };
    expect(first.filter((r) => !r.claimed).every((r) => !r.claimed && r.record.fence === winner.fence)).toBe(true);
    await eventually(async () => (await backend.store.get(k)) === undefined, 20_000);
    const second = await Promise.all(stores.map((s) => s.claim({ key: k, owner: token(), leaseMs: 10_000 })));
    expect(second.filter((r) => r.claimed)).toHaveLength(1);
    expect((second.find((r) => r.claimed) as { fence: number }).fence).toBe(winner.fence + 1);
  }, 60_000);

  it('leaves an object it did not write alone, and says so', async () => {
    const { client, bucket } = backend.s3!;
    const k = `foreign:${randomUUID()}`;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: backend.s3Store!.objectKey(k), Body: '{"not":"a lease"}' }));
    await expect(backend.store.claim({ key: k, owner: token(), leaseMs: 1000 })).rejects.toBeInstanceOf(LeaseRecordUnreadableError);
    await expect(backend.store.get(k)).rejects.toMatchObject({ code: 'LEASE_RECORD_UNREADABLE' });
    const kept = await client.send(new GetObjectCommand({ Bucket: bucket, Key: backend.s3Store!.objectKey(k) }));
    expect(await kept.Body!.transformToString()).toBe('{"not":"a lease"}');
  });

  it('refuses a server that ignores conditional writes, before claiming anything', async () => {
    const { client, bucket } = backend.s3!;
    // The real server, reached by requests whose conditions were dropped on the way: it overwrites.
    const ignoring = {
      send(command: { input: Record<string, unknown> }, options?: unknown) {
        if (command instanceof PutObjectCommand) {
          delete command.input.IfNoneMatch;
          delete command.input.IfMatch;
        }
        return client.send(command as never, options as never);
      },
    };
    const store = s3LeaseStore({ client: ignoring, bucket, prefix: `ignoring-${randomUUID()}/` });
    const error = await store.claim({ key: 'job', owner: token(), leaseMs: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseStoreUnsupportedError);
    expect(error).toMatchObject({ code: 'LEASE_STORE_UNSUPPORTED', check: 'if-none-match' });
    const again = await store.get('job').catch((e: unknown) => e);
    expect(again).toBeInstanceOf(LeaseStoreUnsupportedError); // the refusal stands
  });

  it("reads again after S3's 409 ConditionalRequestConflict (a concurrent conditional write)", async () => {
    const { client, bucket } = backend.s3!;
    let conflicts = 0;
    const conflicting = {
      send(command: unknown, options?: unknown) {
        if (command instanceof PutObjectCommand && String((command.input as { Key?: string }).Key).endsWith('/job') && conflicts++ === 0) {
          return Promise.reject(Object.assign(new Error('conflict'), { name: 'ConditionalRequestConflict', $metadata: { httpStatusCode: 409 } }));
        }
        return client.send(command as never, options as never);
      },
    };
    const store = s3LeaseStore({ client: conflicting, bucket, prefix: `conflict-${randomUUID()}/` });
    expect(await store.claim({ key: 'job', owner: 'a', leaseMs: 10_000 })).toMatchObject({ claimed: true, fence: 1 });
    expect(conflicts).toBe(2);
  });

  it('checks its options up front', () => {
    const { client } = backend.s3!;
    expect(() => s3LeaseStore({ client: {} as never, bucket: 'b-ok' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'client' }));
    expect(() => s3LeaseStore({ client, bucket: 'Not_A_Bucket' })).toThrow(expect.objectContaining({ field: 'bucket' }));
    // The shared rule (@steadyfn/handler's s3BucketOption): an IP-shaped name and `..` were let through here.
    expect(() => s3LeaseStore({ client, bucket: '192.168.1.1' })).toThrow(expect.objectContaining({ field: 'bucket' }));
    expect(() => s3LeaseStore({ client, bucket: 'jobs..leases' })).toThrow(expect.objectContaining({ field: 'bucket' }));
    // Access points route the conditional writes too: their ARNs are accepted (the probe judges the target).
    expect(() => s3LeaseStore({ client, bucket: 'arn:aws:s3:us-east-1:123456789012:accesspoint/jobs' })).not.toThrow();
    // Not a Multi-Region Access Point: each of its replicated buckets checks If-None-Match alone.
    expect(() => s3LeaseStore({ client, bucket: 'arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', field: 'bucket', message: expect.stringMatching(/not a Multi-Region Access Point/) }),
    );
    expect(() => s3LeaseStore({ client, bucket: 'b-ok', prefix: 7 as never })).toThrow(expect.objectContaining({ field: 'prefix' }));
  });
});
