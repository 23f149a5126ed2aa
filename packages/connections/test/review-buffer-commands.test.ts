/**
 * `ctx.redis`'s Buffer twins (`getBuffer`, `hgetallBuffer`, `hincrbyfloatBuffer`, … — ioredis has one
 * per command, for replies as bytes) and its generic `call` / `callBuffer` are command methods
 * like `get`: they must go through the handle (a read repeated once after a connection error, a
 * write never sent twice blindly, bounded by the deadline, a cut-off command leaving the client
 * checked before its next use). They were passed to the client unchanged: a `getBuffer` on a
 * connection reset between invocations failed the invocation with an untyped 500 `INTERNAL`
 * (ioredis' `MaxRetriesPerRequestError`) where `get` answered, and one cut off by the deadline
 * on a silently dead socket left that socket in use, so every later invocation hung until its
 * deadline. Real Redis (REDIS_URL) behind a fault proxy.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { handler, type Context } from '@steadyfn/handler';
import { connections } from '../src/index.js';
import { redis } from '../src/redis.js';
import { proxiedRedis } from './support/proxied-redis.js';

const rig = proxiedRedis();

type Call = (r: Redis, key: string) => Promise<unknown>;

/** What an invocation answered: its value (bytes as text) or its error's code and whether it is retryable. */
async function outcomeOf(main: { invoke(input: unknown, options: { deadline: number }): Promise<unknown> }, deadline: number): Promise<unknown> {
  try {
    return await main.invoke({}, { deadline });
  } catch (err) {
    const { code, retryable } = err as { code?: unknown; retryable?: unknown };
    return { code, retryable };
  }
}

function functionOf(name: string, call: Call, key: string, margin = 500) {
  const handle = redis({ url: `redis://127.0.0.1:${rig.proxy.port}`, name });
  const main = handler({ use: [connections({ redis: handle }, { closeOnSigterm: false })], deadlineMarginMs: margin, logSink: () => undefined }, async (_input, ctx: Context<{ redis: Redis }>) => {
    const value = await call(ctx.redis, key);
    return Buffer.isBuffer(value) ? value.toString() : value;
  });
  return { handle, main };
}

const READS: Array<[string, Call]> = [
  ['getBuffer', (r, k) => r.getBuffer(k)],
  ['hgetallBuffer', async (r, k) => JSON.stringify(Object.fromEntries(Object.entries(await r.hgetallBuffer(`${k}:h`)).map(([f, v]) => [f, v.toString()])))],
  ["call('GET')", (r, k) => r.call('GET', k)],
  ["callBuffer('GET')", (r, k) => r.callBuffer('GET', k)],
];

describe('ctx.redis Buffer twins and call() after a connection reset between invocations', () => {
  it.each(READS)('%s, a read, is sent once more on a rebuilt connection and answers, as get does', async (name, call) => {
    const key = `review-buffer:${randomUUID()}`;
    await rig.direct.set(key, 'v');
    await rig.direct.hset(`${key}:h`, 'f', 'v');
    const { main } = functionOf(`read-${name}`, call, key);
    const expected = name === 'hgetallBuffer' ? '{"f":"v"}' : 'v';
    expect(await main.invoke({}, { deadline: Date.now() + 5_000 })).toBe(expected);
    // Reset, and the next invocation at once: the command goes out on the reset socket.
    rig.proxy.resetAll();
    expect(await outcomeOf(main, Date.now() + 5_000)).toBe(expected);
  });

  it.each<[string, Call, (key: string) => Promise<string | null>]>([
    ['incr', (r, k) => r.incr(k), (k) => rig.direct.get(k)],
    ['hincrbyfloatBuffer', (r, k) => r.hincrbyfloatBuffer(k, 'f', 1), (k) => rig.direct.hget(k, 'f')],
    ["call('INCR')", (r, k) => r.call('INCR', k), (k) => rig.direct.get(k)],
  ])('%s, a write, is never sent twice: its answer is the count or a typed 503 CONNECTION_LOST', async (name, call, counter) => {
    const key = `review-buffer:${randomUUID()}`;
    const { main } = functionOf(`write-${name}`, call, key);
    await main.invoke({}, { deadline: Date.now() + 5_000 });
    rig.proxy.resetAll();
    const outcome = await outcomeOf(main, Date.now() + 5_000);
    const count = Number(await counter(key));
    if (typeof outcome === 'object') expect(outcome).toEqual({ code: 'CONNECTION_LOST', retryable: true });
    else expect(Number(outcome)).toBe(count);
    expect(count).toBeLessThanOrEqual(2);
  });
});

describe('a Buffer twin cut off by the deadline on a silently dead socket', () => {
  it('leaves the client checked before its next use: the next invocation runs on a rebuilt client', async () => {
    const key = `review-buffer:${randomUUID()}`;
    await rig.direct.set(key, 'v');
    const { main, handle } = functionOf('dead-getBuffer', (r, k) => r.getBuffer(k), key, 100);
    expect(await main.invoke({}, { deadline: Date.now() + 5_000 })).toBe('v');
    rig.proxy.blackholeAll();
    const first = Date.now();
    expect(await outcomeOf(main, first + 1_500)).toEqual({ code: 'DEADLINE_EXCEEDED', retryable: true });
    expect(Date.now() - first).toBeLessThan(3_000); // bounded by its deadline (answered at 1 400 ms), with slack for a loaded machine
    // The ping (1 000 ms) fails within this deadline and the client is rebuilt.
    expect(await outcomeOf(main, Date.now() + 2_500)).toBe('v');
    expect(handle.stats).toMatchObject({ pingFailures: 1, reconnects: 1 });
  });
});
