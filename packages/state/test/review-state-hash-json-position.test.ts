/**
 * Review: `redisHash({ decode: 'json' })` parsed each field with a bare `JSON.parse`, so a broken
 * field failed with "field cfg is not valid JSON" and nothing to find the mistake by — where
 * `redisKey` and the S3 sources say at which character (and skip a byte order mark). Against the
 * shared Redis.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { requireService } from '../../../test/services/env.js';
import { defineState, redisHash, StateError } from '../src/index.js';
import { redisClient, unique } from './support.js';

let redis: Redis;
const key = unique('hashjson');

beforeAll(async () => {
  await requireService('redis');
  redis = await redisClient();
});

afterAll(async () => {
  await redis?.del(key);
  redis?.disconnect();
});

it('a broken JSON field is reported by field and position, not quoted', async () => {
  await redis.hset(key, 'ok', '1', 'cfg', '{"token":"hunter2", "retries": }');
  const error = await defineState({ sources: { flags: redisHash({ client: redis, key, decode: 'json' }) } }).get().then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(StateError);
  const failure = (error as StateError).failures[0]!;
  expect(failure.field).toBe('flags.cfg');
  expect(failure.message).toContain('field cfg is not valid JSON (at character 31)');
  expect(failure.message).not.toContain('hunter2');
});
