/**
 * Review finding (atomicity): the Redis-mode write checks each command's arguments before the
 * script runs, because a script cannot roll back a command that fails half way. But the checks
 * took arguments Redis refuses — `SET … PX 0`, integers with a leading zero or `-0`
 * (`HINCRBY … '01'`, `INCRBY … '007'`, `PEXPIRE … '01'`), a ZADD score of `''` or `' 1'` — so
 * the script failed at that command *after* applying the ones before it: state written with no
 * event, and the error was a retryable `OUTBOX_STORE_UNAVAILABLE`, so the queue ran the function
 * again and again (an `INCRBY` before it counted once per retry). Now such arguments are refused
 * before anything is sent (`OUTBOX_EVENT_INVALID`, nothing written), and the forms Redis
 * accepts still pass.
 */
import { handler } from '@steadyfn/handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { outbox, redisOutbox } from '../../src/index.js';
import { openRedis, type RedisBackend } from '../support.js';

let backend: RedisBackend;
beforeAll(async () => {
  backend = await openRedis('redis');
});
afterAll(async () => {
  await backend?.close();
});

const events = { Changed: { aggregateType: 'order', schema: z.object({}) } };

function writer() {
  const orders = outbox({ events, store: redisOutbox({ client: backend.client, prefix: `${backend.prefix}outbox:` }) });
  return handler({ use: [orders], logSink: () => undefined }, async (input: unknown, ctx) => {
    for (const command of (input as { commands: unknown[][] }).commands) (ctx.outbox.call as (...a: unknown[]) => void)(...command);
    ctx.outbox.add({ type: 'Changed', aggregateId: 'o-1', payload: {} });
    return 'ok';
  });
}

const key = (name: string) => `${backend.prefix}${name}:{o-1}`;
const stream = () => `${backend.prefix}outbox:{o-1}:events`;

describe('Redis-mode command arguments Redis would refuse mid-script', () => {
  it.each([
    ['SET … PX 0', () => ['SET', key('s'), 'v', 'PX', 0]],
    ['SET … PX "01"', () => ['SET', key('s'), 'v', 'PX', '01']],
    ['HINCRBY by "01"', () => ['HINCRBY', key('h'), 'f', '01']],
    ['HINCRBY by "-0"', () => ['HINCRBY', key('h'), 'f', '-0']],
    ['INCRBY by "007"', () => ['INCRBY', key('c'), '007']],
    ['PEXPIRE "01"', () => ['PEXPIRE', key('first'), '01']],
    ['ZADD score ""', () => ['ZADD', key('z'), '', 'm']],
    ['ZADD score " 1"', () => ['ZADD', key('z'), ' 1', 'm']],
  ] as Array<[string, () => unknown[]]>)('%s: refused before the script, nothing written', async (name, bad) => {
    const fn = writer();
    const error = await fn.invoke({ commands: [['INCRBY', key('first'), 1], bad()] }, { deliveryId: `d-${name}` }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', retryable: false });
    expect(await backend.client.exists(key('first'))).toBe(0);
    expect(await backend.client.exists(stream())).toBe(0);
  });

  it('the forms Redis accepts still write state and event together', async () => {
    const fn = writer();
    const commands = [
      ['SET', key('s'), 'v', 'PX', 60_000],
      ['HINCRBY', key('h'), 'f', -5],
      ['HINCRBY', key('h'), 'g', '0'],
      ['INCRBY', key('c'), '10'],
      ['PEXPIRE', key('c'), 0],
      ['ZADD', key('z'), '1.5', 'a', -2, 'b', '1e3', 'c'],
    ];
    await expect(fn.invoke({ commands }, { deliveryId: 'd-good' })).resolves.toBe('ok');
    expect(await backend.client.hgetall(key('h'))).toEqual({ f: '-5', g: '0' });
    expect(await backend.client.exists(key('c'))).toBe(0);
    expect(await backend.client.zrange(key('z'), '0', '-1')).toEqual(['b', 'a', 'c']);
    expect(await backend.client.xlen(stream())).toBe(1);
  });
});

/**
 * The same finding on the values a counter command reads: the script took `'01'` and `'-0'`
 * (stored, or set earlier in the same write) as integers, so `INCRBY` / `HINCRBY` failed inside
 * the script after the commands before it were applied.
 */
describe('counters holding values Redis does not read as integers', () => {
  it.each([
    ['INCRBY on a stored "01"', async () => void (await backend.client.set(key('n'), '01')), ['INCRBY', 'n', 1]],
    ['HINCRBY on a stored "-0"', async () => void (await backend.client.hset(key('n'), 'f', '-0')), ['HINCRBY', 'n', 'f', 1]],
    ['INCRBY after SET "007" in the same write', async () => undefined, ['SET', 'n', '007'], ['INCRBY', 'n', 1]],
  ] as Array<[string, () => Promise<void>, ...unknown[][]]>)('%s: a 409 before anything is written', async (name, prepare, ...commands) => {
    await backend.client.del(key('first'), key('n'));
    await prepare();
    const fn = writer();
    const resolved = commands.map(([command, k, ...rest]) => [command, key(k as string), ...rest]);
    const error = await fn.invoke({ commands: [['INCRBY', key('first'), 1], ...resolved] }, { deliveryId: `d-${name}` }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'OUTBOX_PRECONDITION_FAILED', retryable: false });
    expect(await backend.client.exists(key('first'))).toBe(0);
  });
});
