/**
 * Replays of bug reports filed against the drivers this package wraps, as serverless users met
 * them (ioredis, the MongoDB Node driver and mongoose, the AWS SDK v3 in Lambda), run against
 * @steadyfn/connections through the real handler on the real servers. Each `it` names the report
 * it replays and what went wrong there; the assertion is what a user of this package needs
 * instead. Outages are this file's own: a redis-server it starts and stops, or a fault proxy in
 * front of the shared servers — the shared servers are never stopped.
 */
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { handler } from '@steadyfn/handler';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, connections } from '../src/index.js';
import { mongo } from '../src/mongodb.js';
import { redis, type RedisHandle } from '../src/redis.js';
import { s3 } from '../src/s3.js';
import { requireService } from '../../../test/services/env.js';
import { apiGatewayV2 } from '../../../test/support/events.js';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { eventually } from '../../../test/support/wait.js';
import { startProxy, type FaultProxy } from './support/proxy.js';

const lines: string[] = [];
const logLevel = process.env.STEADYFN_LOG_LEVEL;
const run = randomUUID().slice(0, 8);

beforeAll(() => {
  process.env.STEADYFN_LOG_LEVEL = 'info'; // the per-invocation record is logged at info
});

afterEach(async () => {
  await closeAll();
  lines.length = 0;
});

afterAll(() => {
  process.env.STEADYFN_LOG_LEVEL = logLevel;
});

function lastRecord(name: string): Record<string, unknown> | undefined {
  const entry = lines
    .map((l) => JSON.parse(l) as { msg: string; clients?: Record<string, Record<string, unknown>> })
    .filter((l) => l.msg === 'connections')
    .at(-1);
  return entry?.clients?.[name];
}

/** A function that counts its invocations in Redis: INCR is a write, never to be applied twice. */
function counter(handle: RedisHandle, key: string) {
  return handler({ use: [connections({ redis: handle }, { closeOnSigterm: false, logReused: true })], logSink: (line) => lines.push(line) }, async (_input: unknown, ctx) => ctx.redis.incr(key));
}

/** Each invocation's outcome: its value, or its error's code and retryability. */
async function outcome(p: Promise<unknown>): Promise<{ value?: unknown; code?: string; retryable?: boolean }> {
  try {
    return { value: await p };
  } catch (error) {
    const e = error as { code?: string; retryable?: boolean };
    return { code: e.code, retryable: e.retryable };
  }
}

describe('ioredis reports', () => {
  let shared: Redis;
  beforeAll(async () => {
    await requireService('redis');
    shared = new Redis(process.env.REDIS_URL!);
  });
  afterAll(() => shared?.disconnect());

  it('ioredis#1183 and #597 (https://github.com/redis/ioredis/issues/1183): after a thaw the cached client said "ready" and the first command failed with ECONNRESET / "Connection is closed" — here the invocation after a reset succeeds and its write is applied once', async () => {
    const proxy = await startProxy(Number(new URL(process.env.REDIS_URL!).port));
    const key = `peer:conn:${run}:thaw`;
    let clock = 0;
    try {
      const handle = redis({ url: `redis://127.0.0.1:${proxy.port}`, idleThresholdMs: 1_000, pingTimeoutMs: 500, now: () => clock });
      const main = counter(handle, key);
      expect(await main.invoke('a')).toBe(1);
      proxy.resetAll(); // the sockets died while the instance was frozen
      clock += 300_000; // it thaws five minutes later
      expect(await main.invoke('b')).toBe(2);
      expect(lastRecord('redis')).toMatchObject({ state: 'reconnected' });
      expect(await shared.get(key)).toBe('2');
    } finally {
      await proxy.close();
      await shared.del(key);
    }
  });

  it('ioredis#1183, within the idle threshold: a reset the client has not noticed yet — the invocation succeeds or fails retryable, and the counter never counts more than the invocations that succeeded', async () => {
    const proxy = await startProxy(Number(new URL(process.env.REDIS_URL!).port));
    const key = `peer:conn:${run}:unnoticed`;
    try {
      const handle = redis({ url: `redis://127.0.0.1:${proxy.port}` });
      const main = counter(handle, key);
      const results = [await outcome(main.invoke('a'))];
      for (let i = 0; i < 5; i++) {
        proxy.resetAll();
        results.push(await outcome(main.invoke(`r${i}`))); // at once: no idle time, no ping
      }
      const ok = results.filter((r) => 'value' in r);
      for (const r of results) if (!('value' in r)) expect(r).toMatchObject({ retryable: true });
      expect(ok.length).toBeGreaterThanOrEqual(1);
      expect(Number(await shared.get(key))).toBe(ok.length);
      // And the next invocation is fine.
      expect(await main.invoke('last')).toBe(ok.length + 1);
    } finally {
      await proxy.close();
      await shared.del(key);
    }
  });

  it.each(['quit', 'disconnect'] as const)('ioredis#597 (https://github.com/redis/ioredis/issues/597): functions that %s() the cached client at the end of each invocation got "Connection is closed" in the next warm one — here the next invocation rebuilds it and succeeds', async (method) => {
    const key = `peer:conn:${run}:${method}`;
    try {
      const handle = redis({ url: process.env.REDIS_URL });
      const main = handler({ use: [connections({ redis: handle }, { closeOnSigterm: false, logReused: true })], logSink: (line) => lines.push(line) }, async (_input: unknown, ctx) => {
        const n = await ctx.redis.incr(key);
        if (method === 'quit') await ctx.redis.quit(); // "so the function can finish": the peer advice
        else ctx.redis.disconnect();
        return n;
      });
      expect(await main.invoke('a')).toBe(1);
      expect(await main.invoke('b')).toBe(2);
      expect(await main.invoke('c')).toBe(3);
      expect(await shared.get(key)).toBe('3');
    } finally {
      await shared.del(key);
    }
  });

  describe('against a redis-server this file stops', () => {
    let own: OwnServer & { url: string };
    let admin: Redis;
    beforeAll(async () => {
      own = await startRedis();
      admin = new Redis(own.url, { lazyConnect: true, retryStrategy: () => 100 });
      admin.on('error', () => undefined);
    });
    afterAll(async () => {
      admin?.disconnect();
      await own?.dispose();
    });

    it('ioredis#285 and #61 (https://github.com/redis/ioredis/issues/285): with the server down, commands waited in the offline queue for ever and were sent once it came back — here each invocation during the outage fails at once, retryable, and none of their writes is applied later', async () => {
      const key = `peer:conn:${run}:offline`;
      const handle = redis({ url: own.url });
      const main = counter(handle, key);
      expect(await main.invoke('before')).toBe(1);
      await own.stop();
      const during = await Promise.all(Array.from({ length: 5 }, (_, i) => outcome(main.invoke(`down${i}`))));
      for (const r of during) expect(r).toMatchObject({ code: expect.stringMatching(/^CONNECTION_(UNAVAILABLE|LOST)$/), retryable: true });
      // A server without persistence lost the key: the count starts again.
      await own.start();
      expect(await main.invoke('after')).toBe(1);
      await admin.connect().catch(() => undefined);
      await eventually(async () => admin.status === 'ready');
      // A while later, nothing the failed invocations asked for has arrived.
      await new Promise((r) => setTimeout(r, 500));
      expect(await admin.get(key)).toBe('1');
      await admin.del(key);
    });

    it('langfuse PR #12574 (https://github.com/langfuse/langfuse/pull/12574) and mongodb-core#462: with the server hung, ioredis commands (no commandTimeout by default) waited until the function itself timed out — here the command gives up at the invocation\'s deadline with DEADLINE_EXCEEDED (504, retryable), and the invocation after the server recovers succeeds', async () => {
      const key = `peer:conn:${run}:hung`;
      const handle = redis({ url: own.url });
      const main = handler({ use: [connections({ redis: handle }, { closeOnSigterm: false })], logSink: () => undefined }, async (_input: unknown, ctx) => ({ value: await ctx.redis.get(key) }));
      await admin.connect().catch(() => undefined);
      await eventually(async () => admin.status === 'ready');
      await admin.set(key, 'v');
      const call = async (deadlineMs: number) => {
        const deadline = Date.now() + deadlineMs;
        const context = { awsRequestId: randomUUID(), functionName: 'orders', getRemainingTimeInMillis: () => deadline - Date.now() };
        const res = (await main(apiGatewayV2({}), context)) as { statusCode: number; body: string };
        return { status: res.statusCode, body: JSON.parse(res.body) as { code?: string; value?: string } };
      };
      expect(await call(10_000)).toMatchObject({ status: 200, body: { value: 'v' } });
      own.freeze(); // accepts bytes, answers nothing
      try {
        // It answers: no hang until the provider kills the instance.
        expect(await call(1_500)).toMatchObject({ status: 504, body: { code: 'DEADLINE_EXCEEDED' } });
      } finally {
        own.thaw();
      }
      expect(await call(10_000)).toMatchObject({ status: 200, body: { value: 'v' } });
      await admin.del(key);
    });

    it('ioredis#1351 (https://github.com/redis/ioredis/issues/1351): with the server gone, the client kept reconnecting for ever (a reconnect storm from every idle instance) — here it gives up, stays quiet while idle, and the next invocation after the server returns rebuilds it', async () => {
      const proxy = await startProxy(own.port);
      const key = `peer:conn:${run}:storm`;
      try {
        const handle = redis({ url: `redis://127.0.0.1:${proxy.port}` });
        const main = counter(handle, key);
        expect(await main.invoke('before')).toBe(1);
        await own.stop();
        await eventually(() => handle.peek()?.status === 'end', 15_000, 50);
        const attempts = proxy.accepted;
        await new Promise((r) => setTimeout(r, 1_000)); // the instance idles
        expect(proxy.accepted).toBe(attempts); // no connection attempt while nobody asks
        await own.start();
        expect(await main.invoke('after')).toBe(1);
        expect(lastRecord('redis')).toMatchObject({ state: 'reconnected', reconnects: 1 });
      } finally {
        await proxy.close();
      }
    });
  });
});

describe('ioredis reports: a server out of connections', () => {
  let full: OwnServer & { url: string };
  const blockers: Redis[] = [];
  beforeAll(async () => {
    full = await startRedis(['--maxclients', '4']);
  });
  afterAll(async () => {
    for (const b of blockers) b.disconnect();
    await full?.dispose();
  });

  it('ioredis#1348 (https://github.com/redis/ioredis/issues/1348) and DownloadThisVideo#11 (https://github.com/shalvah/DownloadThisVideo/issues/11): a burst of Lambda instances ran Redis out of connections, and the client looped on "ERR max number of clients reached" — here the invocation answers 503 CONNECTION_UNAVAILABLE (retryable, no server detail), and once a connection frees up the next one succeeds', async () => {
    // Every connection the server allows is taken by other instances.
    for (let i = 0; i < 4; i++) {
      const b = new Redis(full.url, { lazyConnect: true, retryStrategy: () => null });
      b.on('error', () => undefined);
      await b.connect();
      await b.ping();
      blockers.push(b);
    }
    const key = `peer:conn:${run}:maxclients`;
    const handle = redis({ url: full.url });
    const main = handler({ use: [connections({ redis: handle }, { closeOnSigterm: false })], logSink: () => undefined }, async (_input: unknown, ctx) => ({ n: await ctx.redis.incr(key) }));
    const call = async () => {
      const deadline = Date.now() + 5_000;
      const context = { awsRequestId: randomUUID(), functionName: 'orders', getRemainingTimeInMillis: () => deadline - Date.now() };
      const res = (await main(apiGatewayV2({}), context)) as { statusCode: number; body: string };
      return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
    };
    const refused = await call();
    expect(refused).toMatchObject({ status: 503, body: { code: 'CONNECTION_UNAVAILABLE' } });
    expect(JSON.stringify(refused.body)).not.toContain('max number of clients');
    blockers.pop()!.disconnect(); // another instance goes away
    await eventually(async () => {
      const probe = await call();
      return probe.status === 200;
    }, 10_000, 100);
    expect(await call()).toMatchObject({ status: 200 });
  });
});

describe('MongoDB driver reports (FerretDB behind a fault proxy)', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    await requireService('mongodb');
    proxy = await startProxy(Number(new URL(process.env.MONGODB_URI!).port));
  });
  afterAll(async () => {
    await proxy?.close();
  });
  const viaProxy = (): string => `mongodb://127.0.0.1:${proxy.port}/`;

  function app(handle: ReturnType<typeof mongo>) {
    return handler({ use: [connections({ mongo: handle }, { closeOnSigterm: false, logReused: true })], logSink: (line) => lines.push(line) }, async (input, ctx) => {
      const items = ctx.mongo.db.collection<{ _id: string; n: number }>(`peer_${run}`);
      await items.updateOne({ _id: String(input) }, { $inc: { n: 1 } }, { upsert: true });
      return (await items.findOne({ _id: String(input) }))?.n;
    });
  }

  it('mongoose#8359 and mongodb-core#462 (https://github.com/Automattic/mongoose/issues/8359): the server dropped an idle Lambda\'s connection, the client still reported connected, and queries hung until the function timed out — here the thaw check finds the dead connection, the client is rebuilt, and the invocation succeeds', async () => {
    let clock = 0;
    const handle = mongo({ uri: viaProxy(), db: 'steadyfn_conn_peer', idleThresholdMs: 1_000, pingTimeoutMs: 300, now: () => clock });
    const main = app(handle);
    const id = randomUUID();
    expect(await main.invoke(id)).toBe(1);
    proxy.blackholeAll(); // silently dead: no RST, nothing answers
    clock += 600_000;
    expect(await main.invoke(id)).toBe(2);
    expect(lastRecord('mongo')).toMatchObject({ state: 'reconnected', reconnects: 1 });
    await (await handle.get()).db.collection(`peer_${run}`).drop().catch(() => undefined);
  });

  it('mongoose#8359, without a thaw in between: a query on a silently dead pooled connection hung until the function timed out, and the next invocation hung again — here a query through the handle gives up at the deadline (504, retryable), and the next invocation, checked before use, succeeds', async () => {
    let clock = 0;
    const handle = mongo({ uri: viaProxy(), db: 'steadyfn_conn_peer', idleThresholdMs: 60_000, pingTimeoutMs: 300, now: () => clock });
    const main = handler({ use: [connections({ mongo: handle }, { closeOnSigterm: false, logReused: true })], logSink: (line) => lines.push(line) }, async (input: unknown) =>
      handle.read(async ({ db }) => (await db.collection<{ _id: string; n: number }>(`peer_${run}`).findOne({ _id: String(input) }))?.n ?? 0),
    );
    const call = async (deadlineMs: number) => {
      const deadline = Date.now() + deadlineMs;
      const context = { awsRequestId: randomUUID(), functionName: 'orders', getRemainingTimeInMillis: () => deadline - Date.now() };
      const res = (await main(apiGatewayV2({}), context)) as { statusCode: number; body: string };
      return { status: res.statusCode, body: JSON.parse(res.body) as unknown };
    };
    expect(await call(10_000)).toMatchObject({ status: 200 });
    proxy.blackholeAll();
    clock += 1_000; // well within the idle threshold: no thaw check would run
    expect(await call(2_000)).toMatchObject({ status: 504, body: { code: 'DEADLINE_EXCEEDED' } });
    clock += 1_000;
    expect(await call(10_000)).toMatchObject({ status: 200 });
  });

  it('mongodb/docs-worker-pool PR #840 (https://github.com/mongodb/docs-worker-pool/pull/840) and node-mongodb-native PR #2615: functions that close the cached MongoClient at the end of each invocation met a closed client ("Topology is closed") in the next warm one — here the next invocation, within the idle threshold, still succeeds', async () => {
    const handle = mongo({ uri: viaProxy(), db: 'steadyfn_conn_peer', idleThresholdMs: 600_000 });
    const main = handler({ use: [connections({ mongo: handle }, { closeOnSigterm: false, logReused: true })], logSink: (line) => lines.push(line) }, async (input, ctx) => {
      const items = ctx.mongo.db.collection<{ _id: string; n: number }>(`peer_${run}`);
      await items.updateOne({ _id: String(input) }, { $inc: { n: 1 } }, { upsert: true });
      const n = (await items.findOne({ _id: String(input) }))?.n;
      await ctx.mongo.client.close(); // "so the function can finish": the peer advice
      return n;
    });
    const id = randomUUID();
    expect(await main.invoke(id)).toBe(1);
    expect(await main.invoke(id)).toBe(2);
    expect(await main.invoke(id)).toBe(3);
  });

  it('mongoose#6409 "Guide for AWS Lambda" (https://github.com/Automattic/mongoose/issues/6409) and the Atlas "too many connections" reports: each concurrent cold start opened its own client and pool — here 20 concurrent cold invocations share one client, and the server sees no more sockets than the Lambda profile\'s pool plus its monitor', async () => {
    const before = proxy.accepted;
    const handle = mongo({ uri: viaProxy(), db: 'steadyfn_conn_peer', provider: 'aws' });
    const main = app(handle);
    const ids = Array.from({ length: 20 }, () => randomUUID());
    const results = await Promise.all(ids.map((id) => main.invoke(id)));
    expect(results).toEqual(Array(20).fill(1));
    expect(handle.stats.connects).toBe(1);
    // maxPoolSize 3 on Lambda, one monitoring socket (poll mode): 4 sockets, not 20 pools.
    expect(proxy.accepted - before).toBeLessThanOrEqual(4);
    await (await handle.get()).db.collection(`peer_${run}`).drop().catch(() => undefined);
  });
});

describe('AWS SDK v3 reports (moto behind a fault proxy)', () => {
  it('aws-sdk-js-v3#1196 (https://github.com/aws/aws-sdk-js-v3/issues/1196): a reused S3 client in a warm Lambda failed with "socket hang up" (ECONNRESET) on its kept-alive socket — here the invocation after the reset gets its object, on the same client', async () => {
    await requireService('s3');
    const proxy = await startProxy(Number(new URL(process.env.S3_ENDPOINT!).port));
    const bucket = `peer-conn-${run}`;
    try {
      const files = s3({ config: { endpoint: `http://127.0.0.1:${proxy.port}`, forcePathStyle: true, region: process.env.AWS_REGION ?? 'us-east-1' } });
      const main = handler({ use: [connections({ files }, { closeOnSigterm: false })], logSink: () => undefined }, async (input, ctx) => {
        const key = String(input);
        await ctx.files.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body-${key}` }));
        return (await ctx.files.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString();
      });
      await (await files.get()).send(new CreateBucketCommand({ Bucket: bucket }));
      const client = await files.get();
      expect(await main.invoke('one')).toBe('body-one');
      proxy.resetAll();
      expect(await main.invoke('two')).toBe('body-two');
      expect(await files.get()).toBe(client);
    } finally {
      await proxy.close();
    }
  });
});
