/**
 * Review finding: `redis({ options: { db: N } })` (or a URL path `/N`) naming a database the
 * server does not have connected "successfully" — ioredis sends SELECT during its handshake,
 * only emits the server's refusal as an 'error' event, and goes on with the connection on
 * database 0. Every command of the function then read and wrote database 0: another
 * application's keyspace, with no error anywhere. A database the server refuses is a bad
 * configuration: a terminal `CONFIG_INVALID` naming the option, nothing written.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { redis } from '../src/redis.js';

const REDIS_URL = process.env.REDIS_URL!;
const key = `review-redis-database:${process.pid}`;
let admin: Redis;
/** The first index the shared server does not have (`databases` is the count, 16 by default). */
let missing: number;

beforeAll(async () => {
  admin = new Redis(REDIS_URL);
  const [, count] = (await admin.config('GET', 'databases')) as [string, string];
  missing = Number(count);
});
/** Removes `key` from databases 0 and 1, so each test sees only its own writes. */
async function clean(): Promise<void> {
  await admin.select(0);
  await admin.del(key);
  await admin.select(1);
  await admin.del(key);
}
beforeEach(clean);
afterEach(closeAll);
afterAll(async () => {
  await clean();
  admin.disconnect();
});

/** A function that writes `key` through `ctx.cache`; resolves to the invocation's rejection or result. */
async function write(cache: ReturnType<typeof redis>): Promise<unknown> {
  const main = handler({ use: [connections({ cache })], logSink: () => undefined }, async (_input: unknown, ctx) => {
    await ctx.cache.set(key, 'written');
    return 'ok';
  });
  return main.invoke({}).catch((e: unknown) => e);
}

describe('redis(): a database the server does not have', () => {
  it('options.db: a terminal CONFIG_INVALID naming the option, and nothing written to database 0', async () => {
    const outcome = await write(redis({ name: 'review-db-option', url: REDIS_URL, options: { db: missing } }));
    expect(outcome).toMatchObject({ code: 'CONFIG_INVALID', retryable: false });
    await admin.select(0);
    expect(await admin.get(key)).toBeNull();
  });

  it('the URL path: the same terminal error', async () => {
    const url = new URL(REDIS_URL);
    url.pathname = `/${missing}`;
    const outcome = await write(redis({ name: 'review-db-url', url: url.toString() }));
    expect(outcome).toMatchObject({ code: 'CONFIG_INVALID', retryable: false });
    await admin.select(0);
    expect(await admin.get(key)).toBeNull();
  });

  it('a database the server has still works, and is the one written', async () => {
    expect(await write(redis({ name: 'review-db-one', url: REDIS_URL, options: { db: 1 } }))).toBe('ok');
    await admin.select(1);
    expect(await admin.get(key)).toBe('written');
    await admin.select(0);
    expect(await admin.get(key)).toBeNull();
  });
});
