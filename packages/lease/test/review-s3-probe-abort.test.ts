/**
 * The S3 store's calls and the caller's signal (reviewer's repros, rvl D1–D3):
 * - D1: a call made while the start-up probe ran waited for the probe's clean-up DELETE, sent
 *   with no signal: against a stalled endpoint, `get` with a 300 ms signal stayed pending (the
 *   default S3Client has no timeout). It now rejects with the signal's reason when it aborts.
 * - D2: the probe, shared by concurrent calls, ran with the FIRST caller's signal: that caller's
 *   abort failed the second caller (no signal) with the SDK's untyped `AbortError`. The shared
 *   probe now runs with no caller's signal (bounded by its own), each caller racing its own.
 * - D3: an abort mid-GET rejected with the SDK's `AbortError: Request aborted`, not the
 *   signal's reason. The stalled proxy holds the GET, so the abort lands mid-call, no sleep racing.
 * Real servers: moto behind a stalling TCP proxy (`support/stall-proxy.ts`), moto and gofakes3.
 */
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3LeaseStore } from '../src/s3.js';
import { s3Client, useBackend } from './support/backends.js';
import { startStallProxy, type StallProxy } from './support/stall-proxy.js';
import { requireService } from '../../../test/services/env.js';

const PENDING = Symbol('still pending');
/** What `call` settles to (its value or its error), or PENDING if it has not settled within `ms`. */
async function settledWithin(call: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise((resolve) => (timer = setTimeout(() => resolve(PENDING), ms)));
  try {
    return await Promise.race([call.then((v) => v, (e: unknown) => e), late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('s3LeaseStore behind an endpoint that stops answering (moto behind a stalling proxy)', () => {
  let proxy: StallProxy;
  let client: S3Client;
  const bucket = `lease-stall-${randomUUID().slice(0, 8)}`;
  beforeAll(async () => {
    await requireService('s3');
    const url = new URL(process.env.S3_ENDPOINT!);
    const direct = s3Client(url.origin);
    await direct.send(new CreateBucketCommand({ Bucket: bucket }));
    direct.destroy();
    proxy = await startStallProxy(url.hostname, Number(url.port));
    client = s3Client(`http://127.0.0.1:${proxy.port}`, { maxAttempts: 1 });
  });
  afterAll(async () => {
    client?.destroy();
    await proxy?.close();
  });

  it('D1: a call during the start-up probe gives up with its signal reason when it aborts, not after the probe clean-up', async () => {
    proxy.stalled = true;
    try {
      const store = s3LeaseStore({ client, bucket, prefix: `p-${randomUUID()}/` });
      const signal = AbortSignal.timeout(300);
      const outcome = await settledWithin(store.get('k', { signal }), 3_000);
      expect(outcome).not.toBe(PENDING);
      expect(outcome).toBe(signal.reason);
      expect(outcome).toMatchObject({ name: 'TimeoutError' });
    } finally {
      proxy.stalled = false;
    }
  });

  it('D3: an abort while the GET is on the wire rejects with the signal reason, not the SDK AbortError', async () => {
    const store = s3LeaseStore({ client, bucket, prefix: `p-${randomUUID()}/` });
    await store.probe();
    proxy.stalled = true;
    try {
      const controller = new AbortController();
      const reason = new Error('the caller gave up mid-GET');
      const held = proxy.held();
      const pending = store.get('k', { signal: controller.signal }).then(() => 'answered', (e: unknown) => e);
      await held;
      controller.abort(reason);
      expect(await settledWithin(pending, 3_000)).toBe(reason);
    } finally {
      proxy.stalled = false;
    }
  });
});

describe.each(['s3', 's3-alt'] as const)('D2: the shared start-up probe on %s', (name) => {
  const backend = useBackend(name);

  it("one caller's abort fails only that caller: the concurrent caller without a signal claims", async () => {
    const { client, bucket } = backend.s3!;
    const store = s3LeaseStore({ client, bucket, prefix: `p-${randomUUID()}/` });
    const aborter = new AbortController();
    const reason = new Error('first caller gave up');
    const first = store.claim({ key: 'a', owner: randomUUID(), leaseMs: 5000 }, { signal: aborter.signal }).catch((e: unknown) => e);
    const second = store.claim({ key: 'b', owner: randomUUID(), leaseMs: 5000 }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 2));
    aborter.abort(reason);
    expect(await second).toMatchObject({ claimed: true, fence: 1 });
    expect(await first).toBe(reason);
  });
});
