/**
 * Review: the staleness contract against a store that hangs (a frozen server, a partition —
 * the usual outage in a VPC) while the state is stale but still within `staleIfErrorMs`.
 *
 * The README: "`≥ maxAgeMs`, the revalidation or reload fails (a store is down or times out)
 * … returns the last good state and logs a warning … for the next `retryAfterErrorMs` it serves
 * that state without asking the stores again". But a revalidation was bounded only by
 * `timeoutMs` (default 10 s), longer than most function timeouts (Lambda's default is 3 s):
 * every invocation waited on the hung store until its own deadline and answered 504, the last
 * good state was never served, nothing was logged, and since the load was abandoned rather than
 * failed, `retryAfterErrorMs` never applied — each invocation waited on the store again.
 *
 * The server is this file's own on a free port (frozen and thawed here), never the shared one.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { custom, defineState, redisKey, state } from '../src/index.js';
import { apiGatewayV2 } from '../../../test/support/events.js';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { logLines, manualClock } from './support.js';

let own: OwnServer & { url: string };
let client: Redis;

beforeAll(async () => {
  own = await startRedis();
  client = new Redis(own.url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
});

afterAll(async () => {
  client?.disconnect();
  await own?.dispose();
});

const schema = z.object({ config: z.object({ retries: z.number().int() }) });

describe('a stale state whose store hangs, within staleIfErrorMs', () => {
  it('is served with the warning before the invocation deadline, and for retryAfterErrorMs without asking the store again', async () => {
    await client.set('{app}:config', JSON.stringify({ retries: 9 }));
    await client.set('{app}:config:v', '1');
    const clock = manualClock();
    const log = logLines();
    const cache = defineState({
      sources: { config: redisKey({ client, key: '{app}:config', versionKey: '{app}:config:v' }) },
      schema,
      maxAgeMs: 1_000,
      staleIfErrorMs: 600_000,
      now: clock.now,
      logger: log.logger,
    });
    const lines: Array<Record<string, unknown>> = [];
    const main = handler({ use: [state(cache)], logSink: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) }, async (_input: unknown, ctx) => ({
      retries: ctx.state.config.retries,
    }));
    // Lambda's default timeout is 3 s; the default timeoutMs (10 s) is longer.
    const call = async (deadlineMs = 3_000) => {
      const deadline = Date.now() + deadlineMs;
      const context = { awsRequestId: randomUUID(), functionName: 'orders', getRemainingTimeInMillis: () => deadline - Date.now() };
      const res = (await main(apiGatewayV2({}), context)) as { statusCode: number; body: string };
      return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
    };
    expect(await call()).toEqual({ status: 200, body: { retries: 9 } });

    clock.advance(5_000);
    own.freeze(); // accepts bytes, answers nothing
    try {
      expect(await call()).toEqual({ status: 200, body: { retries: 9 } });
      const warned = log.entries().find((l) => l.msg === 'serving the last good state: reload failed');
      expect(warned).toMatchObject({ level: 'warn', code: 'STATE_UNAVAILABLE', failures: [expect.objectContaining({ field: 'config' })] });
      expect(cache.status().lastError).toMatchObject({ code: 'STATE_UNAVAILABLE' });
      // Within retryAfterErrorMs: the last good state, and no new wait on the hung store.
      clock.advance(100);
      expect(await call()).toEqual({ status: 200, body: { retries: 9 } });
    } finally {
      own.thaw();
    }
    await client.set('{app}:config', JSON.stringify({ retries: 4 }));
    await client.incr('{app}:config:v');
    clock.advance(2_000);
    expect(await call()).toEqual({ status: 200, body: { retries: 4 } });
    expect(cache.status().lastError).toBeUndefined();
  });

  it('a revalidation every waiting invocation gave up on counts as a failed reload: the next get() within retryAfterErrorMs is served the last good state without asking the store', async () => {
    const clock = manualClock();
    let hang = false;
    let loads = 0;
    const cache = defineState({
      sources: {
        config: custom({
          load: (signal) => {
            loads++;
            if (!hang) return { retries: 1 };
            return new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
          },
        }),
      },
      maxAgeMs: 1_000,
      staleIfErrorMs: 600_000,
      now: clock.now,
      logger: logLines().logger,
    });
    expect(await cache.get()).toEqual({ config: { retries: 1 } });
    hang = true;
    clock.advance(5_000);
    const controller = new AbortController();
    const pending = cache.get({ signal: controller.signal });
    controller.abort(new Error('the invocation was cancelled'));
    await expect(pending).rejects.toThrow('the invocation was cancelled');
    expect(loads).toBe(2);
    clock.advance(100);
    expect(await cache.get()).toEqual({ config: { retries: 1 } });
    expect(loads).toBe(2);
    expect(cache.status().lastError).toMatchObject({ code: 'STATE_UNAVAILABLE' });
  });
});
