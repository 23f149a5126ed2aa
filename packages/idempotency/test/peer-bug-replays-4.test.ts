/**
 * More replays of peer idempotency bug reports (see peer-bug-replays.test.ts), on Redis, Redis
 * Cluster and FerretDB through the Lambda adapter, and a claim or completion whose reply a
 * dropped connection lost (the shared Redis behind the reply-cut proxy).
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxiedRedis } from '../../lease/test/support/proxied-redis.js';
import { idempotency, redisStore, type IdempotencyOptions, type IdempotencyStore } from '../src/index.js';
import { BACKENDS, deferred, eventually, httpEvent, lambdaContext, silentSink, useBackend } from './support.js';

type LambdaHttp = { statusCode: number; headers: Record<string, string>; body: string };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(BACKENDS)('peer bug replays (4) on %s', (name) => {
  const backend = useBackend(name);

  const make = (fn: (input: any) => unknown, extra: Partial<IdempotencyOptions> = {}) =>
    handler({ name: `peer4-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false, ...extra })] }, fn);
  const call = async (main: ReturnType<typeof make>, init: Parameters<typeof httpEvent>[0], context = lambdaContext()): Promise<LambdaHttp> =>
    (await main.aws(httpEvent(init), context)) as LambdaHttp;

  it('powertools-lambda-typescript#5714 ("overwrites live records when recovering an orphan": a recovering caller wrote over the record from a stale snapshot): after a lease ran out, eight retries at once take it over once — one runs, the rest are told it is in progress or replay it — and the timed-out attempt writes nothing', async () => {
    const gate = deferred();
    const firstDone = deferred();
    let runs = 0;
    // The store as the plugin sees it, each write recorded (and its promise kept) to wait on.
    const writes: Array<{ at: 'complete' | 'release' | 'completeMany'; done: Promise<unknown> }> = [];
    const store = Object.create(backend.store) as IdempotencyStore;
    for (const at of ['complete', 'release', 'completeMany'] as const) {
      (store as any)[at] = (...args: unknown[]) => {
        const done = (backend.store as any)[at](...args) as Promise<unknown>;
        writes.push({ at, done: done.catch(() => undefined) });
        return done;
      };
    }
    const main = make(
      async () => {
        const run = ++runs;
        if (run === 1) {
          await gate.promise; // the first attempt outlives its deadline
          firstDone.resolve();
        } else await sleep(200); // the takeover is still running while its rivals claim
        return { run };
      },
      { store },
    );
    const key = randomUUID();
    const DEADLINE_MS = 2_500;
    const startedAt = Date.now();
    const timedOut = await call(main, { key, body: { sku: 'lamp' } }, lambdaContext(randomUUID(), 'orders', DEADLINE_MS));
    expect(timedOut.statusCode).toBeGreaterThanOrEqual(500);
    expect(runs).toBe(1);
    // Wait until the lease has ended (a retry no longer told 409), without taking it over.
    await sleep(Math.max(0, startedAt + DEADLINE_MS - Date.now()));
    const answers = await Promise.all(Array.from({ length: 8 }, () => call(main, { key, body: { sku: 'lamp' } })));
    const winners = answers.filter((a) => a.statusCode === 200 && a.headers['Idempotency-Replayed'] !== 'true');
    if (winners.length === 0) {
      // A loaded machine got every retry in before the store's clock ended the lease: all 409, none ran.
      expect(answers.every((a) => a.statusCode === 409)).toBe(true);
      await eventually(async () => (await call(main, { key, body: { sku: 'lamp' } })).statusCode === 200, 10_000, 100);
    } else {
      expect(winners).toHaveLength(1);
      for (const a of answers) expect([200, 409]).toContain(a.statusCode);
    }
    expect(runs).toBe(2);
    const writesBefore = writes.length;
    gate.resolve(); // the timed-out attempt finishes: nothing of it is written
    await firstDone.promise;
    // A settle chained on the late result starts within the turns after it: let them run, then
    // wait for every store write started meanwhile to finish.
    await new Promise((r) => setImmediate(r));
    await Promise.all(writes.map((w) => w.done));
    expect(writes.slice(writesBefore).map((w) => w.at)).toEqual([]);
    const later = await call(main, { key, body: { sku: 'lamp' } });
    expect(later.headers['Idempotency-Replayed']).toBe('true');
    expect(JSON.parse(later.body)).toEqual({ run: 2 });
    expect(runs).toBe(2);
  });

  it('powertools-lambda-typescript#5678 and powertools-lambda-python#8386: an in-progress record with no execution deadline was taken for an orphan, so an overlapping call ran too — here a call with no deadline holds its key for leaseMs', async () => {
    const gate = deferred();
    let runs = 0;
    const LEASE_MS = 30_000;
    const main = make(
      async () => {
        const run = ++runs;
        await gate.promise;
        return { run };
      },
      { leaseMs: LEASE_MS },
    );
    const order = { orderId: randomUUID() };
    // main.invoke without a deadline option: ctx.deadline is +Infinity.
    const first = main.invoke(order);
    await eventually(() => runs === 1);
    await expect(main.invoke(order)).rejects.toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS' });
    // Still held after 1% of the lease (a lease ended at once, or soon, by the missing deadline
    // would be taken over here); the other 99% (29.7 s) leaves room for any stall of a loaded machine.
    await sleep(LEASE_MS / 100);
    await expect(main.invoke(order)).rejects.toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS' });
    expect(runs).toBe(1);
    gate.resolve();
    expect(await first).toEqual({ run: 1 });
    expect(await main.invoke(order)).toEqual({ run: 1 });
    expect(runs).toBe(1);
  });

  it('paveg/hono-idempotency#91 ("same-fingerprint concurrent race returns true for both callers"): concurrent deliveries with the same request id and payload (a Lambda async retry keeps its awsRequestId) run once — the record is held by a per-attempt token, not by anything the duplicates share', async () => {
    const gate = deferred();
    let runs = 0;
    const main = make(async () => {
      const run = ++runs;
      await gate.promise;
      return { run };
    });
    const key = randomUUID();
    const requestId = randomUUID();
    let answered = 0;
    const pending = Array.from({ length: 6 }, () => call(main, { key, body: { amount: 5 } }, lambdaContext(requestId)).finally(() => answered++));
    await eventually(() => runs === 1);
    // The five duplicates answer while the first still runs: open its gate only then.
    await eventually(() => answered === 5, 20_000);
    expect(runs).toBe(1);
    gate.resolve();
    const answers = await Promise.all(pending);
    expect(runs).toBe(1);
    expect(answers.filter((a) => a.statusCode === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.statusCode === 409)).toHaveLength(5);
    const replay = await call(main, { key, body: { amount: 5 } }, lambdaContext(requestId));
    expect(replay.headers['Idempotency-Replayed']).toBe('true');
    expect(JSON.parse(replay.body)).toEqual({ run: 1 });
  });

  it('LerianStudio/midaz#1799 ("cleanup uses raw header value instead of internal key, leaving stale locks"): after a failure the record released is the one claimed (its namespaced store key, not the key as sent), so the retry runs at once instead of 409 until the lease ends', async () => {
    let runs = 0;
    const main = make(
      () => {
        runs++;
        if (runs === 1) throw new Error('downstream failed');
        return { run: runs };
      },
      { namespace: `ledger-${randomUUID()}` },
    );
    const key = randomUUID();
    expect((await call(main, { key, body: { amount: 1 } })).statusCode).toBe(500);
    const retry = await call(main, { key, body: { amount: 1 } });
    expect(retry.statusCode).toBe(200);
    expect(JSON.parse(retry.body)).toEqual({ run: 2 });
    expect(runs).toBe(2);
  });

  it('paveg/hono-idempotency#92 ("completed record with undefined response causes irrecoverable 409", indistinguishable from a running request): a completed record whose answer cannot be read is a terminal 500 IDEMPOTENCY_RECORD_CORRUPT — not 409 in progress, not run again, the stored text not shown', async () => {
    let runs = 0;
    const garbage = '{"k":"v","v":"secret-token-123"'; // cut short
    // The completion writes an answer this plugin cannot read back (a torn or foreign write).
    const tearing = Object.create(backend.store) as IdempotencyStore;
    tearing.complete = (request, options) => backend.store.complete({ ...request, result: garbage }, options);
    const name = `peer4-corrupt-${randomUUID()}`;
    const fn = () => ({ run: ++runs });
    const writer = handler({ name, logSink: silentSink(), use: [idempotency({ store: tearing, ttlMs: 3_600_000, localCache: false })] }, fn);
    const reader = handler({ name, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] }, fn);
    const key = randomUUID();
    expect(JSON.parse((await call(writer, { key, body: { amount: 1 } })).body)).toEqual({ run: 1 });
    for (let i = 0; i < 2; i++) {
      const res = await call(reader, { key, body: { amount: 1 } });
      expect(res.statusCode).toBe(500);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'IDEMPOTENCY_RECORD_CORRUPT' });
      expect(res.body).not.toContain('secret-token-123');
    }
    expect(runs).toBe(1);
  });
});

describe('a dropped connection mid-claim or mid-completion (the shared Redis behind the reply-cut proxy)', () => {
  const rig = proxiedRedis('idem-cut');
  let client: Redis;
  // A lost reply's command not resent after the reconnect: the claim rejects, the store gives the key back.
  let noResend: Redis;
  beforeAll(async () => {
    // Default ioredis options, as the README's first example: a lost reply's command is resent after the reconnect.
    client = new Redis(`redis://127.0.0.1:${rig.proxy.port}`);
    noResend = new Redis(`redis://127.0.0.1:${rig.proxy.port}`, { autoResendUnfulfilledCommands: false });
    for (const c of [client, noResend]) c.on('error', () => undefined);
  });
  afterAll(() => {
    client?.disconnect();
    noResend?.disconnect();
  });

  const make = (fn: () => unknown, on: Redis = client) =>
    handler({ name: `idem-cut-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store: redisStore({ client: on, prefix: rig.prefix }), ttlMs: 3_600_000, localCache: false })] }, fn);
  const call = async (main: ReturnType<typeof make>, key: string): Promise<LambdaHttp> =>
    (await main.aws(httpEvent({ key, body: { amount: 1 } }), lambdaContext())) as LambdaHttp;

  it.each([
    ['resent by ioredis after its reconnect', 200],
    ['not resent (autoResendUnfulfilledCommands: false)', 503],
  ] as const)('the claim ran but its reply was lost, %s: the invocation runs the function once, or answers 503 with the key given back — a retry then runs at once (never 409 until the lease ends)', async (how, status) => {
    let runs = 0;
    const main = make(() => ({ run: ++runs }), how.startsWith('resent') ? client : noResend);
    await call(main, randomUUID()); // loads the scripts: the next request holding the prefix is the claim
    runs = 0;
    const cutsBefore = rig.proxy.cuts;
    rig.proxy.on(rig.prefix, 'cut');
    const key = randomUUID();
    const first = await call(main, key);
    expect(rig.proxy.cuts).toBe(cutsBefore + 1);
    expect(first.statusCode).toBe(status);
    const retry = await call(main, key);
    expect(retry.statusCode).toBe(200);
    expect(JSON.parse(retry.body)).toEqual({ run: 1 });
    expect(runs).toBe(1);
  });

  it('the completion ran but its reply was lost: the caller gets its answer and a retry replays it', async () => {
    let runs = 0;
    const main = make(() => ({ run: ++runs }));
    await call(main, randomUUID());
    runs = 0;
    const cutsBefore = rig.proxy.cuts;
    rig.proxy.on(rig.prefix, async () => undefined); // the claim passes
    rig.proxy.on(rig.prefix, 'cut'); // the completion's reply is lost
    const key = randomUUID();
    const first = await call(main, key);
    expect(rig.proxy.cuts).toBe(cutsBefore + 1);
    expect(first.statusCode).toBe(200);
    expect(JSON.parse(first.body)).toEqual({ run: 1 });
    const retry = await call(main, key);
    expect(retry.headers['Idempotency-Replayed']).toBe('true');
    expect(JSON.parse(retry.body)).toEqual({ run: 1 });
    expect(runs).toBe(1);
  });
});
