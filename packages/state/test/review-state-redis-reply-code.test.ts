/**
 * Review: a Redis source the server answered with an error reply — `NOPERM` (an ACL user not
 * allowed the key), `OOM`, `LOADING`, `READONLY` — failed with the message `redis key app:config:
 * ReplyError`: ioredis' `ReplyError` has no `code`, so the failure kept only the class name and
 * the operator could not tell a permission problem from a server one. The failure now keeps the
 * reply's error code (its first word, upper-case by the RESP convention — never the rest of the
 * message, which may name keys or values), as `Error ECONNREFUSED` keeps a socket error's code.
 * Shown with a real ACL user on the real Redis.
 */
import type { Redis } from 'ioredis';
import { Redis as RedisClient } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineState, redisKey, StateError } from '../src/index.js';
import { redisClient, unique } from './support.js';

let admin: Redis;
let limited: Redis;
let user: string;
const key = unique('{rc}secret-config');

beforeAll(async () => {
  admin = await redisClient();
  await admin.set(key, '{"token":"hunter2"}');
  user = unique('rc-user').replace(/[^A-Za-z0-9_-]/g, '_');
  // Allowed every command, but only keys starting with "other:".
  await admin.call('ACL', 'SETUSER', user, 'on', `>pw-${user}`, '~other:*', '+@all');
  const url = new URL(process.env.REDIS_URL!);
  limited = new RedisClient({ host: url.hostname, port: Number(url.port), username: user, password: `pw-${user}`, lazyConnect: true, maxRetriesPerRequest: 1 });
  await limited.connect();
});
afterAll(async () => {
  await limited.quit().catch(() => undefined);
  await admin.call('ACL', 'DELUSER', user).catch(() => undefined);
  admin.disconnect();
});

describe('a Redis error reply', () => {
  it('keeps the reply code (NOPERM), never the rest of the reply or the value', async () => {
    const error = (await defineState({ sources: { config: redisKey({ client: limited, key }) } }).get().then(() => undefined, (e: unknown) => e)) as StateError;
    expect(error).toBeInstanceOf(StateError);
    expect(error.code).toBe('STATE_UNAVAILABLE');
    expect(error.failures[0]!.message).toBe(`redis key ${key}: ReplyError NOPERM`);
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('permissions');
  });
});
