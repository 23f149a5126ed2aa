/**
 * `redisStreamEvents()` reads each page with one EVAL (XINFO counters + XRANGE) so that a
 * trimmed stream is detected. A Redis user whose ACL leaves out `@scripting` (common for
 * read-only function roles) used to read the stream with XRANGE alone; the EVAL answered
 * NOPERM and every load failed. Such a client reads with XRANGE, unchecked, as a client
 * without `eval` does — never a load that fails for good. Against the shared Redis 7, with an
 * ACL user of this test's own (removed afterwards).
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hydrate, redisStreamEvents } from '../src/index.js';
import { noScriptingUser, redisClient, unique } from './support.js';

let admin: Redis;
let limited: Redis;
let removeUser: (() => Promise<void>) | undefined;
const key = unique('stream');

beforeAll(async () => {
  admin = await redisClient();
  const user = await noScriptingUser(admin, 'no-scripting');
  limited = user.client;
  removeUser = user.remove;
});

afterAll(async () => {
  await removeUser?.();
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
