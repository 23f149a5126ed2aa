/**
 * `send_command` is ioredis' deprecated alias of `call` (`Commander.prototype.send_command =
 * Commander.prototype.call`, untyped but present): older code and libraries written for
 * node_redis still use it. On `ctx.redis` it must go through the handle like `call` (a read sent
 * once more after a connection error, a write never sent twice blindly). It was passed to the
 * client unchanged, so after a connection reset between invocations it failed the invocation
 * with an untyped 500 `INTERNAL` where `call` answered. Real Redis (REDIS_URL) behind a fault proxy.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { handler, type Context } from '@steadyfn/handler';
import { connections } from '../src/index.js';
import { redis } from '../src/redis.js';
import { proxiedRedis } from './support/proxied-redis.js';

const rig = proxiedRedis();

type SendCommand = (command: string, ...args: unknown[]) => Promise<unknown>;
const sendCommand = (r: Redis, ...args: [string, ...unknown[]]): Promise<unknown> => (r as unknown as { send_command: SendCommand }).send_command(...args);

async function outcomeOf(main: { invoke(input: unknown, options: { deadline: number }): Promise<unknown> }): Promise<unknown> {
  try {
    return await main.invoke({}, { deadline: Date.now() + 5_000 });
  } catch (err) {
    const { code, retryable } = err as { code?: unknown; retryable?: unknown };
    return { code, retryable };
  }
}

function functionOf(name: string, command: string, key: string) {
  const handle = redis({ url: `redis://127.0.0.1:${rig.proxy.port}`, name });
  return handler({ use: [connections({ redis: handle }, { closeOnSigterm: false })], logSink: () => undefined }, async (_input, ctx: Context<{ redis: Redis }>) =>
    sendCommand(ctx.redis, command, key),
  );
}

describe("ctx.redis.send_command (ioredis' alias of call) after a connection reset between invocations", () => {
  it("send_command('GET'), a read, is sent once more on a rebuilt connection and answers, as call('GET') does", async () => {
    const key = `review-send-command:${randomUUID()}`;
    await rig.direct.set(key, 'v');
    const main = functionOf('send-command-read', 'GET', key);
    expect(await outcomeOf(main)).toBe('v');
    rig.proxy.resetAll();
    expect(await outcomeOf(main)).toBe('v');
  });

  it("send_command('INCR'), a write, is never sent twice: its answer is the count or a typed 503 CONNECTION_LOST", async () => {
    const key = `review-send-command:${randomUUID()}`;
    const main = functionOf('send-command-write', 'INCR', key);
    expect(await outcomeOf(main)).toBe(1);
    rig.proxy.resetAll();
    const outcome = await outcomeOf(main);
    const count = Number(await rig.direct.get(key));
    if (typeof outcome === 'object') expect(outcome).toEqual({ code: 'CONNECTION_LOST', retryable: true });
    else expect(outcome).toBe(count);
    expect(count).toBeLessThanOrEqual(2);
  });
});
