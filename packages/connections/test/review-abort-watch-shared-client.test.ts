/**
 * One ioredis client is shared by every caller of a handle. When a caller's signal aborted (or an
 * invocation was cut off by its deadline), the client was suspected whenever it had any command in
 * flight — also another caller's healthy blocking read (BLPOP) — and the ping then queued behind
 * that read on the same connection, timed out, and the client was rebuilt: the reader's BLPOP
 * failed with "Connection is closed." (a reply popped from the list by the server could be lost).
 * Now a client is suspected only when the oldest command in flight at the cut-off is a
 * non-blocking one and is still unanswered at the next use, with no reply since. (The dead-socket
 * case stays covered by review-handed-out-cut-off.test.ts.)
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { afterEach, expect, it } from 'vitest';
import { closeAll, connections } from '../src/index.js';
import { redis } from '../src/redis.js';

afterEach(async () => {
  await closeAll();
});

const settle = (p: Promise<unknown>) => p.then((v) => ({ ok: v }), (e: unknown) => ({ err: (e as Error).message }));

it("a caller's signal aborting after its own command answered does not cost the client another caller is blocked on", async () => {
  const handle = redis({ url: process.env.REDIS_URL!, name: `abort-watch-${randomUUID()}`, idleThresholdMs: 600_000, pingTimeoutMs: 300 });
  const key = `abort-watch-${randomUUID()}`;
  const a = new AbortController();
  const client = await handle.get({ signal: a.signal });
  expect(await client.exists('nothing')).toBe(0);
  const consumer = await handle.get({ signal: AbortSignal.timeout(60_000) });
  const blocked = settle(consumer.blpop(key, 1));
  a.abort(new Error('A gave up'));
  expect((await handle.get({ signal: AbortSignal.timeout(10_000) })) === consumer).toBe(true);
  // Before: pings 1, pingFailures 1, connects 2, and B's BLPOP failed with "Connection is closed."
  expect(await blocked).toEqual({ ok: null });
  expect(handle.stats).toMatchObject({ pings: 0, pingFailures: 0, connects: 1 });
}, 30_000);

it('an invocation cut off by its deadline while another caller blocks on the shared client leaves the client as it is', async () => {
  const handle = redis({ url: process.env.REDIS_URL!, name: `abort-watch-${randomUUID()}`, idleThresholdMs: 600_000, pingTimeoutMs: 300 });
  const key = `abort-watch-${randomUUID()}`;
  const main = handler({ use: [connections({ cache: handle }, { closeOnSigterm: false })], deadlineMarginMs: 100, logSink: () => undefined }, async (input: unknown, ctx) => {
    if (input === 'hang') return new Promise(() => undefined); // hangs on something that is not the client
    return ctx.cache.exists('nothing');
  });
  const call = (input: string, deadlineMs: number) => main.invoke(input, { deadline: Date.now() + deadlineMs }).catch((err: unknown) => (err as { code?: unknown }).code);
  expect(await call('use', 10_000)).toBe(0);
  const consumer = await handle.get({ signal: AbortSignal.timeout(60_000) });
  const blocked = settle(consumer.blpop(key, 2));
  expect(await call('hang', 500)).toBe('DEADLINE_EXCEEDED');
  expect(await call('use', 10_000)).toBe(0);
  expect(await blocked).toEqual({ ok: null });
  expect(handle.stats).toMatchObject({ pingFailures: 0, connects: 1 });
}, 30_000);
