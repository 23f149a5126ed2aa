/**
 * Review: an S3 source given a getter (`client: () => handle.get()`) judged what the getter
 * returned only by calling `send` on it. A getter returning the wrong kind of client — a Redis
 * or a MongoClient (a handle mixed up), an object without `send` — failed every load with a
 * bare `TypeError`, a *retryable* `STATE_UNAVAILABLE`: a queue redelivers it until the
 * dead-letter queue, and the failure does not say what is wrong. It is a deploy's to fix, like a
 * wrong client given directly: a terminal `ConfigurationError` (`CONFIG_INVALID`, field
 * `client`) naming what was expected. Real clients of the wrong kind (ioredis against Redis,
 * mongodb against FerretDB), and a real S3Client against moto for the right kind.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { MongoClient } from 'mongodb';
import { defineState, hydrate, StateError } from '../src/index.js';
import { s3Json, s3Ndjson, s3Snapshot } from '../src/s3.js';
import { createBucket, dropBucket, mongoClient, redisClient, s3Client, unique } from './support.js';

let redis: Redis;
let mongo: MongoClient;
const s3 = s3Client();
const bucket = unique('getter').toLowerCase();

beforeAll(async () => {
  redis = await redisClient();
  mongo = (await mongoClient()).client;
  await createBucket(s3.client, bucket);
  await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'config.json', Body: '{"retries":3}' }));
});

afterAll(async () => {
  await dropBucket(s3.client, bucket);
  redis.disconnect();
  await mongo.close();
});

async function failure(client: () => unknown, factory: typeof s3Json | typeof s3Ndjson = s3Json): Promise<StateError> {
  const cache = defineState({ sources: { config: factory({ client: client as never, bucket, key: 'config.json' }) } });
  const error = await cache.get().then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(StateError);
  return error as StateError;
}

describe('an S3 source whose client getter returns the wrong kind of client', () => {
  it.each([
    ['an ioredis Redis', () => redis, 'Redis'],
    ['a MongoClient', () => mongo, 'MongoClient'],
    ['an object without send', () => ({ region: 'us-east-1' }), 'an object without send'],
    ['a promise of a Redis', async () => redis, 'Redis'],
    ['undefined', () => undefined, 'undefined'],
  ])('%s: a terminal configuration error naming the field and what was expected', async (_name, getter, got) => {
    const error = await failure(getter);
    expect(error.retryable).toBe(false);
    expect(error.code).toBe('STATE_UNAVAILABLE');
    const message = error.failures[0]!.message;
    expect(message).toContain('s3Json(): option "client"');
    expect(message).toContain('an S3Client from @aws-sdk/client-s3');
    expect(message).toContain(got);
    expect(message).not.toContain('TypeError');
  });

  it('s3Ndjson and s3Snapshot refuse it the same way', async () => {
    const ndjson = await failure(() => redis, s3Ndjson);
    expect(ndjson.retryable).toBe(false);
    expect(ndjson.failures[0]!.message).toContain('s3Ndjson(): option "client"');
    const snapshot = await defineState({
      sources: { cart: hydrate({ snapshot: s3Snapshot({ client: () => mongo as never, bucket, key: 'config.json' }), events: { readAfter: async () => [] } as never, initial: () => ({}), reducer: (s) => s }) },
    })
      .get()
      .then(() => undefined, (e: unknown) => e as StateError);
    expect(snapshot!.retryable).toBe(false);
    expect(snapshot!.failures[0]!.message).toContain('s3Snapshot(): option "client"');
  });

  it('a getter returning a real S3Client loads; a store that is down stays retryable', async () => {
    const cache = defineState({ sources: { config: s3Json({ client: () => s3.client, bucket, key: 'config.json' }) } });
    await expect(cache.get()).resolves.toEqual({ config: { retries: 3 } });
    const down = await defineState({ sources: { config: s3Json({ client: () => s3Client('http://127.0.0.1:1').client, bucket, key: 'config.json' }) } })
      .get()
      .then(() => undefined, (e: unknown) => e as StateError);
    expect(down!.retryable).toBe(true);
  });
});
