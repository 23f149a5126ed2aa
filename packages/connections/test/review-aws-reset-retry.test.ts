/**
 * Replay of aws-sdk-js-v3#3905 (https://github.com/aws/aws-sdk-js-v3/issues/3905), "ECONNRESET
 * triggers retries; but the retry is not successful" (S3 from a warm Lambda): the server side of
 * every kept-alive socket was gone (a restart, or a NAT / load balancer that dropped its state,
 * while the instance was frozen), and each of the SDK's attempts took the next idle kept-alive
 * socket, met the same reset, and the request failed with `ECONNRESET` after `maxAttempts` —
 * here a 500 INTERNAL. Within the idle threshold nothing closed those sockets before the request.
 * Now an attempt that failed with a reset closes the client's idle kept-alive sockets, so the
 * SDK's retry opens a new one. gofakes3 (it keeps connections alive) behind a fault proxy whose
 * connections turn half-open: the client's next write is answered with a reset.
 */
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { handler } from '@steadyfn/handler';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connections } from '../src/index.js';
import { s3 } from '../src/s3.js';
import { requireService } from '../../../test/services/env.js';
import { startProxy, type FaultProxy } from './support/proxy.js';

let proxy: FaultProxy | undefined;
afterEach(async () => {
  await closeAll();
  await proxy?.close();
});

describe('aws-sdk-js-v3#3905: every kept-alive socket reset, within the idle threshold', () => {
  it('the request succeeds on a new socket instead of failing after one reset per attempt', async () => {
    await requireService('s3-alt');
    proxy = await startProxy(Number(new URL(process.env.S3_ALT_ENDPOINT!).port));
    const bucket = `review-reset-${randomUUID().slice(0, 8)}`;
    // The idle clock stands still: no request comes after the idle threshold.
    const files = s3({ name: 'review-s3-reset', now: () => 0, config: { endpoint: `http://127.0.0.1:${proxy.port}`, forcePathStyle: true, region: 'us-east-1' } });
    const main = handler({ use: [connections({ files }, { closeOnSigterm: false })], logSink: () => undefined }, async (input: unknown, ctx) => {
      const keys = Array.from({ length: Number(input) }, (_, i) => `k${i}`);
      // Sent in one tick: each request opens its own socket, all kept alive afterwards.
      await Promise.all(keys.map((Key) => ctx.files.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key }))));
      return (await ctx.files.send(new GetObjectCommand({ Bucket: bucket, Key: 'k0' }))).Body?.transformToString();
    });
    const call = (n: number) => main.invoke(n, { deadline: Date.now() + 20_000 }).catch((err: unknown) => (err as { code?: unknown }).code);
    await (await files.get()).send(new CreateBucketCommand({ Bucket: bucket }));
    expect(await call(6)).toBe('k0');
    expect(proxy.accepted).toBeGreaterThanOrEqual(3); // at least maxAttempts (3) sockets kept alive
    proxy.halfOpenAll();
    // Before: INTERNAL (the SDK's ECONNRESET after three attempts, each on a dead kept-alive socket).
    expect(await call(1)).toBe('k0');
  }, 30_000);
});
