/**
 * redis/ioredis#1203 ("Unhandled error event: Error: read ECONNRESET at TCP.onStreamRead"; also
 * ueberdosis/hocuspocus#881)
 * https://github.com/redis/ioredis/issues/1203
 *
 * When the server dropped an idle client's connection (an idle timeout, a failover, a
 * restart), ioredis emitted `error` on the client; with no listener attached it printed
 * `[ioredis] Unhandled error event: Error: read ECONNRESET` with a stack to stderr — on every
 * reconnect attempt — and users could not tell it from a crash of their service.
 *
 * steadyfn's connection handles own their clients' events: a dropped connection is noticed,
 * reported through steadyfn's own log records (no stack), and the client is rebuilt for the
 * next invocation. Replayed on a redis-server this file starts and stops (the shared servers are
 * never touched): a warm instance's connection is cut by a server restart while it is idle,
 * the server stays down for a while, then comes back; nothing is printed by ioredis, no
 * uncaught exception or unhandled rejection occurs, an invocation during the outage fails with
 * the retryable `CONNECTION_UNAVAILABLE` / `CONNECTION_LOST`, and the first one after it succeeds.
 */
import { randomUUID } from 'node:crypto';
import { handler, type Context } from '../../packages/handler/src/index.js';
import { closeAll, connections } from '../../packages/connections/src/index.js';
import { redis } from '../../packages/connections/src/redis.js';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRedis, type OwnServer } from '../support/servers.js';

describe('ioredis#1203: a connection the server drops is no "[ioredis] Unhandled error event"', () => {
  let own: OwnServer & { url: string };
  const printed: string[] = [];
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => void uncaught.push(error);
  beforeAll(async () => {
    own = await startRedis();
    for (const method of ['error', 'warn', 'log'] as const) vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
  });
  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    vi.restoreAllMocks();
    await closeAll();
    await own?.dispose();
  });

  it('idle connection cut by a restart, an outage, the server back: nothing printed, no uncaught error, the next invocation succeeds', async () => {
    const key = `replay-1203:${randomUUID()}`;
    const logged: Array<Record<string, unknown>> = [];
    const main = handler(
      { use: [connections({ redis: redis({ url: own.url, name: `r1203-${randomUUID().slice(0, 8)}` }) }, { closeOnSigterm: false })], logLevel: 'info', logSink: (l) => void logged.push(JSON.parse(l)) },
      async (_input: unknown, ctx: Context<{ redis: Redis }>) => ctx.redis.incr(key),
    );
    expect(await main.invoke({}, { deadline: Date.now() + 10_000 })).toBe(1);

    await own.stop(); // the idle warm client's socket is reset
    const during = await main.invoke({}, { deadline: Date.now() + 5_000 }).then(
      () => 'answered',
      (error: { code?: string; retryable?: boolean }) => ({ code: error.code, retryable: error.retryable }),
    );
    expect(during).toMatchObject({ code: expect.stringMatching(/^CONNECTION_(UNAVAILABLE|LOST)$/), retryable: true });
    await new Promise((r) => setTimeout(r, 1_500)); // idle during the outage: the client must not shout about it
    await own.start();

    // A server without persistence lost the key: the count starts again.
    expect(await main.invoke({}, { deadline: Date.now() + 10_000 })).toBe(1);
    expect(printed.filter((l) => /ioredis|ECONNRESET|ECONNREFUSED|Unhandled/i.test(l))).toEqual([]);
    expect(uncaught).toEqual([]);
    expect(JSON.stringify(logged)).not.toMatch(/\n\s+at |"stack"/);
  });
});
