/**
 * Connecting, the thaw check and commands give up at the invocation's deadline. Each case
 * is a real outage: a closed port, or a redis-server / FerretDB this file owns frozen with
 * SIGSTOP (the kernel accepts the connection, nothing answers). Invocations arrive through
 * the Lambda adapter with `getRemainingTimeInMillis()`, so the deadline is the provider's
 * and `ctx.signal` aborts `deadlineMarginMs` (500 ms) before it.
 *
 * Before this bound: `mongo()` against a closed port answered after 5,003 ms against a
 * 1,500 ms deadline, and a Redis outage made calls answer after 7.3–12.3 s against 3 s.
 * The assertions are about the answer arriving within the deadline the platform gave
 * (behaviour), with its typed error — not about speed. No clock is read: each invocation starts
 * a timer for the platform's deadline together with the Lambda context's clock, and an answer
 * (or the function's own failed await) is "in time" when it came before that timer fired — an
 * order of two events. The handler's own bound (the deadline less the margin) is a timer due
 * earlier, so a loaded machine that runs timers late still runs it first.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { handler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { mongo } from '../src/mongodb.js';
import { redis } from '../src/redis.js';
import { apiGatewayV2 } from '../../../test/support/events.js';
import { ferretdbAvailable, freePort, startFerretDB, startRedis, type OwnServer } from '../../../test/support/servers.js';
import { useMongoAdmin } from './support/mongo-admin.js';
import { startProxy } from './support/proxy.js';

const prefix = `steadyfn:deadline:${randomUUID().slice(0, 8)}`;

/** A Lambda context whose clock runs out `ms` after it is made. */
function lambdaContext(ms: number) {
  const deadline = Date.now() + ms;
  return { awsRequestId: randomUUID(), functionName: 'orders', getRemainingTimeInMillis: () => deadline - Date.now() };
}

/** Whether the platform's deadline of an invocation has come: set by a timer started with its Lambda context. */
interface PlatformDeadline {
  passed: boolean;
}

/**
 * The platform deadline of the latest invocation `invokeWithin` started: what the function in
 * `app` reads when its await fails (the tests that look at it run one invocation at a time).
 */
let platform: PlatformDeadline = { passed: false };

interface Answer {
  status: number;
  code: string | undefined;
  /** The platform's deadline timer had fired when the answer came (the provider would have stopped the invocation). */
  late: boolean;
}

/** Calls `main` as Lambda would with `deadlineMs` on the clock; the HTTP answer, and whether it came after the platform's deadline. */
async function invokeWithin(main: (event: unknown, context: unknown) => Promise<unknown>, deadlineMs: number): Promise<Answer> {
  const deadline: PlatformDeadline = { passed: false };
  platform = deadline;
  const context = lambdaContext(deadlineMs);
  const timer = setTimeout(() => (deadline.passed = true), deadlineMs);
  try {
    const res = (await main(apiGatewayV2({}), context)) as { statusCode: number; body: string };
    const late = deadline.passed;
    const body = JSON.parse(res.body) as { code?: string };
    return { status: res.statusCode, code: body.code, late };
  } finally {
    clearTimeout(timer);
  }
}

afterEach(async () => {
  await closeAll();
});

describe('mongo(): connecting is bounded by the deadline', () => {
  it('against a closed port with a 1,500 ms deadline: DEADLINE_EXCEEDED within it (was 503 after 5,003 ms)', async () => {
    const port = await freePort();
    const store = mongo({ uri: `mongodb://127.0.0.1:${port}/`, db: 'steadyfn_deadline', name: 'closed-port' });
    const main = handler({ use: [connections({ mongo: store }, { closeOnSigterm: false })], logSink: () => undefined }, async () => ({ ok: true }));
    // Before the platform's deadline (its timer had not fired), not after the driver's 5 s.
    expect(await invokeWithin(main, 1_500)).toEqual({ status: 504, code: 'DEADLINE_EXCEEDED', late: false });
    // The abandoned connect was stopped, not left running: nothing is cached or connecting.
    expect(store.peek()).toBeUndefined();
    expect(store.stats).toMatchObject({ connects: 0, connectFailures: 1 });
  });

  it('against a frozen FerretDB: DEADLINE_EXCEEDED within the deadline, and a connect once it answers', async () => {
    if (!ferretdbAvailable()) throw new Error('FerretDB binary missing: run `bash test/services/services.sh start` (it builds .services/bin/ferretdb-local)');
    const own = await startFerretDB();
    try {
      own.freeze();
      const store = mongo({ uri: own.uri, db: 'steadyfn_deadline', name: 'frozen-ferretdb' });
      const main = handler({ use: [connections({ mongo: store }, { closeOnSigterm: false })], logSink: () => undefined }, async (_i, ctx) => ctx.mongo.db.command({ ping: 1 }));
      // Before the platform's deadline, while the server was still frozen (thawed only after the answer).
      expect(await invokeWithin(main, 1_500)).toEqual({ status: 504, code: 'DEADLINE_EXCEEDED', late: false });
      own.thaw();
      await expect(invokeWithin(main, 10_000)).resolves.toMatchObject({ status: 200 });
      expect(store.stats.connects).toBe(1);
    } finally {
      await closeAll();
      await own.dispose();
    }
  });
});

describe("mongo(): the thaw check's wait for the driver's monitor is bounded by the deadline", () => {
  const db = `deadline_${randomUUID().slice(0, 8)}`;
  const mongoAdmin = useMongoAdmin({ drop: [db] });

  it('after a pool clear, with a monitor wait (its grace) of 20 s: DEADLINE_EXCEEDED within a 1,500 ms deadline, no verdict on the client', async () => {
    const proxy = await startProxy(Number(new URL(process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27117/').port));
    try {
      // minHeartbeatFrequencyMS 10 s: the ping, after the reset below, may wait 2 × 10 s for the monitor.
      const store = mongo({ uri: `mongodb://127.0.0.1:${proxy.port}/`, db, name: 'monitor-wait', options: { heartbeatFrequencyMS: 60_000, minHeartbeatFrequencyMS: 10_000 } });
      const seen: Array<{ code: string | undefined; late: boolean }> = [];
      const main = handler({ use: [connections({ mongo: store }, { closeOnSigterm: false })], logSink: () => undefined }, async (_i, ctx) => {
        try {
          await ctx.mongo.db.collection('docs').insertOne({ at: 1 });
        } catch (err) {
          seen.push({ code: (err as { code?: string }).code, late: platform.passed });
          throw err;
        }
        return { ok: true };
      });
      await expect(invokeWithin(main, 10_000)).resolves.toMatchObject({ status: 200 });
      proxy.halfOpenAll();
      await expect(invokeWithin(main, 10_000)).resolves.toMatchObject({ status: 503, code: 'CONNECTION_LOST' });
      seen.length = 0;
      expect(await invokeWithin(main, 1_500)).toEqual({ status: 504, code: 'DEADLINE_EXCEEDED', late: false });
      // The check comes before the function, which was not run.
      expect(seen).toEqual([]);
      expect(store.stats).toMatchObject({ pings: 1, pingFailures: 0, reconnects: 0 });
      expect(await mongoAdmin.db(db).collection('docs').countDocuments()).toBe(1);
    } finally {
      await closeAll();
      await proxy.close();
    }
  });
});

describe('redis(): an outage is bounded by the deadline', () => {
  let server: OwnServer & { url: string };
  let admin: Redis;

  beforeAll(async () => {
    server = await startRedis();
    admin = new Redis(server.url, { lazyConnect: true });
    admin.on('error', () => undefined);
    await admin.connect();
  });

  afterAll(async () => {
    server.thaw();
    admin?.disconnect();
    await server?.dispose();
  });

  afterEach(() => {
    server.thaw();
  });

  /** Connections the server holds besides the admin's own, once it answers again. */
  async function otherClients(): Promise<number> {
    const list = await admin.client('LIST');
    return String(list).trim().split('\n').length - 1;
  }

  function app(handle: ReturnType<typeof redis>) {
    const seen: Array<{ code: string | undefined; late: boolean }> = [];
    const main = handler({ use: [connections({ redis: handle }, { closeOnSigterm: false })], logSink: () => undefined }, async (_i, ctx) => {
      try {
        return { stored: await ctx.redis.set(`${prefix}:k`, 'v') };
      } catch (err) {
        // What the function's own await saw, and whether the platform's deadline had come: the command must not hang past it.
        seen.push({ code: (err as { code?: string }).code, late: platform.passed });
        throw err;
      }
    });
    return { main, seen };
  }

  it('a cold connect to a frozen server with a 3 s deadline: DEADLINE_EXCEEDED within it, and the connect is closed', async () => {
    const handle = redis({ url: server.url, name: 'cold-frozen' });
    const { main } = app(handle);
    server.freeze();
    // Before the platform's deadline, while the server was still frozen.
    expect(await invokeWithin(main, 3_000)).toEqual({ status: 504, code: 'DEADLINE_EXCEEDED', late: false });
    server.thaw();
    // No connect outlived the invocation that asked for it.
    for (let i = 0; i < 50 && (await otherClients()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await otherClients()).toBe(0);
    await expect(invokeWithin(main, 3_000)).resolves.toMatchObject({ status: 200 });
  });

  it('a warm command on a server frozen mid-way: the command itself gives up at the signal, and the next invocation checks the client', async () => {
    const handle = redis({ url: server.url, name: 'warm-frozen' });
    const { main, seen } = app(handle);
    await expect(invokeWithin(main, 3_000)).resolves.toMatchObject({ status: 200 });
    server.freeze();
    expect(await invokeWithin(main, 3_000)).toEqual({ status: 504, code: 'DEADLINE_EXCEEDED', late: false });
    // The function's own await failed too (it did not hang until the thaw), before the platform's deadline.
    expect(seen).toEqual([{ code: 'DEADLINE_EXCEEDED', late: false }]);
    server.thaw();
    const pings = handle.stats.pings;
    await expect(invokeWithin(main, 3_000)).resolves.toMatchObject({ status: 200 });
    // Cut off by the deadline, the client was suspect: it proved itself with one ping.
    expect(handle.stats.pings).toBe(pings + 1);
  });

  it('a thaw check against a frozen server is bounded by the deadline, not by pingTimeoutMs (5 s)', async () => {
    let clock = 0;
    const handle = redis({ url: server.url, name: 'ping-frozen', idleThresholdMs: 1_000, pingTimeoutMs: 5_000, now: () => clock });
    const { main } = app(handle);
    await expect(invokeWithin(main, 3_000)).resolves.toMatchObject({ status: 200 });
    clock += 60_000;
    server.freeze();
    // Before the platform's deadline, long before pingTimeoutMs would have ended the ping.
    expect(await invokeWithin(main, 3_000)).toEqual({ status: 504, code: 'DEADLINE_EXCEEDED', late: false });
    // No verdict on the client: neither a failed ping nor a rebuild was counted.
    expect(handle.stats).toMatchObject({ pingFailures: 0, reconnects: 0 });
    server.thaw();
    await expect(invokeWithin(main, 3_000)).resolves.toMatchObject({ status: 200 });
  });

  it("a thaw check behind another caller's BLPOP (30 s left, its grace) still ends at the deadline: DEADLINE_EXCEEDED within it, the client kept", async () => {
    let clock = 0;
    const handle = redis({ url: server.url, name: 'ping-behind-blpop', idleThresholdMs: 1_000, now: () => clock });
    const { main, seen } = app(handle);
    await expect(invokeWithin(main, 3_000)).resolves.toMatchObject({ status: 200 });
    const key = `${prefix}:queue:${randomUUID()}`;
    const consumer = await handle.get({ signal: AbortSignal.timeout(60_000) });
    const blocked = consumer.blpop(key, 30);
    clock += 60_000;
    // The ping may wait pingTimeoutMs + what is left of the BLPOP's 30 s; the invocation may not.
    expect(await invokeWithin(main, 1_500)).toEqual({ status: 504, code: 'DEADLINE_EXCEEDED', late: false });
    // The check comes before the function, which was not run (nothing of it waits on past the answer).
    expect(seen).toEqual([]);
    expect(handle.stats).toMatchObject({ pingFailures: 0, reconnects: 0 });
    await admin.lpush(key, 'job');
    expect(await blocked).toEqual([key, 'job']);
    await expect(invokeWithin(main, 3_000)).resolves.toMatchObject({ status: 200 });
    expect(handle.stats).toMatchObject({ connects: 1, reconnects: 0 });
  });

  it('a shared connect lives as long as one waiter still has time: the short invocation gives up, the long one connects', async () => {
    const handle = redis({ url: server.url, name: 'shared-frozen' });
    const { main } = app(handle);
    server.freeze();
    const short = invokeWithin(main, 1_500);
    const long = invokeWithin(main, 8_000);
    await expect(short).resolves.toMatchObject({ status: 504, code: 'DEADLINE_EXCEEDED' });
    server.thaw();
    await expect(long).resolves.toMatchObject({ status: 200 });
    expect(handle.stats).toMatchObject({ connects: 1, connectFailures: 0 });
  });

  it('a closed port: CONNECTION_UNAVAILABLE (retryable) at once, long before the deadline', async () => {
    const port = await freePort();
    const handle = redis({ url: `redis://127.0.0.1:${port}`, name: 'closed-port' });
    const { main } = app(handle);
    // 503, not the 504 the handler answers at its bound: the refusal came before the deadline less the margin.
    expect(await invokeWithin(main, 3_000)).toEqual({ status: 503, code: 'CONNECTION_UNAVAILABLE', late: false });
  });

  it('outside an invocation, a caller passes its own signal', async () => {
    const handle = redis({ url: server.url, name: 'own-signal' });
    await handle.get();
    server.freeze();
    const reason = new Error('caller gave up');
    await expect(handle.run((c) => c.get(`${prefix}:k`), { signal: AbortSignal.timeout(200) })).rejects.toMatchObject({ name: 'TimeoutError' });
    const controller = new AbortController();
    const pending = handle.read((c) => c.get(`${prefix}:k`), { signal: controller.signal });
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});
