/**
 * The S3 lease store's conditional PUT, resent by the AWS SDK: the first attempt reached the
 * server and was applied, its reply was lost — the socket reset (`cut`) or a 500 answered
 * after the server applied it (`fail500`) — and the SDK's retry (standard strategy, on by
 * default) then gets 412 PreconditionFailed, its own first attempt having changed the ETag.
 * The store must answer what happened to the caller's request, as the first attempt would
 * have been answered: a claim `claimed` with the fence it wrote (not "held by someone else" —
 * by the caller's own token, leaving the key held by nobody who knows it), a settle `true`, a
 * renewal `renewed` with the new fence. Shown on both S3 emulators (moto, gofakes3) behind
 * `test/support/reply-cut-proxy.ts`; a PUT whose retry is refused because someone else wrote
 * between (no own write) still answers as before.
 */
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3LeaseStore, type S3LeaseStore } from '../s3.js';
import { requireService } from '../../../../test/services/env.js';
import { startReplyCutProxy, type ReplyCutProxy } from '../../../../test/support/reply-cut-proxy.js';
import { s3Client } from '../../test/support/backends.js';

const PREFIX = 'leases/';

describe.each([
  ['s3', 'S3_ENDPOINT'],
  ['s3-alt', 'S3_ALT_ENDPOINT'],
] as const)('s3LeaseStore on %s: a conditional PUT applied, its reply lost, resent by the SDK', (service, variable) => {
  let direct: S3Client;
  let proxied: S3Client;
  let proxy: ReplyCutProxy;
  let store: S3LeaseStore;
  const bucket = `lease-resend-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    await requireService(service);
    const endpoint = new URL(process.env[variable]!);
    direct = s3Client(endpoint.origin);
    await direct.send(new CreateBucketCommand({ Bucket: bucket }));
    proxy = await startReplyCutProxy(Number(endpoint.port));
    proxied = s3Client(`http://127.0.0.1:${proxy.port}`);
    store = s3LeaseStore({ client: proxied, bucket, prefix: PREFIX });
    // The probe's PUTs go first, unmatched by the rules below.
    await store.probe();
  });
  afterAll(async () => {
    proxied?.destroy();
    direct?.destroy();
    await proxy?.close();
  });

  const newKey = (): string => `resend-${randomUUID()}`;
  const putLine = (key: string): string => `PUT /${bucket}/${PREFIX}${key}`;
  const stored = async (key: string): Promise<{ s: string; g: number; o: string; d?: string }> => {
    const got = await direct.send(new GetObjectCommand({ Bucket: bucket, Key: PREFIX + key }));
    return JSON.parse(await got.Body!.transformToString()) as { s: string; g: number; o: string; d?: string };
  };
  /** Loses the reply to the next PUT of `key` (its request applied), and checks it was lost. */
  const loseNextPutReply = (key: string, action: 'cut' | 'fail500'): (() => void) => {
    const before = proxy.cuts;
    proxy.on(putLine(key), action);
    return () => expect(proxy.cuts, 'the reply was lost once').toBe(before + 1);
  };

  describe.each(['cut', 'fail500'] as const)('reply lost by %s', (action) => {
    it('claim answers claimed with the fence it wrote, not held by its own owner token', async () => {
      const key = newKey();
      const owner = randomUUID();
      const lost = loseNextPutReply(key, action);
      const result = await store.claim({ key, owner, leaseMs: 60_000, data: 'attempt-1' });
      lost();
      expect(await stored(key)).toMatchObject({ s: 'h', g: 1, o: owner, d: 'attempt-1' });
      expect(result).toMatchObject({ claimed: true, fence: 1 });
      // The caller holds it: it can settle with the fence it was given.
      expect(await store.settle({ key, owner, fence: 1, data: 'ok', keepMs: 60_000 })).toBe(true);
    });

    it('claimMany answers claimed for the key whose reply was lost', async () => {
      const keys = [newKey(), newKey()];
      const owner = randomUUID();
      const lost = loseNextPutReply(keys[1]!, action);
      const results = await store.claimMany(keys.map((key) => ({ key, owner, leaseMs: 60_000 })));
      lost();
      expect(results).toEqual([expect.objectContaining({ claimed: true, fence: 1 }), expect.objectContaining({ claimed: true, fence: 1 })]);
    });

    it('settle (done) answers true, and the stored outcome is its own', async () => {
      const key = newKey();
      const owner = randomUUID();
      const claim = await store.claim({ key, owner, leaseMs: 60_000 });
      expect(claim).toMatchObject({ claimed: true, fence: 1 });
      const lost = loseNextPutReply(key, action);
      const settled = await store.settle({ key, owner, fence: 1, data: 'result', keepMs: 60_000 });
      lost();
      expect(await stored(key)).toMatchObject({ s: 'd', g: 2, o: owner, d: 'result' });
      expect(settled).toBe(true);
    });

    it('settle (release) answers true', async () => {
      const key = newKey();
      const owner = randomUUID();
      expect(await store.claim({ key, owner, leaseMs: 60_000 })).toMatchObject({ claimed: true, fence: 1 });
      const lost = loseNextPutReply(key, action);
      const settled = await store.settle({ key, owner, fence: 1 });
      lost();
      expect(await stored(key)).toMatchObject({ s: 'f', g: 2 });
      expect(settled).toBe(true);
    });

    it('settleMany answers true for the key whose reply was lost', async () => {
      const keys = [newKey(), newKey()];
      const owner = randomUUID();
      for (const key of keys) expect(await store.claim({ key, owner, leaseMs: 60_000 })).toMatchObject({ claimed: true, fence: 1 });
      const lost = loseNextPutReply(keys[0]!, action);
      const settled = await store.settleMany(keys.map((key) => ({ key, owner, fence: 1, data: 'r', keepMs: 60_000 })));
      lost();
      expect(settled).toEqual([true, true]);
    });

    it('renew answers renewed with the new fence', async () => {
      const key = newKey();
      const owner = randomUUID();
      expect(await store.claim({ key, owner, leaseMs: 60_000 })).toMatchObject({ claimed: true, fence: 1 });
      const lost = loseNextPutReply(key, action);
      const renewed = await store.renew({ key, owner, fence: 1, leaseMs: 60_000 });
      lost();
      expect(await stored(key)).toMatchObject({ s: 'h', g: 2, o: owner });
      expect(renewed).toMatchObject({ renewed: true, fence: 2 });
      expect(await store.settle({ key, owner, fence: 2 })).toBe(true);
    });
  });

  it('a PUT refused because another writer came between (no own write) still answers held by that writer', async () => {
    const key = newKey();
    const owner = randomUUID();
    const other = randomUUID();
    // Between the claim's read and its PUT, another process claims the key.
    proxy.on(putLine(key), async () => {
      const body = JSON.stringify({ v: 1, s: 'h', g: 1, o: other, e: Date.now() + 600_000 });
      await direct.send(new PutObjectCommand({ Bucket: bucket, Key: PREFIX + key, Body: body, IfNoneMatch: '*' }));
    });
    const result = await store.claim({ key, owner, leaseMs: 60_000 });
    expect(result).toMatchObject({ claimed: false, record: { state: 'held', owner: other, fence: 1 } });
  });
});
