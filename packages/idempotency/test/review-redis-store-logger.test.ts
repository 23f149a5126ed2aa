/**
 * Review: `redisStore` takes a `logger` (the shape `@steadyfn/lease`'s `redisLeaseStore`,
 * `@steadyfn/state` and `@steadyfn/connections` take) and hands it to the lease store it wraps,
 * so `LEASE_STORE_EVICTS` — the server may evict records — reaches that logger, once per store,
 * and not the invocation's log as well. Without it the plugin logs it through `ctx.log`
 * (`review-redis-eviction-warning.test.ts`). On a redis-server of this file's own, `allkeys-lru`,
 * reached with a password.
 */
import { randomUUID } from 'node:crypto';
import { createLogger, handler } from '@steadyfn/handler';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotency, redisStore } from '../src/index.js';
import { useOwnRedisServer } from '../../../test/support/own-redis-server.js';
import { httpEvent, lambdaContext } from './support.js';

const own = useOwnRedisServer({ args: ['--maxmemory-policy', 'allkeys-lru'] });
const PASSWORD = `pw-${randomUUID()}`;
let client: Redis;

beforeAll(async () => {
  await own.admin.call('ACL', 'SETUSER', 'orders', 'on', `>${PASSWORD}`, '~*', '+@all');
  client = new Redis(own.url, { username: 'orders', password: PASSWORD });
});
afterAll(() => client?.disconnect());

describe('redisStore({ logger }): the eviction warning goes to the logger given', () => {
  it('once per store to the logger, nothing in the invocation log, no secret in the line', async () => {
    const given: string[] = [];
    const invocation: string[] = [];
    const prefix = `idem-log-${randomUUID().slice(0, 8)}:`;
    const store = redisStore({ client, prefix, logger: createLogger({ component: 'orders' }, (line) => void given.push(line), 'debug') });
    const main = handler({ name: 'orders', logSink: (line) => void invocation.push(line), logLevel: 'warn', use: [idempotency({ store, ttlMs: 60_000, localCache: false })] }, async () => ({ ok: true }));
    const keys = [randomUUID(), randomUUID(), randomUUID()];
    for (const key of [...keys, keys[0]!]) {
      expect(((await main.aws(httpEvent({ key, method: 'POST', body: { a: 1 } }), lambdaContext())) as { statusCode: number }).statusCode).toBe(200);
    }
    const warnings = given.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', code: 'LEASE_STORE_EVICTS', component: 'orders', msg: expect.stringContaining('noeviction') });
    expect(invocation).toEqual([]);
    for (const secret of [PASSWORD, prefix, ...keys, own.url]) expect(given[0]).not.toContain(secret);
  });
});
