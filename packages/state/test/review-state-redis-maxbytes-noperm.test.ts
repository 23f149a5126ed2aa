/**
 * Review: `redisKey()` / `redisHash()` with `maxBytes` check the size in an EVAL on any client
 * that has an `eval` method. A Redis user whose ACL leaves out `@scripting` (common for
 * read-only function roles; the case `redisStreamEvents()` already falls back for) gets NOPERM
 * for that EVAL, so adding `maxBytes` made every load of a key or hash it could read fail for
 * good. Such a client reads, then counts — as a reader without `eval` does — and the limit
 * still holds. Against the shared Redis 7, with an ACL user of this test's own (removed
 * afterwards).
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisHash, redisKey } from '../src/index.js';
import { noScriptingUser, redisClient, unique } from './support.js';

const signal = () => new AbortController().signal;

let admin: Redis;
let limited: Redis;
let removeUser: (() => Promise<void>) | undefined;
const stringKey = unique('maxbytes-string');
const hashKey = unique('maxbytes-hash');

beforeAll(async () => {
  admin = await redisClient();
  const user = await noScriptingUser(admin, 'no-scripting-maxbytes');
  limited = user.client;
  removeUser = user.remove;
  await admin.set(stringKey, JSON.stringify({ plan: 'pro' }));
  await admin.hset(hashKey, { version: '3', color: 'blue' });
});

afterAll(async () => {
  await removeUser?.();
  await admin?.del(stringKey, hashKey);
  await admin?.quit();
});

describe('redisKey()/redisHash() maxBytes for a user without @scripting', () => {
  it('the ACL refuses EVAL to this user (the precondition)', async () => {
    await expect(limited.eval('return 1', 0)).rejects.toThrow(/NOPERM/);
  });

  it('redisKey loads a value within maxBytes instead of failing with NOPERM', async () => {
    const source = redisKey({ client: limited, key: stringKey, maxBytes: 1024 });
    expect((await source.load(signal())).value).toEqual({ plan: 'pro' });
  });

  it('redisKey still refuses a value over maxBytes (a SourceError naming the limit, not NOPERM)', async () => {
    const source = redisKey({ client: limited, key: stringKey, maxBytes: 4 });
    await expect(source.load(signal())).rejects.toThrow(/larger than maxBytes/);
  });

  it('redisHash loads a hash within maxBytes instead of failing with NOPERM', async () => {
    const source = redisHash({ client: limited, key: hashKey, versionField: 'version', maxBytes: 1024 });
    const loaded = await source.load(signal());
    // As the admin (EVAL allowed) loads it.
    const asAdmin = await redisHash({ client: admin, key: hashKey, versionField: 'version', maxBytes: 1024 }).load(signal());
    expect(loaded.value).toEqual(asAdmin.value);
    expect(loaded.value).toMatchObject({ color: 'blue' });
    expect(loaded.version).toBe('3');
  });

  it('redisHash still refuses a hash over maxBytes', async () => {
    const source = redisHash({ client: limited, key: hashKey, maxBytes: 4 });
    await expect(source.load(signal())).rejects.toThrow(/larger than maxBytes/);
  });
});
