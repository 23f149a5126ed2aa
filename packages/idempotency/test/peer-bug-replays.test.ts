/**
 * Replays of bug reports filed against peer idempotency libraries (Powertools for AWS Lambda
 * in TypeScript, Python, Java; middy users; generic Idempotency-Key middlewares), run against
 * @steadyfn/idempotency through the real handler (Lambda adapter, middy) and the real stores
 * (Redis, Redis Cluster, FerretDB). Each `it` names the report it replays and what went wrong
 * there; the assertion is what our package must do instead.
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { RetryableError, handler, type Context } from '@steadyfn/handler';
import { steadyHandler, toMiddy } from '@steadyfn/handler/middy';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { idempotency, parseIdempotencyKeyHeader, scopeOf, storeKey, type IdempotencyOptions, type IdempotencyStore } from '../src/index.js';
import { killWorker, retryUntilTakenOver, shipRetry, startWorker, workerSuite } from './hang-worker.js';
import { BACKENDS, counting, deferred, eventually, httpEvent, lambdaContext, silentSink, sqsRecord, useBackend } from './support.js';

type LambdaHttp = { statusCode: number; headers: Record<string, string>; body: string; isBase64Encoded: boolean };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A log sink that keeps the lines, to read the codes the plugin logged. */
function recordingSink(): { sink: (line: string) => void; codes(): string[] } {
  const lines: string[] = [];
  return {
    sink: (line) => lines.push(line),
    codes: () =>
      lines.flatMap((l) => {
        try {
          const parsed = JSON.parse(l) as { code?: unknown };
          return typeof parsed.code === 'string' ? [parsed.code] : [];
        } catch {
          return [];
        }
      }),
  };
}

describe.each(BACKENDS)('peer bug replays on %s', (name) => {
  const backend = useBackend(name);

  // The test setup logs errors only; warnings are what these replays read.
  const make = (fn: (input: any, ctx: Context) => unknown, extra: Partial<IdempotencyOptions> & { store?: IdempotencyStore } = {}, logSink: (line: string) => void = silentSink(), fnName = 'orders') =>
    handler({ name: fnName, logSink, logLevel: 'warn', use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false, ...extra })] }, fn);
  const call = async (main: ReturnType<typeof make>, init: Parameters<typeof httpEvent>[0], context = lambdaContext()): Promise<LambdaHttp> =>
    (await main.aws(httpEvent(init), context)) as LambdaHttp;

  /**
   * The store as a sandbox the provider froze or killed sees it: its claims reach the real store,
   * but the completion or release it would send afterwards never arrives.
   */
  const killedInstance = (): IdempotencyStore => ({
    ...backend.store,
    claim: (request, options) => backend.store.claim(request, options),
    claimMany: (requests, options) => backend.store.claimMany(requests, options),
    get: (key, options) => backend.store.get(key, options),
    complete: async () => false,
    release: async () => false,
    completeMany: async (requests) => requests.map(() => false),
  });

  it('powertools-lambda-python#1038 (and powertools-lambda#53): a Lambda timeout left the record INPROGRESS, so every retry failed with AlreadyInProgress — here the lease ends at the invocation deadline (not leaseMs), so the retry after a killed attempt runs', async () => {
    let runs = 0;
    const key = randomUUID();
    const recordKey = storeKey(scopeOf('orders'), { kind: 'header', value: key });
    // The handler answers deadlineMarginMs before the provider's deadline; the lease lasts to the
    // deadline itself. A 3 s margin leaves the checks below 3 s to run inside that lease (with
    // the default 500 ms, a loaded machine's get and call could land after it ended).
    const DEADLINE_MS = 5_000;
    const killed = handler(
      { name: 'orders', logSink: silentSink(), logLevel: 'warn', deadlineMarginMs: 3_000, use: [idempotency({ store: killedInstance(), ttlMs: 3_600_000, localCache: false })] },
      async () => {
        await sleep(DEADLINE_MS + 1_000); // still running when the sandbox is killed at its deadline
        return { never: true };
      },
    );
    const startedAt = Date.now();
    const timedOut = await call(killed, { key, body: { sku: 'lamp' } }, lambdaContext(randomUUID(), 'orders', DEADLINE_MS));
    expect(timedOut.statusCode).toBeGreaterThanOrEqual(500);
    const held = await backend.store.get(recordKey, {});
    expect(held?.status).toBe('in_progress'); // nothing released it: only its lease can
    const main = make(() => ({ run: ++runs }));
    expect((await call(main, { key, body: { sku: 'lamp' } })).statusCode).toBe(409); // still within its deadline
    await sleep(startedAt + DEADLINE_MS - Date.now()); // the killed attempt's deadline, judged by the store's clock
    // Taken over within moments of the deadline — not after leaseMs (5 minutes by default).
    let retry = await call(main, { key, body: { sku: 'lamp' } });
    while (retry.statusCode === 409 && Date.now() < startedAt + DEADLINE_MS + 3_000) {
      await sleep(50);
      retry = await call(main, { key, body: { sku: 'lamp' } });
    }
    expect(retry.statusCode).toBe(200);
    expect(JSON.parse(retry.body)).toEqual({ run: 1 });
    expect(retry.headers['Idempotency-Replayed']).toBeUndefined();
  });

  it('powertools-lambda-typescript#5717 / python#1038 follow-up: an attempt that outlives its deadline and then finishes cannot complete the record a retry took over', async () => {
    const gate = deferred();
    let runs = 0;
    const main = make(async () => {
      runs++;
      if (runs === 1) await gate.promise; // the first attempt outlives its deadline
      return { run: runs };
    });
    const key = randomUUID();
    // 2.5 s, less the handler's 500 ms margin, to claim and start: with 700 ms a loaded machine
    // could claim too late for the first attempt to run at all, and the retry then hung on the gate.
    const DEADLINE_MS = 2_500;
    const startedAt = Date.now();
    const timedOut = await call(main, { key, body: { sku: 'lamp' } }, lambdaContext(randomUUID(), 'orders', DEADLINE_MS));
    expect(timedOut.statusCode).toBeGreaterThanOrEqual(500);
    expect(runs).toBe(1); // it started, and outlives its deadline
    await sleep(startedAt + DEADLINE_MS - Date.now());
    // Its lease ends at its deadline by the store's clock: taken over within moments of it.
    let retry = await call(main, { key, body: { sku: 'lamp' } });
    while (retry.statusCode === 409 && Date.now() < startedAt + DEADLINE_MS + 3_000) {
      await sleep(50);
      retry = await call(main, { key, body: { sku: 'lamp' } });
    }
    expect(JSON.parse(retry.body)).toEqual({ run: 2 });
    gate.resolve(); // the timed-out attempt now finishes: its completion is refused
    await sleep(100);
    const later = await call(main, { key, body: { sku: 'lamp' } });
    expect(later.headers['Idempotency-Replayed']).toBe('true');
    expect(JSON.parse(later.body)).toEqual({ run: 2 });
    expect(runs).toBe(2);
  });

  it('powertools-lambda-python#4759: with getRemainingTimeInMillis() already 0 the in-progress expiry was not written, so a killed attempt\'s record never expired — here an attempt out of time holds no lease past its deadline', async () => {
    let runs = 0;
    const key = randomUUID();
    const recordKey = storeKey(scopeOf('orders'), { kind: 'header', value: key });
    const killed = make(() => ({ run: ++runs }), { store: killedInstance() });
    // Lambda kills a little after the timeout, so the remaining time reads 0 (never negative).
    const outOfTime = { awsRequestId: randomUUID(), functionName: 'orders', getRemainingTimeInMillis: () => 0 };
    const first = await call(killed, { key, body: {} }, outOfTime as never);
    expect(first.statusCode).toBeGreaterThanOrEqual(500);
    const left = await backend.store.get(recordKey, {});
    if (left) expect(left.status === 'in_progress' && left.leaseUntil <= Date.now() + 50).toBe(true);
    const retry = await call(make(() => ({ run: ++runs })), { key, body: {} });
    expect(retry.statusCode).toBe(200);
    expect(retry.headers['Idempotency-Replayed']).toBeUndefined();
    // Just enough time left to claim and run (the handler keeps a 500 ms margin): the lease still ends at the deadline.
    const key2 = randomUUID();
    await call(killed, { key: key2, body: {} }, lambdaContext(randomUUID(), 'orders', 560));
    // The claim reached the store before the call returned, with at most 560 ms left: its lease
    // ends by then + 560 ms (not leaseMs, 5 minutes, later), however long the claim took to arrive.
    const returnedAt = Date.now();
    const claimed = await backend.store.get(storeKey(scopeOf('orders'), { kind: 'header', value: key2 }), {});
    // (Gone already if this machine was slow enough for the lease to end: that is the point.)
    if (claimed?.status === 'in_progress') expect(claimed.leaseUntil).toBeLessThanOrEqual(returnedAt + 560 + 50);
  });

  it('powertools-lambda-typescript#5675: a rejected duplicate (in progress) or payload mismatch deleted the record it never acquired, letting a third call run alongside the first — here rejections leave the running record alone', async () => {
    const gate = deferred();
    let runs = 0;
    const main = make(async (input) => {
      runs++;
      await gate.promise;
      return { charged: input.amount };
    });
    const key = randomUUID();
    const first = call(main, { key, body: { amount: 10 } });
    await eventually(() => runs === 1); // the first holds the key (a fixed wait could end before its claim on a loaded machine)
    expect((await call(main, { key, body: { amount: 10 } })).statusCode).toBe(409);
    expect((await call(main, { key, body: { amount: 99 } })).statusCode).toBe(422);
    // Were the record deleted by either rejection, this one would run a second charge.
    expect((await call(main, { key, body: { amount: 10 } })).statusCode).toBe(409);
    gate.resolve();
    expect(JSON.parse((await first).body)).toEqual({ charged: 10 });
    const replay = await call(main, { key, body: { amount: 10 } });
    expect(replay.headers['Idempotency-Replayed']).toBe('true');
    expect(runs).toBe(1);
  });

  it('powertools-lambda-typescript#2058 / #1499, powertools-lambda-java#2260, powertools-lambda-python#3781: payload validation was skipped when the existing record came back from the conditional write — here a changed payload under a used key is 422 on the claim path, cold and warm', async () => {
    let runs = 0;
    const cold = make((input) => ({ refunded: input.amount, run: ++runs }));
    const key = randomUUID();
    expect((await call(cold, { key, body: { refundId: 'r1', amount: 10 } })).statusCode).toBe(200);
    // The claim itself returns the completed record (one store call): it must still be validated.
    const tampered = await call(cold, { key, body: { refundId: 'r1', amount: 10_000 } });
    expect(tampered.statusCode).toBe(422);
    expect(JSON.parse(tampered.body)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    // A warm instance (local cache on) that has the record cached also validates.
    const warm = make((input) => ({ refunded: input.amount, run: ++runs }), { localCache: true });
    expect((await call(warm, { key, body: { refundId: 'r1', amount: 10 } })).headers['Idempotency-Replayed']).toBe('true');
    expect((await call(warm, { key, body: { refundId: 'r1', amount: 10_000 } })).statusCode).toBe(422);
    expect(runs).toBe(1);
  });

  it('powertools-lambda-python#3821: the record was written to the local cache before payload validation — here a mismatched request neither poisons nor is answered from the cache', async () => {
    let runs = 0;
    const fn = (input: { amount: number }) => ({ charged: input.amount, run: ++runs });
    const key = randomUUID();
    await call(make(fn), { key, body: { amount: 5 } });
    const store = counting(backend.store);
    const instance = make(fn, { localCache: true, store });
    expect((await call(instance, { key, body: { amount: 6 } })).statusCode).toBe(422);
    expect((await call(instance, { key, body: { amount: 6 } })).statusCode).toBe(422);
    const legit = await call(instance, { key, body: { amount: 5 } });
    expect(JSON.parse(legit.body)).toEqual({ charged: 5, run: 1 });
    const callsBefore = store.total();
    expect(JSON.parse((await call(instance, { key, body: { amount: 5 } })).body)).toEqual({ charged: 5, run: 1 });
    expect(store.total()).toBe(callsBefore); // the valid record is now served from the cache
    expect((await call(instance, { key, body: { amount: 6 } })).statusCode).toBe(422);
    expect(runs).toBe(1);
  });

  it('powertools-lambda-python#1093 and powertools-lambda-typescript#5717: a function that mutated its event made the completion (or the delete after a failure) hash a different key, leaving the real record INPROGRESS — here the record acquired at the start is the one completed or released', async () => {
    let runs = 0;
    const mutating = make(
      (input) => {
        runs++;
        input.processedAt = runs; // the function changes the event it received
        input.items.push('extra');
        if (input.fail && runs === 1) throw new RetryableError('DOWNSTREAM', 'try again');
        return { run: runs };
      },
      { key: 'input' },
    );
    const body = { orderId: randomUUID(), items: ['a'] };
    const first = await call(mutating, { body });
    const again = await call(mutating, { body });
    expect(JSON.parse(first.body)).toEqual({ run: 1 });
    expect(again.headers['Idempotency-Replayed']).toBe('true');
    expect(JSON.parse(again.body)).toEqual({ run: 1 });
    // A failure after mutating releases the original record: the retry runs at once, no 409.
    runs = 0;
    const failing = { orderId: randomUUID(), items: ['a'], fail: true };
    expect((await call(mutating, { body: failing })).statusCode).toBe(503);
    const retried = await call(mutating, { body: failing });
    expect(retried.statusCode).toBe(200);
    expect(JSON.parse(retried.body)).toEqual({ run: 2 });
  });

  it('powertools-lambda-python#855 (and #318): two wrapped functions taking the same payload in one Lambda shared records, so one replayed the other — here records are scoped by the handler name (else the provider function name), or a namespace', async () => {
    const runs: string[] = [];
    const key = randomUUID();
    // Two handlers deployed in one Lambda function (same provider function name), told apart by their names.
    const charge = make(() => (runs.push('charge'), { by: 'charge' }), {}, silentSink(), 'charge');
    const email = make(() => (runs.push('email'), { by: 'email' }), {}, silentSink(), 'send-email');
    const inMonolith = () => lambdaContext(randomUUID(), 'monolith');
    const a = await call(charge, { key, body: { orderId: 'o1' } }, inMonolith());
    const b = await call(email, { key, body: { orderId: 'o1' } }, inMonolith());
    expect(JSON.parse(a.body)).toEqual({ by: 'charge' });
    expect(JSON.parse(b.body)).toEqual({ by: 'email' });
    expect(b.headers['Idempotency-Replayed']).toBeUndefined();
    expect((await call(charge, { key, body: { orderId: 'o1' } }, inMonolith())).headers['Idempotency-Replayed']).toBe('true');
    // Unnamed handlers take the provider's function name: two Lambda functions do not share records.
    const unnamed = (label: string) => handler({ logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] }, () => (runs.push(label), { by: label }));
    const fnA = unnamed('fn-a');
    const fnB = unnamed('fn-b');
    await fnA.aws(httpEvent({ key, body: { orderId: 'o1' } }), lambdaContext(randomUUID(), `fn-a-${key}`));
    const fromB = (await fnB.aws(httpEvent({ key, body: { orderId: 'o1' } }), lambdaContext(randomUUID(), `fn-b-${key}`))) as LambdaHttp;
    expect(JSON.parse(fromB.body)).toEqual({ by: 'fn-b' });
    // A shared `namespace` is the explicit opt-in to share records across functions.
    const shared = (label: string) => make(() => (runs.push(label), { by: label }), { namespace: `payments-${key}` }, silentSink(), label);
    await call(shared('shared-a'), { key, body: { orderId: 'o1' } });
    expect(JSON.parse((await call(shared('shared-b'), { key, body: { orderId: 'o1' } })).body)).toEqual({ by: 'shared-a' });
    expect(runs).toEqual(['charge', 'email', 'fn-a', 'fn-b', 'shared-a']);
  });

  it('pathosDev/actor-ts#984 and ikyriak/IdempotentAPI#37: the in-flight claim used the response TTL, so a worker that died mid-request wedged the key (409) for the whole TTL — here a dead attempt holds its key only for its lease', async () => {
    const key = randomUUID();
    const recordKey = storeKey(scopeOf('orders'), { kind: 'header', value: key });
    let runs = 0;
    // A lease long enough for the 409 and the read below to land inside it on a loaded machine
    // (which can take longer than 400 ms), and still far from the 24 h TTL.
    const LEASE_MS = 3_000;
    const main = make(() => ({ run: ++runs }), { leaseMs: LEASE_MS, ttlMs: 24 * 3_600_000 });
    const gate = deferred();
    const running = deferred();
    // An attempt that claimed the key and then hangs, as a dead worker would: nothing completes or releases it in time.
    const dying = make(async () => {
      running.resolve();
      await gate.promise;
      return { never: true };
    }, { leaseMs: LEASE_MS, ttlMs: 24 * 3_600_000 });
    const abandoned = call(dying, { key, body: { sku: 'lamp' } });
    await running.promise;
    const claimedAt = Date.now();
    expect((await call(main, { key, body: { sku: 'lamp' } })).statusCode).toBe(409);
    expect((await backend.store.get(recordKey, {}))?.status).toBe('in_progress');
    // The lease (3 s), not the 24 h TTL, bounds the claim.
    let retry = await call(main, { key, body: { sku: 'lamp' } });
    while (retry.statusCode === 409 && Date.now() < claimedAt + LEASE_MS + 5_000) {
      await sleep(50);
      retry = await call(main, { key, body: { sku: 'lamp' } });
    }
    expect(retry.statusCode).toBe(200);
    expect(JSON.parse(retry.body)).toEqual({ run: 1 });
    gate.resolve();
    await abandoned;
    expect(JSON.parse((await call(main, { key, body: { sku: 'lamp' } })).body)).toEqual({ run: 1 });
  });

  it('powertools-lambda-python#8049 and KanishJebaMathewM/Truxify#4623: a function still running past its in-progress expiry let a retry run alongside it — here that takeover is the documented leaseMs trade-off, and the overtaken attempt cannot overwrite the newer answer (fencing)', async () => {
    const logs = recordingSink();
    const gate = deferred();
    let runs = 0;
    const main = make(
      async () => {
        const run = ++runs;
        if (run === 1) await gate.promise;
        return { run };
      },
      { leaseMs: 300 },
      logs.sink,
    );
    const key = randomUUID();
    const slow = call(main, { key, body: {} });
    // The slow attempt holds the key before anyone tries to take it over (after a fixed wait, a
    // loaded machine could let the "takeover" claim first, run as run 1 and hang on the gate).
    await eventually(() => runs === 1);
    let takeover = await call(main, { key, body: {} });
    while (takeover.statusCode === 409) {
      await sleep(50);
      takeover = await call(main, { key, body: {} });
    }
    expect(JSON.parse(takeover.body)).toEqual({ run: 2 });
    gate.resolve();
    expect(JSON.parse((await slow).body)).toEqual({ run: 1 }); // its caller still gets its own answer
    expect(logs.codes()).toContain('IDEMPOTENCY_LEASE_LOST');
    const replay = await call(main, { key, body: {} });
    expect(JSON.parse(replay.body)).toEqual({ run: 2 });
  });

  it('mahendraHegde/node-idempotency#36: a 5xx from a crashing handler was cached and replayed forever — here cacheErrors stores only terminal errors; an unexpected throw or a retryable error runs again', async () => {
    let runs = 0;
    const main = make(
      () => {
        runs++;
        if (runs === 1) throw new Error('connect ECONNREFUSED 10.0.0.1:5432'); // a bug or a down database
        if (runs === 2) throw new RetryableError('DB_DOWN', 'database unavailable');
        return { ok: runs };
      },
      { cacheErrors: true },
    );
    const key = randomUUID();
    const crash = await call(main, { key, body: {} });
    expect(crash.statusCode).toBe(500);
    expect(crash.body).not.toContain('ECONNREFUSED');
    expect((await call(main, { key, body: {} })).statusCode).toBe(503);
    const healed = await call(main, { key, body: {} });
    expect(healed.statusCode).toBe(200);
    expect(JSON.parse(healed.body)).toEqual({ ok: 3 });
    expect(runs).toBe(3);
  });

  it('jcagarcia/grape-idempotency#3 and nensii21/devlink#1195: one key sent to two endpoints replayed the first endpoint\'s response for the second — here method and path are part of the fingerprint, so the second is refused, never answered with the first', async () => {
    const ran: string[] = [];
    const main = make((_input, ctx) => {
      const path = ctx.trigger.kind === 'http' ? ctx.trigger.request.path : '?';
      ran.push(path);
      return { handledBy: path };
    });
    const key = randomUUID();
    const payments = await call(main, { key, path: '/payments', body: {} });
    const refunds = await call(main, { key, path: '/refunds', body: {} });
    expect(JSON.parse(payments.body)).toEqual({ handledBy: '/payments' });
    expect(refunds.statusCode).toBe(422);
    expect(refunds.body).not.toContain('/payments');
    expect((await call(main, { key, method: 'PUT', path: '/payments', body: {} })).statusCode).toBe(422);
    expect(ran).toEqual(['/payments']);
  });

  it('idempot-dev/idempot-js#182, square1-io/laravel-idempotency#1: concurrent requests with one key both ran (a plain SET, or check-then-set) — here exactly one of many concurrent duplicates runs', async () => {
    let runs = 0;
    let answered = 0;
    const gate = deferred();
    // The one that runs holds until every other duplicate has been answered (a fixed 150 ms let a
    // duplicate whose claim arrived late on a loaded machine see the completed record: a replay).
    const main = make(async () => {
      runs++;
      await gate.promise;
      return { run: runs };
    });
    const key = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        call(main, { key, body: { sku: 'lamp' } }).then((answer) => {
          if (++answered + runs >= 8) gate.resolve();
          return answer;
        }),
      ),
    );
    expect(runs).toBe(1);
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(7);
  });

  it('powertools-lambda-java#119 (partial batch failure): one failing message made the whole batch redeliver and the successful ones run again — here completed messages replay and only the failed one runs on redelivery', async () => {
    const runs = new Map<string, number>();
    const main = make((input: { id: string }) => {
      runs.set(input.id, (runs.get(input.id) ?? 0) + 1);
      if (input.id === 'bad' && runs.get('bad') === 1) throw new RetryableError('DOWNSTREAM', 'later');
      return { done: input.id };
    });
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const records = [sqsRecord(ids[0]!, { id: 'a' }), sqsRecord(ids[1]!, { id: 'bad' }), sqsRecord(ids[2]!, { id: 'c' })];
    expect(await main.aws({ Records: records }, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: ids[1] }] });
    // The whole batch comes back (e.g. the mapping lacks ReportBatchItemFailures).
    expect(await main.aws({ Records: records }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(Object.fromEntries(runs)).toEqual({ a: 1, bad: 2, c: 1 });
  });

  it('soterika/aura-vault-protocol#581 (fails open when Redis is down) and idempot-dev/idempot-js#186: a store error let the request run without protection, so a retry ran it again — here an unreachable store is a retryable 503 before the function runs; a store lost after the function keeps the claim, so the retry is told 409, never run twice', async () => {
    let runs = 0;
    const unreachable: IdempotencyStore = {
      ...backend.store,
      claim: async () => {
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6390'), { code: 'ECONNREFUSED' });
      },
    };
    const down = make(() => ({ run: ++runs }), { store: unreachable });
    const refused = await call(down, { key: randomUUID(), body: {} });
    expect(refused.statusCode).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE' });
    expect(refused.body).not.toContain('ECONNREFUSED');
    expect(runs).toBe(0);
    // The claim reaches the real store; the connection is lost before the completion.
    const lostAfter: IdempotencyStore = {
      ...backend.store,
      complete: async () => {
        throw Object.assign(new Error('Connection is closed.'), { name: 'ConnectionClosedError' });
      },
    };
    const key = randomUUID();
    const first = await call(make(() => ({ run: ++runs }), { store: lostAfter }), { key, body: {} });
    expect(first.statusCode).toBe(200); // its effects happened: the caller gets its answer
    const retry = await call(make(() => ({ run: ++runs })), { key, body: {} });
    expect(retry.statusCode).toBe(409);
    expect(runs).toBe(1);
  });

  it('nensii21/devlink#773: keys were not scoped per caller, so two users sending the same Idempotency-Key saw each other\'s responses — here an authenticated caller (an HTTP API JWT authorizer) gets records of their own, with no key function', async () => {
    const served: Array<string | undefined> = [];
    const main = make((_input, ctx) => (served.push(ctx.principal?.id), { account: ctx.principal?.id }));
    const asUser = (sub: string) => {
      const event = httpEvent({ key, body: { amount: 5 } });
      (event.requestContext as Record<string, unknown>).authorizer = { jwt: { claims: { sub, iss: 'https://issuer.example' }, scopes: [] } };
      return event;
    };
    const key = randomUUID();
    const alice = (await main.aws(asUser('alice'), lambdaContext())) as LambdaHttp;
    const bob = (await main.aws(asUser('bob'), lambdaContext())) as LambdaHttp;
    expect(JSON.parse(alice.body)).toEqual({ account: 'alice' });
    expect(JSON.parse(bob.body)).toEqual({ account: 'bob' });
    expect(bob.headers['Idempotency-Replayed']).toBeUndefined();
    const bobAgain = (await main.aws(asUser('bob'), lambdaContext())) as LambdaHttp;
    expect(bobAgain.headers['Idempotency-Replayed']).toBe('true');
    expect(JSON.parse(bobAgain.body)).toEqual({ account: 'bob' });
    expect(served).toEqual(['alice', 'bob']);
  });

  it('nensii21/devlink#773, custom authentication: a key function that includes the caller keeps them apart (the caller here is a header the function trusts; the plugin cannot know it)', async () => {
    const served: string[] = [];
    const callerOf = (ctx: Context) => (ctx.trigger.kind === 'http' ? (ctx.trigger.request.headers['x-user-id'] ?? 'anonymous') : 'internal');
    const perCaller = (ctx: Context) => {
      if (ctx.trigger.kind !== 'http') return undefined;
      const raw = ctx.trigger.request.headers['idempotency-key'];
      const parsed = raw === undefined ? undefined : parseIdempotencyKeyHeader(raw);
      return parsed?.ok ? `${callerOf(ctx)}\u0000${parsed.key}` : undefined;
    };
    const main = make((_input, ctx) => (served.push(callerOf(ctx)), { account: callerOf(ctx) }), { key: perCaller });
    const key = randomUUID();
    const alice = await call(main, { key, body: { amount: 5 }, headers: { 'x-user-id': 'alice' } });
    const bob = await call(main, { key, body: { amount: 5 }, headers: { 'x-user-id': 'bob' } });
    expect(JSON.parse(alice.body)).toEqual({ account: 'alice' });
    expect(JSON.parse(bob.body)).toEqual({ account: 'bob' });
    expect(bob.headers['Idempotency-Replayed']).toBeUndefined();
    const aliceAgain = await call(main, { key, body: { amount: 5 }, headers: { 'x-user-id': 'alice' } });
    expect(aliceAgain.headers['Idempotency-Replayed']).toBe('true');
    expect(served).toEqual(['alice', 'bob']);
  });

  it('powertools-lambda-typescript#2309 (#2311): with the local cache on, a retry after the first completed was rejected as still in progress — here the warm instance never caches an in-progress record and replays from its cache once completed', async () => {
    const gate = deferred();
    let runs = 0;
    const store = counting(backend.store);
    const main = make(async () => {
      runs++;
      await gate.promise;
      return { run: runs };
    }, { store, localCache: true });
    const key = randomUUID();
    const first = call(main, { key, body: {} });
    await eventually(() => runs === 1); // it holds the key (not a fixed wait its claim could outlast)
    expect((await call(main, { key, body: {} })).statusCode).toBe(409);
    gate.resolve();
    await first;
    const callsBefore = store.total();
    const replay = await call(main, { key, body: {} });
    expect(replay.statusCode).toBe(200);
    expect(replay.headers['Idempotency-Replayed']).toBe('true');
    expect(JSON.parse(replay.body)).toEqual({ run: 1 });
    expect(store.total()).toBe(callsBefore); // answered from the local cache
    expect(runs).toBe(1);
  });

  it('2 MB result (DynamoDB-400KB-style size limits in peers): a large answer is stored and replayed byte for byte', async () => {
    let runs = 0;
    const blob = 'x'.repeat(2 * 1024 * 1024);
    const main = make(() => ({ run: ++runs, blob }));
    const key = randomUUID();
    const first = await call(main, { key, body: {} });
    const again = await call(main, { key, body: {} });
    expect(again.headers['Idempotency-Replayed']).toBe('true');
    expect(again.body).toBe(first.body);
    expect(runs).toBe(1);
  });
});

describe('peer bug replays that need no particular store (Redis)', () => {
  const backend = useBackend('redis');

  it('powertools-lambda-python#638 and powertools-lambda-typescript#2120: the same JSON with its keys in another order (or other whitespace, or 1.0 for 1) hashed differently and ran twice — here it is one input key; a different array order is a different request', async () => {
    let runs = 0;
    const main = handler({ name: 'orders', logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 60_000, key: 'input', localCache: false })] }, () => ({ run: ++runs }));
    const id = randomUUID();
    const raw = (body: string) => ({ ...httpEvent({ body: {} }), body });
    const first = (await main.aws(raw(`{"name":"John","id":"${id}","address":{"street":"5th","number":123},"qty":1}`), lambdaContext())) as LambdaHttp;
    const reordered = (await main.aws(raw(`{ "qty": 1.0, "address": { "number": 123, "street": "5th" }, "id": "${id}", "name": "John" }`), lambdaContext())) as LambdaHttp;
    expect(JSON.parse(first.body)).toEqual({ run: 1 });
    expect(reordered.headers['Idempotency-Replayed']).toBe('true');
    expect(JSON.parse(reordered.body)).toEqual({ run: 1 });
    await main.aws(raw(`{"tags":["a","b"],"id":"${id}"}`), lambdaContext());
    const swapped = (await main.aws(raw(`{"tags":["b","a"],"id":"${id}"}`), lambdaContext())) as LambdaHttp;
    expect(swapped.headers['Idempotency-Replayed']).toBeUndefined();
    expect(runs).toBe(3);
  });

  it('powertools-lambda-typescript#1501, powertools-lambda-java#1200, powertools-lambda-python#2477 / #8390: with the key optional, requests without one were hashed onto one shared key and replayed each other — here they run every time and touch no record', async () => {
    let runs = 0;
    const store = counting(backend.store);
    const keyFromHeader = (ctx: Context) => (ctx.trigger.kind === 'http' ? (ctx.trigger.request.headers['x-request-id'] ?? null) : undefined);
    const main = handler({ name: 'orders', logSink: silentSink(), use: [idempotency({ store, ttlMs: 60_000, key: keyFromHeader, required: false })] }, () => ({ run: ++runs }));
    const a = (await main.aws(httpEvent({ body: {} }), lambdaContext())) as LambdaHttp;
    const b = (await main.aws(httpEvent({ body: {} }), lambdaContext())) as LambdaHttp;
    const c = (await main.aws(httpEvent({ body: {}, headers: { 'x-request-id': '' } }), lambdaContext())) as LambdaHttp;
    expect([a, b, c].map((r) => JSON.parse(r.body))).toEqual([{ run: 1 }, { run: 2 }, { run: 3 }]);
    expect(store.total()).toBe(0);
    // Required (the default): a missing key is a 400 and the function does not run.
    const strict = handler({ name: 'orders', logSink: silentSink(), use: [idempotency({ store, ttlMs: 60_000, key: keyFromHeader })] }, () => ({ run: ++runs }));
    const refused = (await strict.aws(httpEvent({ body: {} }), lambdaContext())) as LambdaHttp;
    expect(refused.statusCode).toBe(400);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'IDEMPOTENCY_KEY_MISSING' });
    expect(runs).toBe(3);
  });

  it('josipmusa/idempotency4j#20 and powertools-lambda-python#8390: a blank key (whitespace only, or all parts missing) was hashed like any other, so unrelated requests shared one record and replayed each other — here a blank key from a key function counts as no key', async () => {
    let runs = 0;
    const store = counting(backend.store);
    const fromHeader = (ctx: Context) => (ctx.trigger.kind === 'http' ? ctx.trigger.request.headers['x-request-id'] : undefined);
    const optional = handler({ name: `blank-${randomUUID().slice(0, 8)}`, logSink: silentSink(), use: [idempotency({ store, ttlMs: 60_000, key: fromHeader, required: false })] }, (input: any) => ({ run: ++runs, order: input.order }));
    const a = (await optional.aws(httpEvent({ body: { order: 'a' }, headers: { 'x-request-id': '   ' } }), lambdaContext())) as LambdaHttp;
    const b = (await optional.aws(httpEvent({ body: { order: 'b' }, headers: { 'x-request-id': '   ' } }), lambdaContext())) as LambdaHttp;
    expect(JSON.parse(a.body)).toEqual({ run: 1, order: 'a' });
    expect(b.statusCode).toBe(200); // not a 422 against a's record, nor a's replay
    expect(JSON.parse(b.body)).toEqual({ run: 2, order: 'b' });
    expect(store.total()).toBe(0);
    const strict = handler({ name: `blank-${randomUUID().slice(0, 8)}`, logSink: silentSink(), use: [idempotency({ store, ttlMs: 60_000, key: fromHeader })] }, () => ({ run: ++runs }));
    const refused = (await strict.aws(httpEvent({ body: {}, headers: { 'x-request-id': '  ' } }), lambdaContext())) as LambdaHttp;
    expect(refused.statusCode).toBe(400);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'IDEMPOTENCY_KEY_MISSING' });
    expect(runs).toBe(2);
  });

  it('powertools-lambda-python#8065 (#8075): a key payload holding dates/UUIDs could not be serialised and every call failed — here validated input with Date and BigInt values hashes (equal values one key, different values two)', async () => {
    let runs = 0;
    const main = handler(
      {
        name: 'bookings',
        logSink: silentSink(),
        input: z.object({ at: z.coerce.date(), amount: z.string().transform((s) => BigInt(s)) }),
        use: [idempotency({ store: backend.store, ttlMs: 60_000, key: 'input', localCache: false })],
      },
      (input) => ({ run: ++runs, at: input.at.toISOString(), amount: String(input.amount) }),
    );
    const tag = randomUUID().slice(0, 6);
    const day = (d: string) => httpEvent({ body: { at: d, amount: '9007199254740993' }, path: `/b/${tag}` });
    const first = (await main.aws(day('2026-12-01T00:00:00.000Z'), lambdaContext())) as LambdaHttp;
    expect(first.statusCode).toBe(200);
    const same = (await main.aws(day('2026-12-01T00:00:00.000Z'), lambdaContext())) as LambdaHttp;
    expect(same.headers['Idempotency-Replayed']).toBe('true');
    const other = (await main.aws(day('2026-12-02T00:00:00.000Z'), lambdaContext())) as LambdaHttp;
    expect(other.headers['Idempotency-Replayed']).toBeUndefined();
    expect(runs).toBe(2);
  });

  it('result not serialisable (peers stored it wrongly or failed after the effects): a BigInt result is not stored, the record is released and a warning logged; a Date result replays as the same JSON the caller got', async () => {
    const logs = recordingSink();
    let runs = 0;
    const main = handler({ name: 'orders', logSink: logs.sink, logLevel: 'warn', use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: false })] }, (input: any) => {
      runs++;
      return input.kind === 'bigint' ? { total: 10n } : { at: new Date('2026-12-01T00:00:00Z'), missing: undefined };
    });
    const dateId = randomUUID();
    const firstDate = await main.aws({ Records: [sqsRecord(dateId, { kind: 'date' })] }, lambdaContext());
    const againDate = await main.aws({ Records: [sqsRecord(dateId, { kind: 'date' })] }, lambdaContext());
    expect(JSON.stringify(againDate)).toBe(JSON.stringify(firstDate));
    expect(runs).toBe(1);
    const direct = handler({ name: `direct-${randomUUID()}`, logSink: logs.sink, logLevel: 'warn', use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: false, key: 'input' })] }, () => {
      runs++;
      return { total: 10n };
    });
    await direct.invoke({ kind: 'bigint' }).catch(() => undefined);
    expect(logs.codes()).toContain('IDEMPOTENCY_RESULT_NOT_STORABLE');
    await direct.invoke({ kind: 'bigint' }).catch(() => undefined);
    expect(runs).toBe(3); // released, so the retry ran rather than replaying nothing or a 409
  });

  it('mercadopago/sdk-php#663 and vscode-restclient#796: the key header was looked up in one letter case, so `Idempotency-Key` (or a proxy\'s lower-cased `idempotency-key`) was missed and the request ran unprotected — here any case of the header on a REST API (v1) event is the same key', async () => {
    let runs = 0;
    const main = handler({ name: `case-${randomUUID().slice(0, 8)}`, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 60_000, key: 'header', localCache: false })] }, () => ({ run: ++runs }));
    const key = randomUUID();
    const restEvent = (headerName: string) => ({
      resource: '/orders',
      path: '/orders',
      httpMethod: 'POST',
      headers: { 'Content-Type': 'application/json', [headerName]: key },
      multiValueHeaders: { 'Content-Type': ['application/json'], [headerName]: [key] },
      requestContext: { requestId: randomUUID(), identity: { sourceIp: '127.0.0.1' } },
      body: '{"sku":"lamp"}',
      isBase64Encoded: false,
    });
    const answers = [];
    for (const headerName of ['Idempotency-Key', 'idempotency-key', 'IDEMPOTENCY-KEY', 'idempotency-KEY']) {
      answers.push((await main.aws(restEvent(headerName), lambdaContext())) as LambdaHttp);
    }
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200]);
    expect(answers.slice(1).every((a) => a.headers['Idempotency-Replayed'] === 'true')).toBe(true);
    expect(runs).toBe(1);
  });

  it('powertools-lambda-typescript#4634 (#4643): on middy, when an earlier middleware threw before the idempotency middleware ran, its onError crashed on missing state and hid the real error — here the real error surfaces and no record is touched', async () => {
    let runs = 0;
    const store = counting(backend.store);
    const failingAuth = {
      before: async () => {
        throw Object.assign(new Error('token expired'), { name: 'AuthError', statusCode: 401 });
      },
    };
    const main = middy(steadyHandler(async () => ({ run: ++runs })))
      .use(failingAuth)
      .use(toMiddy(idempotency({ store, ttlMs: 60_000, localCache: false }), { name: `auth-${randomUUID().slice(0, 8)}` }));
    await expect(main({ Records: [sqsRecord(randomUUID(), { orderId: 'o-1' })] }, lambdaContext() as never)).rejects.toMatchObject({ name: 'AuthError', message: 'token expired' });
    expect(runs).toBe(0);
    expect(store.total()).toBe(0);
  });

  it('powertools-lambda-typescript#2987 (#2505): on middy, a handler returning undefined broke the early return, so duplicates ran again — here a stored undefined result replays on middy without running the handler', async () => {
    let runs = 0;
    const main = middy(
      steadyHandler(async () => {
        runs++;
        return undefined;
      }),
    ).use(toMiddy(idempotency({ store: backend.store, ttlMs: 60_000, localCache: false }), { name: `void-${randomUUID().slice(0, 8)}` }));
    const id = randomUUID();
    const first = await main({ Records: [sqsRecord(id, { orderId: 'o-1' })] }, lambdaContext() as never);
    const again = await main({ Records: [sqsRecord(id, { orderId: 'o-1' })] }, lambdaContext() as never);
    expect(again).toEqual(first);
    expect(runs).toBe(1);
  });
});

describe.each(BACKENDS)('clock skew between instances on %s', (name) => {
  const suite = workerSuite(name);
  // Long enough that the first retry, after the worker's report is read and the worker is killed,
  // still meets its lease on a loaded machine (FerretDB answers a claim in up to ~1 s there).
  const LEASE_MS = 6_000;

  it.each([
    ['10 minutes behind', -600_000],
    ['10 minutes ahead', 600_000],
  ])('FoundationDB/fdb-kubernetes-operator#241, xavierjohn/Trellis#695: lock expiry compared against another machine\'s clock let a duplicate in early (or kept the key locked too long) — here a claim made on a clock %s holds exactly its lease, judged by the store', async (_label, clockSkewMs) => {
    const deliveryId = randomUUID();
    const backend = suite.backend();
    const worker = startWorker(backend, deliveryId, { leaseMs: LEASE_MS, clockSkewMs });
    suite.track(worker.child);
    await worker.claimed;
    const { retry, runs } = shipRetry(backend.store, deliveryId);
    // Behind: a lease written in its past must not look expired already.
    await expect(retry()).rejects.toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS' });
    await killWorker(worker.child);
    // Ahead: a lease written in its future must not hold the key for the skew as well.
    expect(await retryUntilTakenOver(retry, LEASE_MS + 8_000)).toEqual({ shipped: 'retry 1' });
    expect(runs()).toBe(1);
  }, 60_000);
});
