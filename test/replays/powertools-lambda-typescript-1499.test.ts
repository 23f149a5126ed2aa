/**
 * aws-powertools/powertools-lambda-typescript#1499 (fixed by PR #1502; regressed later as #2058)
 * https://github.com/aws-powertools/powertools-lambda-typescript/issues/1499
 *
 * With payload validation on, the idempotency utility did not carry the stored payload hash
 * into the record it read back from the persistence layer, so a request replayed on another
 * instance (no local cache) was compared against `undefined`: every genuine retry failed
 * validation, and — in the #2058 regression — a request reusing the key with a different
 * payload was not refused.
 *
 * steadyfn fingerprints every request and checks it against the stored record. Replayed on a
 * real store (Redis, Redis Cluster, FerretDB) with two handler instances sharing it and no
 * local cache: instance 1 completes key K with body A; on instance 2 the same key and body
 * replays (the function does not run), the same key with body B is `422 IDEMPOTENCY_KEY_REUSED`.
 *
 * Also aws-powertools/powertools-lambda-python#3781 (and powertools-lambda-java#2260): when the
 * conditional put failed and the existing item came back with the failure, validation was
 * skipped, so a different payload met the first one's IN_PROGRESS record and got "already in
 * progress" instead of a validation error. Replayed: while instance 1 still runs key K with body
 * A, instance 2 sends K with body B: `422`, not `409`.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '../../packages/handler/src/index.js';
import { idempotency } from '../../packages/idempotency/src/index.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BACKENDS, httpEvent, lambdaContext, silentSink, useBackend } from '../../packages/idempotency/test/support.js';

type LambdaHttp = { statusCode: number; headers: Record<string, string>; body: string };
const Amount = z.object({ amount: z.number() });

describe.each(BACKENDS)('powertools-lambda-typescript#1499 on %s: a record read back from the store is validated against its payload', (name) => {
  const backend = useBackend(name);

  it('another instance replays the same payload and refuses a different one under the same key', async () => {
    let runs = 0;
    const instance = () =>
      handler({ name: 'payments', logSink: silentSink(), input: Amount, use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] }, (input) => ({ run: ++runs, charged: input.amount }));
    const first = instance();
    const second = instance();
    const key = randomUUID();
    const a = (await first.aws(httpEvent({ key, body: { amount: 100 } }), lambdaContext())) as LambdaHttp;
    expect(a.statusCode).toBe(200);
    const replay = (await second.aws(httpEvent({ key, body: { amount: 100 } }), lambdaContext())) as LambdaHttp;
    expect(replay.statusCode).toBe(200);
    expect(JSON.parse(replay.body)).toEqual({ run: 1, charged: 100 });
    expect(replay.headers['idempotency-replayed'] ?? replay.headers['Idempotency-Replayed']).toBe('true');
    const reused = (await second.aws(httpEvent({ key, body: { amount: 999 } }), lambdaContext())) as LambdaHttp;
    expect(reused.statusCode).toBe(422);
    expect(JSON.parse(reused.body)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(runs).toBe(1);
  });

  it('powertools-lambda-python#3781: a different payload meeting the first one in progress is 422, not 409', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const instance = (fn: (input: { amount: number }) => unknown) => handler({ name: 'payments', logSink: silentSink(), input: Amount, use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] }, fn);
    const first = instance(async (input) => {
      started();
      await gate;
      return { charged: input.amount };
    });
    const second = instance(() => ({ unexpected: true }));
    const key = randomUUID();
    const pending = first.aws(httpEvent({ key, body: { amount: 100 } }), lambdaContext()) as Promise<LambdaHttp>;
    await running;
    const other = (await second.aws(httpEvent({ key, body: { amount: 999 } }), lambdaContext())) as LambdaHttp;
    expect(other.statusCode).toBe(422);
    expect(JSON.parse(other.body)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    const same = (await second.aws(httpEvent({ key, body: { amount: 100 } }), lambdaContext())) as LambdaHttp;
    expect(same.statusCode).toBe(409);
    release();
    expect((await pending).statusCode).toBe(200);
  });
});
