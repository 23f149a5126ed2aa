/**
 * `redisStreamEvents()` reads each page with one EVAL (XINFO counters + XRANGE) so that a
 * trimmed stream is detected. A Redis user whose ACL leaves out `@scripting` (common for
 * read-only function roles) used to read the stream with XRANGE alone; the EVAL answered
 * NOPERM and every load failed. Such a client reads with XRANGE, unchecked, as a client
 * without `eval` does — never a load that fails for good. Against the shared Redis 7, with an
 * ACL user of this test's own (removed afterwards).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hydrate, redisStreamEvents } from '../src/index.js';
import { redisClient, unique } from './support.js';

let admin: Redis;
let limited: Redis;
const user = unique('no-scripting').replace(/[^A-Za-z0-9_-]/g, '_');
const password = 'pw-' + user;
const key = unique('stream');

beforeAll(async () => {
  admin = await redisClient();
  await admin.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all', '-@scripting');
  const url = new URL(process.env.REDIS_URL!);
  limited = new Redis({ host: url.hostname, port: Number(url.port), username: user, password, lazyConnect: true, maxRetriesPerRequest: 1 });
  await limited.connect();
});

afterAll(async () => {
  await limited?.quit().catch(() => undefined);
  await admin?.call('ACL', 'DELUSER', user).catch(() => undefined);
  await admin?.del(key);
  await admin?.quit();
});

describe('redisStreamEvents() for a user without @scripting', () => {
  it('the ACL refuses EVAL to this user (the precondition)', async () => {
    await expect(limited.eval('return 1', 0)).rejects.toThrow(/NOPERM/);
  });

  it('loads with XRANGE instead of failing every load', async () => {
    for (const n of [1, 2, 3]) await admin.xadd(key, '*', 'n', String(n));
    const source = hydrate({
      events: redisStreamEvents({ client: limited, key }),
      initial: () => 0,
      reducer: (sum: number, e: Record<string, string>) => sum + Number(e.n),
      pageSize: 2,
    });
    const first = await source.load(new AbortController().signal);
    expect(first.value).toBe(6);
    // And again (the fallback is remembered, not a failure each time).
    await admin.xadd(key, '*', 'n', '4');
    expect((await source.load(new AbortController().signal)).value).toBe(10);
  });
});
