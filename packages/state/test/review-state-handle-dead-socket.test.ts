/**
 * Review: a Redis source over a `@steadyfn/connections` handle, as the README plugs one in, whose
 * socket went silently dead (a NAT mapping expired while the instance was frozen: bytes vanish,
 * nothing answers) within the handle's idle threshold. The revalidation's HGET hung; the state
 * gave it half the invocation's time and served the last good state (as it should) — but the
 * handle was never told that a command on its client had been given up on, so each later
 * revalidation was handed the same dead client and hung too: the last good state for the whole of
 * `staleIfErrorMs` (5 min in the README), then DEADLINE_EXCEEDED on every invocation. Now the
 * Redis sources give the client function the load's signal (`{ signal }`), a handle's `get`
 * watches it, and the client is checked (one ping, which fails: rebuilt) before its next use: the
 * next revalidation reads the new value. The shared Redis behind a fault proxy.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { z } from 'zod';
import { afterAll, expect, it } from 'vitest';
import { redis } from '../../connections/src/redis.js';
import { proxiedRedis } from '../../connections/test/support/proxied-redis.js';
import { defineState, redisHash, state } from '../src/index.js';

/** The shared Redis behind a fault proxy (its hooks close every handle after each test). */
const rig = proxiedRedis();
const key = `state-dead-socket:${randomUUID()}`;
afterAll(async () => {
  await rig.direct.del(key);
});

it('a revalidation given up on a dead socket of a handle: the next one runs on a rebuilt client and reads the change, within staleIfErrorMs', async () => {
  await rig.direct.hset(key, { plan: 'old', version: '1' });
  const handle = redis({ url: `redis://127.0.0.1:${rig.proxy.port}`, idleThresholdMs: 600_000, pingTimeoutMs: 300 });
  const appState = defineState({
    sources: { flags: redisHash({ client: (o) => handle.get(o), key, versionField: 'version' }) },
    schema: z.object({ flags: z.object({ plan: z.string(), version: z.string() }) }),
    maxAgeMs: 0,
    staleIfErrorMs: 600_000,
    retryAfterErrorMs: 0,
  });
  const main = handler({ use: [state(appState)], logSink: () => undefined }, async (_input, ctx) => ctx.state.flags.plan);
  const call = (deadlineMs: number) => main.invoke({}, { deadline: Date.now() + deadlineMs }).catch((err: unknown) => (err as { code?: unknown }).code);
  expect(await call(10_000)).toBe('old');
  rig.proxy.blackholeAll();
  await rig.direct.hset(key, { plan: 'new', version: '2' });
  // The revalidation hangs on the dead socket: the last good state, within staleIfErrorMs.
  expect(await call(1_500)).toBe('old');
  // Before: the same dead client, the last good state again (and again, until staleIfErrorMs ran out).
  expect(await call(10_000)).toBe('new');
  expect(handle.stats).toMatchObject({ pingFailures: 1, connects: 2 });
}, 30_000);
