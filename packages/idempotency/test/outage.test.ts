/**
 * A Redis outage under a plain ioredis client (the user's own `new Redis(url)` with its
 * defaults: offline queue on, 20 retries per request), not a `@steadyfn/connections` handle.
 * Issue 7 measured such calls answering after 7.3–12.3 s against a 3 s deadline. The handler
 * core races every hook against the deadline, so the answer is the typed DEADLINE_EXCEEDED
 * within the deadline the platform gave, and the function never starts. Behaviour, not
 * speed: no clock is read. That the answer did not wait for the store is shown by what could not
 * have happened yet when it came — the frozen server cannot have answered (it is thawed only
 * after), the stopped server's client has not yet spent the reconnects after which ioredis gives
 * the queued command up (`maxRetriesPerRequest`) — and a hang fails the test at its timeout.
 *
 * The server is this file's own (stopped and frozen here), never the shared one.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { idempotency, redisStore } from '../src/index.js';
import { startOwnRedis, type OwnRedis } from './own-redis.js';
import { httpEvent, lambdaContext, silentSink } from './support.js';

const DEADLINE_MS = 3_000;

let server: OwnRedis;
let client: Redis;
let effects = 0;

function app() {
  return handler({ name: 'outage', logSink: silentSink(), use: [idempotency({ store: redisStore({ client, prefix: `outage-${randomUUID().slice(0, 8)}:` }), ttlMs: 3_600_000, localCache: false })] }, () => {
    effects++;
    return { charged: true };
  });
}

/** ioredis' default `maxRetriesPerRequest`: a command queued while reconnecting is rejected after this many reconnects. */
const IOREDIS_RETRIES_PER_REQUEST = 20;

/** One API Gateway request with `DEADLINE_MS` on Lambda's clock: its status and code. */
async function call(main: ReturnType<typeof app>, key: string) {
  const res = (await main(httpEvent({ key, body: { amount: 5 } }), lambdaContext(randomUUID(), 'outage', DEADLINE_MS))) as { statusCode: number; body: string };
  return { status: res.statusCode, code: (JSON.parse(res.body) as { code?: string }).code };
}

beforeAll(async () => {
  server = await startOwnRedis();
  client = new Redis(server.url);
  // ioredis reports every failed reconnect as an 'error' event; the test reads the answers.
  client.on('error', () => undefined);
  await client.ping();
});

afterEach(() => {
  server.thaw();
});

afterAll(async () => {
  client?.disconnect();
  await server?.stop();
});

describe('idempotency on a plain ioredis client during a Redis outage (issue 7)', () => {
  it('a frozen server: 504 DEADLINE_EXCEEDED within the 3 s deadline, the function never ran; it answers again once the server does', async () => {
    const main = app();
    effects = 0;
    server.freeze();
    const answer = await call(main, randomUUID());
    // Answered while the server is still frozen (thawed below): the store's command has had no
    // reply, so the deadline answered, not the store (a handler that waited for it hangs here).
    expect(answer).toMatchObject({ status: 504, code: 'DEADLINE_EXCEEDED' });
    expect(effects).toBe(0);
    server.thaw();
    // The commands queued on the frozen connection are answered now; a new request runs once.
    const after = await call(main, randomUUID());
    expect(after).toMatchObject({ status: 200 });
    expect(effects).toBe(1);
  });

  it('a stopped server (port closed, the client reconnecting with its offline queue): answered within the deadline, the function never ran', async () => {
    const main = app();
    effects = 0;
    let reconnects = 0;
    const counting = (): void => void reconnects++;
    client.on('reconnecting', counting);
    await server.stop();
    const answer = await call(main, randomUUID());
    const reconnectsWhenAnswered = reconnects;
    client.off('reconnecting', counting);
    // ioredis keeps the command queued while it reconnects: the deadline answers first — before
    // ioredis gives the command up (with backoff 50 ms × n, that is ~10 s of reconnects; a loaded
    // machine reconnects less often, never more), and so before the store could answer at all.
    expect(answer).toMatchObject({ status: 504, code: 'DEADLINE_EXCEEDED' });
    expect(reconnectsWhenAnswered).toBeLessThan(IOREDIS_RETRIES_PER_REQUEST);
    expect(effects).toBe(0);
  });
});
