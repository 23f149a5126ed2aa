/**
 * A client taken with `handle.get()` and used directly — how `@steadyfn/state` sources use a
 * handle (`redisHash({ client: () => handle.get() })`), or a function without the connections
 * plugin — on a silently dead socket (a NAT mapping expired while frozen: bytes vanish, nothing
 * answers) within the idle threshold, so no thaw check runs. The command hung until the
 * invocation's deadline (DEADLINE_EXCEEDED, as it should), but nothing told the handle: only its
 * own `run`/`ctx.redis` commands and the plugin's deadline hook distrusted a client. So every
 * later invocation within the idle threshold was handed the same dead client and hung too —
 * measured, a state over a blackholed handle failed 8 invocations in 8 (a stale state served
 * until `staleIfErrorMs` ran out, then DEADLINE_EXCEEDED every time), for as long as the
 * kernel kept retransmitting (~15 min). Now a signal a client was handed out under is watched:
 * when it aborts while the client has an operation in flight, the client is checked before its
 * next use (one ping, which fails: rebuilt). The shared Redis behind a fault proxy.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { redis } from '../src/redis.js';
import { proxiedRedis } from './support/proxied-redis.js';

/** The shared Redis behind a fault proxy (its hooks close every handle after each test). */
const rig = proxiedRedis();
const key = `handed-out-cut-off:${randomUUID()}`;
beforeAll(async () => {
  await rig.direct.set(key, 'v', 'EX', 600);
});
afterAll(async () => {
  await rig.direct.del(key);
});

it('an invocation cut off by its deadline in a command on a client from handle.get(): the next invocation within the idle threshold runs on a rebuilt client', async () => {
  const handle = redis({ url: `redis://127.0.0.1:${rig.proxy.port}`, idleThresholdMs: 600_000, pingTimeoutMs: 300 });
  // No connections plugin: the client is only ever taken with get(), as a state source does.
  const main = handler({ logSink: () => undefined }, async () => (await handle.get()).get(key));
  const call = (deadlineMs: number) => main.invoke({}, { deadline: Date.now() + deadlineMs }).catch((err: unknown) => (err as { code?: unknown }).code);
  expect(await call(10_000)).toBe('v');
  const first = handle.peek();
  rig.proxy.blackholeAll();
  expect(await call(700)).toBe('DEADLINE_EXCEEDED');
  // Before: the same dead client again, DEADLINE_EXCEEDED on every invocation.
  expect(await call(10_000)).toBe('v');
  expect(handle.peek()).not.toBe(first);
  expect(handle.stats).toMatchObject({ pings: 1, pingFailures: 1, connects: 2 });
}, 30_000);

it('a caller that gives up (its signal aborts) on a command of its own: the next get() checks the client first', async () => {
  const handle = redis({ url: `redis://127.0.0.1:${rig.proxy.port}`, idleThresholdMs: 600_000, pingTimeoutMs: 300 });
  const first = await handle.get({ signal: AbortSignal.timeout(10_000) });
  expect(await first.get(key)).toBe('v');
  rig.proxy.blackholeAll();
  const caller = new AbortController();
  const client = await handle.get({ signal: caller.signal });
  expect(client).toBe(first);
  void client.get(key).catch(() => undefined); // hangs on the dead socket
  caller.abort(new Error('gave up'));
  const next = await handle.get({ signal: AbortSignal.timeout(10_000) });
  expect(next).not.toBe(first);
  expect(await next.get(key)).toBe('v');
  expect(handle.stats).toMatchObject({ pings: 1, pingFailures: 1, connects: 2 });
}, 30_000);

it('a signal that aborts while the client has nothing in flight leaves it as it is (no ping)', async () => {
  const handle = redis({ url: `redis://127.0.0.1:${rig.proxy.port}`, idleThresholdMs: 600_000, pingTimeoutMs: 300 });
  const caller = new AbortController();
  const client = await handle.get({ signal: caller.signal });
  expect(await client.get(key)).toBe('v');
  caller.abort(new Error('done'));
  expect(await handle.get({ signal: AbortSignal.timeout(10_000) })).toBe(client);
  expect(handle.stats).toMatchObject({ pings: 0, connects: 1 });
}, 30_000);
