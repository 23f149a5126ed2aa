/**
 * The thaw check after `idleThresholdMs` sends a PING on the shared connection. When another
 * caller's healthy blocking command was in flight (a `BLPOP key 2`, a worker's queue read), the
 * PING queued behind it, was not answered within `pingTimeoutMs`, and the healthy client was
 * rebuilt: the BLPOP failed with "Connection is closed." (a reply the server popped could be
 * lost). Now a ping sent behind blocking commands with a timeout of their own is given that time
 * on top of `pingTimeoutMs` (a PING on that connection cannot be answered sooner); a dead socket
 * still fails the check, only later. The real Redis (REDIS_URL) and Cluster; a fault proxy for
 * the dead socket.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { redis, redisCluster } from '../src/redis.js';
import { clusterNodes } from '../../../test/support/redis.js';
import { eventually } from '../../../test/support/wait.js';
import { proxiedRedis } from './support/proxied-redis.js';

/** The shared Redis behind a fault proxy, for the dead socket (its hooks close every handle after each test). */
const rig = proxiedRedis();

const settle = (p: Promise<unknown>) => p.then((v) => ({ ok: v }), (e: unknown) => ({ err: (e as Error).message }));
/** Lets the handle idle past its threshold (a condition on the clock, not a timed assertion). */
async function idlePast(handle: { stats: { lastUsedAt: number | undefined } }, ms: number): Promise<void> {
  const since = handle.stats.lastUsedAt ?? Date.now();
  await eventually(() => Date.now() - since > ms, 10_000, 20);
}

it("redis(): a thaw check while another caller's BLPOP is in flight waits for it instead of rebuilding the client", async () => {
  const handle = redis({ url: process.env.REDIS_URL!, name: `thaw-behind-${randomUUID()}`, idleThresholdMs: 100, pingTimeoutMs: 300 });
  const consumer = await handle.get({ signal: AbortSignal.timeout(60_000) });
  const blocked = settle(consumer.blpop(`thaw-behind-${randomUUID()}`, 1));
  await idlePast(handle, 150);
  const next = await handle.get({ signal: AbortSignal.timeout(20_000) });
  // Before: the ping behind the BLPOP timed out, the client was rebuilt and the BLPOP failed.
  expect(next === consumer).toBe(true);
  expect(await blocked).toEqual({ ok: null });
  expect(handle.stats).toMatchObject({ pings: 1, pingFailures: 0, connects: 1 });
}, 30_000);

it("redis(): a check cut off by a deadline while behind a healthy BLPOP does not use up the BLPOP's time: the next check still waits for it", async () => {
  const handle = redis({ url: process.env.REDIS_URL!, name: `thaw-behind-${randomUUID()}`, idleThresholdMs: 100, pingTimeoutMs: 300 });
  const consumer = await handle.get({ signal: AbortSignal.timeout(60_000) });
  const writtenAt = Date.now();
  const blocked = settle(consumer.blpop(`thaw-behind-${randomUUID()}`, 3));
  await idlePast(handle, 150);
  expect(await settle(handle.get({ signal: AbortSignal.timeout(800) }))).toMatchObject({ err: expect.stringMatching(/abort|timeout/i) });
  // Past pingTimeoutMs since that ping was sent, before the BLPOP's 3 s are over.
  await eventually(() => Date.now() - writtenAt > 2_000, 10_000, 20);
  const next = await handle.get({ signal: AbortSignal.timeout(20_000) });
  expect(next === consumer).toBe(true);
  expect(await blocked).toEqual({ ok: null });
  expect(handle.stats).toMatchObject({ pings: 2, pingFailures: 0, connects: 1 });
}, 30_000);

it('redisCluster(): the same for a BLPOP on one master', async () => {
  const handle = redisCluster({ nodes: clusterNodes(), name: `thaw-behind-${randomUUID()}`, idleThresholdMs: 100, pingTimeoutMs: 300 });
  const consumer = await handle.get({ signal: AbortSignal.timeout(60_000) });
  const blocked = settle(consumer.blpop(`thaw-behind-${randomUUID()}`, 1));
  await idlePast(handle, 150);
  const next = await handle.get({ signal: AbortSignal.timeout(20_000) });
  expect(next === consumer).toBe(true);
  expect(await blocked).toEqual({ ok: null });
  expect(handle.stats).toMatchObject({ pings: 1, pingFailures: 0, connects: 1 });
}, 30_000);

it('a BLPOP on a silently dead socket: the thaw check still fails once its timeout and pingTimeoutMs have passed, and the client is rebuilt', async () => {
  const handle = redis({ url: `redis://127.0.0.1:${rig.proxy.port}`, name: `thaw-behind-${randomUUID()}`, idleThresholdMs: 100, pingTimeoutMs: 300 });
  const consumer = await handle.get({ signal: AbortSignal.timeout(60_000) });
  expect(await consumer.ping()).toBe('PONG');
  rig.proxy.blackholeAll();
  void consumer.blpop(`thaw-behind-${randomUUID()}`, 1).catch(() => undefined);
  await idlePast(handle, 150);
  const next = await handle.get({ signal: AbortSignal.timeout(20_000) });
  expect(next === consumer).toBe(false);
  expect(await next.ping()).toBe('PONG');
  expect(handle.stats).toMatchObject({ pings: 1, pingFailures: 1, connects: 2 });
}, 30_000);

it("a BLPOP written on a silently dead socket whose own timeout has passed gives the thaw check no extra time: rebuilt after pingTimeoutMs, within the invocation's deadline", async () => {
  const handle = redis({ url: `redis://127.0.0.1:${rig.proxy.port}`, name: `thaw-behind-${randomUUID()}`, idleThresholdMs: 100, pingTimeoutMs: 300 });
  const consumer = await handle.get({ signal: AbortSignal.timeout(60_000) });
  expect(await consumer.ping()).toBe('PONG');
  rig.proxy.blackholeAll();
  const writtenAt = Date.now();
  void consumer.blpop(`thaw-behind-${randomUUID()}`, 3).catch(() => undefined);
  // The BLPOP's 3 s are over: a live server would have answered it by now.
  await eventually(() => Date.now() - writtenAt > 3_200, 10_000, 20);
  // Before: the check was given the BLPOP's whole 3 s on top of pingTimeoutMs, past this deadline: TimeoutError, client kept.
  const next = await handle.get({ signal: AbortSignal.timeout(2_500) });
  expect(next === consumer).toBe(false);
  expect(await next.ping()).toBe('PONG');
  expect(handle.stats).toMatchObject({ pings: 1, pingFailures: 1, connects: 2, reconnects: 1 });
}, 30_000);
