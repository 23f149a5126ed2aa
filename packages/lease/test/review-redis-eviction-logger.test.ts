/**
 * Review: a Redis server whose `maxmemory-policy` may evict keys loses live leases under memory
 * pressure (a second holder, a done key run again). The store already read the policy
 * (`INFO memory`, beside its first claim), but only `@steadyfn/idempotency`'s `redisStore` could
 * say so: `redisLeaseStore` had no logger, and its users were told only by the README. Now it
 * takes `logger` (default: the invocation's `ctx.log`, else stdout), and warns once per store,
 * `LEASE_STORE_EVICTS`, with no secret, key, prefix or address in the line. On a redis-server of
 * this file's own (`allkeys-lru`), reached as an ACL user with a password.
 */
import { randomUUID } from 'node:crypto';
import { createLogger, handler } from '@steadyfn/handler';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisLeaseStore } from '../src/index.js';
import { useOwnRedisServer } from '../../../test/support/own-redis-server.js';

const own = useOwnRedisServer({ args: ['--maxmemory-policy', 'allkeys-lru'] });
const USER = `lease-${randomUUID().slice(0, 8)}`;
const PASSWORD = `pw-${randomUUID()}`;
const clients: Redis[] = [];

beforeAll(async () => {
  await own.admin.call('ACL', 'SETUSER', USER, 'on', `>${PASSWORD}`, '~*', '+@all');
});
afterAll(() => {
  for (const c of clients) c.disconnect();
});

/** A client of the ACL user (its password in the options, as a deployment's would be). */
function userClient(): Redis {
  const c = new Redis(own.url, { username: USER, password: PASSWORD });
  clients.push(c);
  return c;
}

/** A real logger writing JSON lines into `lines`. */
function capture(): { logger: ReturnType<typeof createLogger>; lines: string[]; warnings(): Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const logger = createLogger({}, (line) => void lines.push(line), 'debug');
  return { logger, lines, warnings: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.code === 'LEASE_STORE_EVICTS') };
}

/** Claims `n` fresh keys (and one again), so the store has met its server more than once. */
async function claims(store: ReturnType<typeof redisLeaseStore>, n: number): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = `order-${randomUUID()}`;
    keys.push(key);
    expect(await store.claim({ key, owner: 'worker-1', leaseMs: 30_000 })).toMatchObject({ claimed: true });
  }
  expect(await store.claim({ key: keys[0]!, owner: 'worker-2', leaseMs: 30_000 })).toMatchObject({ claimed: false });
  return keys;
}

describe('redisLeaseStore on a server that may evict (allkeys-lru): one warning per store', () => {
  it('logger given: warned once, level warn, code LEASE_STORE_EVICTS; no password, user, key, prefix or address in the line', async () => {
    const log = capture();
    const prefix = `evict-${randomUUID().slice(0, 8)}:`;
    const store = redisLeaseStore({ client: userClient(), prefix, logger: log.logger });
    const keys = await claims(store, 3);
    // The INFO reply comes in on the claim's connection before the claim's own reply.
    expect(log.warnings()).toHaveLength(1);
    expect(log.warnings()[0]).toMatchObject({ level: 'warn', code: 'LEASE_STORE_EVICTS', msg: expect.stringContaining('noeviction') });
    // Worded for any lease record (the store also holds outbox relay leases and backup locks), not only idempotency records.
    expect(String(log.warnings()[0]!.msg)).toContain('A lease lost to eviction lets a second owner in');
    await claims(store, 2);
    expect(log.lines).toHaveLength(1);
    const line = log.lines[0]!;
    for (const secret of [PASSWORD, USER, prefix, ...keys, own.url, String(new URL(own.url).port)]) expect(line).not.toContain(secret);
  });

  it('each store says it once, two stores on one client each once', async () => {
    const client = userClient();
    const [a, b] = [capture(), capture()];
    await claims(redisLeaseStore({ client, prefix: 'a:', logger: a.logger }), 2);
    await claims(redisLeaseStore({ client, prefix: 'b:', logger: b.logger }), 2);
    expect([a.warnings().length, b.warnings().length]).toEqual([1, 1]);
  });

  it("no logger, inside a handler function: the warning goes to that invocation's ctx.log", async () => {
    const lines: string[] = [];
    const store = redisLeaseStore({ client: userClient(), prefix: `fn-${randomUUID().slice(0, 8)}:` });
    const main = handler({ name: 'relay', logSink: (line) => void lines.push(line), logLevel: 'warn' }, async () => {
      await claims(store, 2);
      return { ok: true };
    });
    await main.aws({}, { awsRequestId: 'req-1', functionName: 'relay', getRemainingTimeInMillis: () => 30_000 } as never);
    const warnings = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.code === 'LEASE_STORE_EVICTS');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', requestId: 'req-1' });
    expect(lines.join('\n')).not.toContain(PASSWORD);
  });

  it('noeviction: nothing logged', async () => {
    await own.admin.call('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    try {
      const log = capture();
      await claims(redisLeaseStore({ client: userClient(), prefix: `keep-${randomUUID().slice(0, 8)}:`, logger: log.logger }), 3);
      await new Promise((r) => setTimeout(r, 100));
      expect(log.lines).toEqual([]);
    } finally {
      await own.admin.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    }
  });

  it('a logger without warn is refused when the store is made (CONFIG_INVALID naming logger)', () => {
    expect(() => redisLeaseStore({ client: userClient(), logger: {} as never })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/^redisLeaseStore\(\): option "logger"/) }));
  });
});
