/**
 * An invocation cut off by its deadline leaves a client it had in flight to be checked before its
 * next use (test/review-own-call-cut-off.test.ts): the driver call may hang on a dead socket. Before,
 * every client of the plugin was left so, also those with nothing in flight — a function that hung
 * on something else (a slow API, its own computation) made the next invocation ping each Redis and
 * MongoDB client (one round trip each) and close each AWS client's kept-alive sockets (a new TCP
 * connection). Now a client with no operation in flight at the cut-off is reused as it is. The shared
 * Redis and FerretDB, and gofakes3 (it keeps connections alive) behind a loopback proxy that counts
 * connections.
 */
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { handler } from '@steadyfn/handler';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connections, connectionsRecord } from '../src/index.js';
import { mongo } from '../src/mongodb.js';
import { redis } from '../src/redis.js';
import { s3 } from '../src/s3.js';
import { requireService } from '../../../test/services/env.js';
import { startProxy, type FaultProxy } from './support/proxy.js';

let s3Proxy: FaultProxy | undefined;
afterEach(async () => {
  await closeAll();
  await s3Proxy?.close();
});

describe('an invocation cut off by its deadline while no client had an operation in flight', () => {
  it('the next invocation reuses every client as it is: no ping, no new AWS connection', async () => {
    await requireService('mongodb');
    await requireService('s3-alt');
    s3Proxy = await startProxy(Number(new URL(process.env.S3_ALT_ENDPOINT!).port));
    const bucket = `cut-off-unused-${randomUUID().slice(0, 8)}`;
    // A still idle clock: under load no idle threshold passes between the invocations, only the cut-off counts.
    const cache = redis({ url: process.env.REDIS_URL, name: `cut-off-unused-redis-${randomUUID()}`, now: () => 0 });
    const store = mongo({ uri: process.env.MONGODB_URI, db: 'steadyfn_cut_off_unused', name: `cut-off-unused-mongo-${randomUUID()}`, now: () => 0 });
    const files = s3({ name: `cut-off-unused-s3-${randomUUID()}`, now: () => 0, config: { endpoint: `http://127.0.0.1:${s3Proxy.port}`, forcePathStyle: true, region: 'us-east-1' } });
    const main = handler({ use: [connections({ cache, store, files }, { closeOnSigterm: false })], deadlineMarginMs: 100, logSink: () => undefined }, async (input: unknown, ctx) => {
      if (input === 'hang') return new Promise(() => undefined); // hangs on something that is none of the clients
      await Promise.all([ctx.cache.get('k'), ctx.store.db.command({ ping: 1 }), ctx.files.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }))]);
      const record = connectionsRecord(ctx);
      return { cache: record?.cache?.state, store: record?.store?.state, files: record?.files?.state };
    });
    const call = (input: string, deadlineMs: number) => main.invoke(input, { deadline: Date.now() + deadlineMs }).catch((err: unknown) => (err as { code?: unknown }).code);
    await (await files.get()).send(new CreateBucketCommand({ Bucket: bucket }));
    expect(await call('use', 20_000)).toEqual({ cache: 'new', store: 'new', files: 'reused' });
    const accepted = s3Proxy.accepted;
    expect(await call('hang', 1_000)).toBe('DEADLINE_EXCEEDED');
    // Before: { cache: 'revalidated', store: 'revalidated' } (a ping each), and a new S3 connection.
    expect(await call('use', 20_000)).toEqual({ cache: 'reused', store: 'reused', files: 'reused' });
    expect(s3Proxy.accepted).toBe(accepted);
  }, 60_000);
});
