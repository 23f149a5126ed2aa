/**
 * The function's own driver call — `ctx.mongo`, not through `handle.run` — on a silently dead
 * pooled connection (a NAT mapping or firewall state gone: bytes vanish, nothing answers) within
 * the idle threshold, so no thaw check runs. The call hangs until the invocation's deadline
 * (504 DEADLINE_EXCEEDED, as it should); but the client was trusted as before, so the next
 * invocation took the next dead pooled connection and hung again, until the driver's own monitor
 * noticed (its heartbeat timed out and the pool was cleared: measured, the next invocation
 * answered after ~12 s, so every invocation of a function with a shorter timeout failed with
 * 504 meanwhile) — mongoose#8359, mongodb-core#462: queries "hung until the function timed
 * out", over and over. Now an invocation cut off by its deadline leaves its clients to be
 * checked (one ping) before their next use. FerretDB behind a fault proxy.
 *
 * The same for `ctx.files.send` (S3, no thaw check): a request hung on a dead kept-alive socket
 * until the deadline, and the next invocation took the client's next idle kept-alive socket,
 * dead too (one 504 per socket). Now the cut-off closes the client's idle kept-alive sockets.
 * gofakes3 (it keeps connections alive) behind a fault proxy.
 *
 * And for `ctx.cache.pipeline().exec()` (Redis): a pipeline is the client's own, not a command of
 * the view (which distrusts a client whose command was cut off), so a function that only used
 * pipelines hung on the same dead socket in every invocation until one came after the idle
 * threshold. The shared Redis behind a fault proxy.
 */
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { handler } from '@steadyfn/handler';
import type { MongoClient, Db } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, connections, connectionsRecord } from '../src/index.js';
import { mongo } from '../src/mongodb.js';
import { redis } from '../src/redis.js';
import { s3 } from '../src/s3.js';
import { requireService } from '../../../test/services/env.js';
import { eventually } from '../../../test/support/wait.js';
import { startProxy, type FaultProxy } from './support/proxy.js';

let proxy: FaultProxy;
beforeAll(async () => {
  await requireService('mongodb');
  proxy = await startProxy(Number(new URL(process.env.MONGODB_URI!).port));
});
afterAll(async () => {
  await proxy?.close();
});
afterEach(async () => {
  await closeAll();
});

describe('an invocation cut off by its deadline inside its own ctx.mongo call', () => {
  it('leaves the client to be checked: the next invocation within the idle threshold runs on a rebuilt client instead of hanging on the next dead pooled connection', async () => {
    let clock = 0; // the idle clock: invocations come 1 s apart, well within the idle threshold
    const handle = mongo({ uri: `mongodb://127.0.0.1:${proxy.port}/`, db: 'steadyfn_conn_cutoff', provider: 'aws', pingTimeoutMs: 300, options: { minPoolSize: 3 }, now: () => clock });
    const main = handler({ use: [connections({ mongo: handle }, { closeOnSigterm: false })], logSink: () => undefined }, async (_input: unknown, ctx) => {
      const found = await (ctx.mongo as { db: Db; client: MongoClient }).db.collection<{ _id: string }>('c').findOne({ _id: randomUUID() });
      return { found, state: connectionsRecord(ctx)?.mongo?.state };
    });
    const call = async (deadlineMs: number): Promise<unknown> => {
      try {
        return await main.invoke({}, { deadline: Date.now() + deadlineMs });
      } catch (err) {
        return (err as { code?: unknown }).code;
      }
    };
    expect(await call(20_000)).toEqual({ found: null, state: 'new' });
    // The pool filled to 3 connections (minPoolSize), plus the monitor's: every one of them dies.
    await eventually(() => proxy.accepted >= 4, 20_000);
    proxy.blackholeAll();
    clock += 1_000;
    expect(await call(3_000)).toBe('DEADLINE_EXCEEDED');
    clock += 1_000;
    // Before: the next dead pooled connection, `reused`, hanging until the driver's monitor cleared the pool.
    expect(await call(20_000)).toEqual({ found: null, state: 'reconnected' });
    expect(handle.stats).toMatchObject({ pingFailures: 1, reconnects: 1 });
  }, 60_000);
});

describe('an invocation cut off by its deadline inside its own ctx.files.send (S3)', () => {
  it('closes the client\'s other idle kept-alive sockets: the next invocation within the idle threshold opens a new one instead of hanging on the next dead one', async () => {
    await requireService('s3-alt');
    const s3Proxy = await startProxy(Number(new URL(process.env.S3_ALT_ENDPOINT!).port));
    try {
      const bucket = `review-cutoff-${randomUUID().slice(0, 8)}`;
      const files = s3({ name: 'review-s3-cutoff', now: () => 0, config: { endpoint: `http://127.0.0.1:${s3Proxy.port}`, forcePathStyle: true, region: 'us-east-1' } });
      const main = handler({ use: [connections({ files }, { closeOnSigterm: false })], logSink: () => undefined }, async (input: unknown, ctx) => {
        // Several requests at once: the client keeps several sockets alive afterwards.
        await Promise.all(Array.from({ length: Number(input) }, (_, i) => ctx.files.send(new PutObjectCommand({ Bucket: bucket, Key: `k${i}`, Body: 'x' }))));
        return 'stored';
      });
      const call = (n: number, deadlineMs: number) => main.invoke(n, { deadline: Date.now() + deadlineMs }).catch((err: unknown) => (err as { code?: unknown }).code);
      await (await files.get()).send(new CreateBucketCommand({ Bucket: bucket }));
      expect(await call(3, 20_000)).toBe('stored');
      expect(s3Proxy.accepted).toBeGreaterThanOrEqual(2); // at least two sockets kept alive
      s3Proxy.blackholeAll();
      expect(await call(1, 3_000)).toBe('DEADLINE_EXCEEDED');
      // Before: the next idle kept-alive socket, dead too: DEADLINE_EXCEEDED again, once per socket.
      expect(await call(1, 20_000)).toBe('stored');
    } finally {
      await closeAll();
      await s3Proxy.close();
    }
  }, 60_000);
});

describe('an invocation cut off by its deadline inside its own ctx.redis.pipeline().exec()', () => {
  it('leaves the client to be checked: the next invocation within the idle threshold runs on a rebuilt client instead of hanging on the same dead socket', async () => {
    const redisProxy = await startProxy(Number(new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:16379').port));
    try {
      const key = `review-cutoff:${randomUUID()}`;
      let clock = 0;
      // A pipeline is the client's own (not a command of the view, which distrusts a client whose command was cut off).
      const cache = redis({ url: `redis://127.0.0.1:${redisProxy.port}`, name: 'review-redis-cutoff', pingTimeoutMs: 300, now: () => clock });
      const main = handler({ use: [connections({ cache }, { closeOnSigterm: false })], logSink: () => undefined }, async (_input: unknown, ctx) => {
        const replies = await ctx.cache.pipeline().incr(key).get(key).exec();
        return { value: replies?.[1]?.[1], state: connectionsRecord(ctx)?.cache?.state };
      });
      const call = (deadlineMs: number) => main.invoke({}, { deadline: Date.now() + deadlineMs }).catch((err: unknown) => (err as { code?: unknown }).code);
      expect(await call(20_000)).toEqual({ value: '1', state: 'new' });
      redisProxy.blackholeAll();
      clock += 1_000;
      expect(await call(2_000)).toBe('DEADLINE_EXCEEDED');
      clock += 1_000;
      // Before: `reused`, the same dead socket, DEADLINE_EXCEEDED again, on every invocation until one idled past the threshold.
      expect(await call(20_000)).toEqual({ value: '2', state: 'reconnected' });
    } finally {
      await closeAll();
      await redisProxy.close();
    }
  }, 60_000);
});
