/**
 * The per-invocation record says how each client was obtained: `new` is the instance's first
 * client, `reconnected` a client rebuilt in place of one it had. After a first connect that
 * failed (the server not answering in time), the first client the instance ever got was
 * recorded as `reconnected` and counted in `stats.reconnects`, so a dashboard alerting on
 * reconnects (thawed instances meeting dead sockets) fired on a cold start that merely
 * retried its connect. Real Redis: a private redis-server frozen with SIGSTOP, then thawed.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handler, type Context } from '@steadyfn/handler';
import { closeAll, connections, connectionsRecord } from '../src/index.js';
import { redis } from '../src/redis.js';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';

let own: OwnServer & { url: string };
beforeAll(async () => {
  own = await startRedis();
});
afterAll(async () => {
  await own.dispose();
});
afterEach(async () => {
  own.thaw();
  await closeAll();
});

describe('the first client of an instance, after a first connect that failed', () => {
  it('is recorded as new, not reconnected, and counts no reconnect', async () => {
    const key = `review-first-label:${randomUUID()}`;
    const handle = redis({ url: own.url, name: 'first-label' });
    const main = handler(
      { use: [connections({ redis: handle }, { closeOnSigterm: false })], deadlineMarginMs: 100, logSink: () => undefined },
      async (_input, ctx: Context<{ redis: Redis }>) => ({ value: await ctx.redis.get(key), state: connectionsRecord(ctx)?.redis?.state }),
    );
    own.freeze();
    await expect(main.invoke({}, { deadline: Date.now() + 500 })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    own.thaw();
    expect(await main.invoke({}, { deadline: Date.now() + 5_000 })).toEqual({ value: null, state: 'new' });
    expect(handle.stats.connects).toBe(1);
    expect(handle.stats.reconnects).toBe(0);
    // A rebuild of a client the instance had is still `reconnected`: review-aborted-flight and src/handle.test.ts hold that.
  });
});
