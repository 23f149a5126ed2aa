/**
 * Review, after Powertools' idempotency (whose in-progress expiry is the Lambda context's
 * remaining time): `leaseMs` defaulted to 5 minutes and the lease was `min(deadline, now +
 * leaseMs)`, so a 15-minute Lambda (a 60-minute Cloud Run function, a 10-minute Azure one) still
 * running after 5 minutes lost its key, and a retry then took it over and ran alongside it (a
 * double effect). Unset, the lease now follows the invocation's deadline; an explicit `leaseMs`
 * shorter than the remaining time, or no deadline known, is said once per plugin instance. And
 * the 409 of a concurrent duplicate gives the time left on the lease as `Retry-After` (whole
 * seconds, 1 to 5) instead of always 1. On Redis, Redis Cluster and FerretDB; no assertion
 * depends on how fast anything runs (the leases are 15 minutes and an hour long).
 */
import { randomUUID } from 'node:crypto';
import { handler, type Context } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { IdempotencyInProgressError, heldIdempotencyKey, idempotency, memoryStore, type IdempotencyOptions, type InProgressRecord } from '../src/index.js';
import { expectOptionRefused } from '../../../test/support/config-errors.js';
import { BACKENDS, deferred, eventually, httpEvent, lambdaContext, useBackend } from './support.js';

type LambdaHttp = { statusCode: number; headers: Record<string, string>; body: string };

/**
 * The HTTP request as a Lambda Function URL sends it: the deadline is Lambda's own clock (behind
 * API Gateway it is capped at the API's integration timeout, 30 s: handler's lambda-deadline.ts).
 */
function urlEvent(init: Parameters<typeof httpEvent>[0]): Record<string, unknown> {
  const event = httpEvent(init);
  (event.requestContext as Record<string, unknown>).domainName = 'abc123.lambda-url.us-east-1.on.aws';
  return event;
}
const MINUTE = 60_000;

/** A log sink keeping the `code` of every line about the lease. */
function codes(): { sink: (line: string) => void; seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    sink: (line) => {
      const code = String((JSON.parse(line) as { code?: unknown }).code);
      if (code.startsWith('IDEMPOTENCY_LEASE_')) seen.push(code);
    },
  };
}

describe('review: IdempotencyInProgressError Retry-After (pure)', () => {
  it('is the time left on the lease in whole seconds, rounded up, from 1 to 5; 1 when unknown', () => {
    const now = 1_700_000_000_000;
    const after = (leaseUntil?: number) => new IdempotencyInProgressError(leaseUntil, now).headers?.['Retry-After'];
    expect(after(now + 3_001)).toBe('4');
    expect(after(now + 12_001)).toBe('5');
    expect(after(now + 1)).toBe('1');
    expect(after(now - 5_000)).toBe('1');
    expect(after(now + 15 * MINUTE)).toBe('5');
    expect(new IdempotencyInProgressError(now + 3_000, Number.NaN).headers?.['Retry-After']).toBe('1');
    expect(after(undefined)).toBe('1');
    expect(after(Number.POSITIVE_INFINITY)).toBe('1');
    expect(new IdempotencyInProgressError(now + 2_000, now).retryAfterSeconds).toBe(2);
  });
});

describe('review: allowShortLease is checked (pure)', () => {
  const store = memoryStore();
  it('refuses anything but a boolean, and true without leaseMs (there is no short lease to allow)', () => {
    expectOptionRefused(() => idempotency({ store, ttlMs: 1000, leaseMs: 1000, allowShortLease: 'yes' } as never), 'idempotency', 'allowShortLease', ['true, false', '"yes"']);
    expectOptionRefused(() => idempotency({ store, ttlMs: 1000, allowShortLease: true }), 'idempotency', 'allowShortLease', ['while leaseMs is unset', 'IDEMPOTENCY_LEASE_NO_DEADLINE']);
    expect(() => idempotency({ store, ttlMs: 1000, allowShortLease: false })).not.toThrow();
    expect(() => idempotency({ store, ttlMs: 1000, leaseMs: 1000, allowShortLease: true })).not.toThrow();
  });
});

describe.each(BACKENDS)('review: the lease follows the invocation deadline on %s', (name) => {
  const backend = useBackend(name);

  const make = (fn: (input: unknown, ctx: Context) => unknown, extra: Partial<IdempotencyOptions> = {}, sink: (line: string) => void = () => undefined) =>
    handler({ name: `lease-${randomUUID()}`, logSink: sink, logLevel: 'warn', use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false, ...extra })] }, fn);

  it('a 15-minute Lambda holds its key until its deadline, not 5 minutes; its duplicate is told Retry-After: 5', async () => {
    const gate = deferred();
    let runs = 0;
    let held: InProgressRecord | undefined;
    const log = codes();
    const main = make(async (_input, ctx) => {
      runs++;
      held = (await backend.store.get(heldIdempotencyKey(ctx)!)) as InProgressRecord;
      await gate.promise;
      return { ok: true };
    }, {}, log.sink);
    const key = randomUUID();
    const startedAt = Date.now();
    const first = main.aws(urlEvent({ key, body: { a: 1 } }), lambdaContext(randomUUID(), 'orders', 15 * MINUTE)) as Promise<LambdaHttp>;
    await eventually(() => held !== undefined);
    expect(held).toMatchObject({ status: 'in_progress' });
    // The deadline, 15 minutes after the start: no duplicate can take the key over before it.
    expect(held!.leaseUntil).toBeGreaterThan(startedAt + 14 * MINUTE);
    const twin = (await main.aws(urlEvent({ key, body: { a: 1 } }), lambdaContext(randomUUID(), 'orders', 15 * MINUTE))) as LambdaHttp;
    expect(twin.statusCode).toBe(409);
    expect(twin.headers['Retry-After']).toBe('5');
    gate.resolve();
    expect((await first).statusCode).toBe(200);
    expect(runs).toBe(1);
    // Nothing to warn about: the lease is the deadline.
    expect(log.seen).toEqual([]);
  });

  it('a deadline further off than a lease store keeps (given to invoke()) holds the key for at most 10^12 ms, not a refused claim', async () => {
    let held: InProgressRecord | undefined;
    const main = make(async (_input, ctx) => {
      held = (await backend.store.get(heldIdempotencyKey(ctx)!)) as InProgressRecord;
      return { ok: true };
    });
    expect(await main.invoke({ a: 1 }, { deliveryId: randomUUID(), deadline: Date.now() + 2e12 })).toEqual({ ok: true });
    // The store stamps the lease by its own clock (MongoDB: the server's), a few ms off ours: the
    // bound is 10^12 ms (not the deadline's 2 × 10^12) give or take that skew.
    expect(held!.leaseUntil).toBeLessThanOrEqual(Date.now() + 1e12 + 5_000);
    expect(held!.leaseUntil).toBeGreaterThan(Date.now() + 1e12 - 3_600_000);
  });

  it('an explicit leaseMs shorter than the remaining time is kept, and warns IDEMPOTENCY_LEASE_SHORT once per plugin instance', async () => {
    let held: InProgressRecord | undefined;
    const log = codes();
    const main = make(async (_input, ctx) => {
      held = (await backend.store.get(heldIdempotencyKey(ctx)!)) as InProgressRecord;
      return { ok: true };
    }, { leaseMs: 2 * MINUTE }, log.sink);
    const startedAt = Date.now();
    for (let i = 0; i < 3; i++) await main.invoke({ i }, { deliveryId: randomUUID(), deadline: Date.now() + 60 * MINUTE });
    expect(held!.leaseUntil).toBeLessThanOrEqual(Date.now() + 2 * MINUTE + 1_000);
    expect(held!.leaseUntil).toBeGreaterThan(startedAt + MINUTE);
    expect(log.seen).toEqual(['IDEMPOTENCY_LEASE_SHORT']);
  });

  it('allowShortLease: true keeps the short lease and says nothing: a short lease chosen on purpose', async () => {
    let held: InProgressRecord | undefined;
    const log = codes();
    const main = make(async (_input, ctx) => {
      held = (await backend.store.get(heldIdempotencyKey(ctx)!)) as InProgressRecord;
      return { ok: true };
    }, { leaseMs: 2 * MINUTE, allowShortLease: true }, log.sink);
    const startedAt = Date.now();
    for (let i = 0; i < 2; i++) await main.invoke({ i }, { deliveryId: randomUUID(), deadline: Date.now() + 60 * MINUTE });
    // The same lease as without the option: only the warning goes.
    expect(held!.leaseUntil).toBeLessThanOrEqual(Date.now() + 2 * MINUTE + 1_000);
    expect(held!.leaseUntil).toBeGreaterThan(startedAt + MINUTE);
    expect(log.seen).toEqual([]);
  });

  it('with no deadline known, the key is held for 5 minutes and IDEMPOTENCY_LEASE_NO_DEADLINE is said once; not under invoke()', async () => {
    let held: InProgressRecord | undefined;
    const log = codes();
    const main = make(async (_input, ctx) => {
      held = (await backend.store.get(heldIdempotencyKey(ctx)!)) as InProgressRecord;
      return { ok: true };
    }, {}, log.sink);
    // A Lambda context with no clock (the adapter reads no deadline from it).
    const noClock = () => ({ awsRequestId: randomUUID(), functionName: 'orders' });
    for (let i = 0; i < 2; i++) await main.aws(urlEvent({ key: randomUUID(), body: { i } }), noClock() as never);
    expect(held!.leaseUntil).toBeLessThanOrEqual(Date.now() + 5 * MINUTE + 1_000);
    expect(log.seen).toEqual(['IDEMPOTENCY_LEASE_NO_DEADLINE']);
    const quiet = codes();
    const direct = make(() => ({ ok: true }), {}, quiet.sink);
    await direct.invoke({ a: 1 }, { deliveryId: randomUUID() });
    expect(quiet.seen).toEqual([]);
    // A leaseMs set says how long to hold the key: 300000 keeps the 5 minutes, without the warning.
    const chosen = codes();
    const set = make(() => ({ ok: true }), { leaseMs: 5 * MINUTE }, chosen.sink);
    await set.aws(urlEvent({ key: randomUUID(), body: { a: 1 } }), noClock() as never);
    expect(chosen.seen).toEqual([]);
  });
});
