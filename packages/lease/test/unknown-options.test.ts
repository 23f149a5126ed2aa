/**
 * An option key a store factory does not know — a typo, or the name before the `…Ms`
 * convention (`retain` for `retainMs`) — would be ignored and leave the default in force
 * without a word: each factory refuses it. Every documented option (read from the options
 * types with the TypeScript checker) is accepted.
 */
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { createLogger } from '@steadyfn/handler';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import {
  memoryLeaseStore,
  mongoLeaseStore,
  redisLeaseStore,
  type MemoryLeaseStoreOptions,
  type MongoLeaseStoreOptions,
  type RedisLeaseStoreOptions,
} from '../src/index.js';
import { s3LeaseStore, type S3LeaseStoreOptions } from '../src/s3.js';
import { expectOptionRefused } from '../../../test/support/config-errors.js';
import { documentedOptionKeys } from '../../../test/support/option-types.js';

const src = (path: string): string => fileURLToPath(new URL(`../src/stores/${path}`, import.meta.url));
// Real clients, never connected: the factories only check their options.
const redis = new Redis({ lazyConnect: true });
const mongo = new MongoClient('mongodb://127.0.0.1:1/x');
const s3 = new S3Client({ region: 'us-east-1' });
const collection = mongo.db('x').collection('leases');
afterAll(() => {
  redis.disconnect();
  s3.destroy();
});

describe('lease store factories: unknown option keys', () => {
  it('redisLeaseStore() refuses a pre-Ms name and a misspelt key; accepts every documented option', () => {
    expectOptionRefused(() => redisLeaseStore({ client: redis, retain: 1000 } as never), 'redisLeaseStore', 'retain', ['"retainMs"', 'client, prefix, retainMs']);
    expectOptionRefused(() => redisLeaseStore({ client: redis, prefx: 'l:' } as never), 'redisLeaseStore', 'prefx');
    const all: Required<RedisLeaseStoreOptions> = { client: redis, prefix: 'l:', retainMs: 1000, logger: createLogger() };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('redis-types.ts'), 'RedisLeaseStoreOptions'));
    expect(() => redisLeaseStore({ ...all, typo: undefined } as never)).not.toThrow();
  });

  it('mongoLeaseStore() refuses a pre-Ms name and a misspelt key; accepts every documented option', () => {
    expectOptionRefused(() => mongoLeaseStore({ collection, retain: 200_000 } as never), 'mongoLeaseStore', 'retain', ['"retainMs"', 'collection, retainMs, reads']);
    expectOptionRefused(() => mongoLeaseStore({ collection, read: 'query' } as never), 'mongoLeaseStore', 'read');
    const all: Required<MongoLeaseStoreOptions> = { collection, retainMs: 200_000, reads: 'query' };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('mongodb-types.ts'), 'MongoLeaseStoreOptions'));
    expect(() => mongoLeaseStore(all)).not.toThrow();
  });

  it('s3LeaseStore() refuses a misspelt key and a client for another service; accepts every documented option', () => {
    expectOptionRefused(() => s3LeaseStore({ client: s3, bucket: 'leases', prefx: 'l/' } as never), 's3LeaseStore', 'prefx', ['client, bucket, prefix']);
    // The shape of an SQSClient from @aws-sdk/client-sqs (not a dependency of this package): a send and config.serviceId.
    const sqsLike = { send: async () => ({}), config: { serviceId: 'SQS' } };
    expectOptionRefused(() => s3LeaseStore({ client: sqsLike as never, bucket: 'leases' }), 's3LeaseStore', 'client', ['got a client for SQS']);
    const all: Required<S3LeaseStoreOptions> = { client: s3, bucket: 'leases', prefix: 'l/' };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('s3-types.ts'), 'S3LeaseStoreOptions'));
    expect(() => s3LeaseStore(all)).not.toThrow();
  });

  it('memoryLeaseStore() refuses a pre-Ms name; accepts every documented option', () => {
    expectOptionRefused(() => memoryLeaseStore({ retain: 0 } as never), 'memoryLeaseStore', 'retain', ['"retainMs"', 'now, retainMs, maxRecords']);
    const all: Required<MemoryLeaseStoreOptions> = { now: Date.now, retainMs: 0, maxRecords: 10 };
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src('memory.ts'), 'MemoryLeaseStoreOptions'));
    expect(() => memoryLeaseStore(all)).not.toThrow();
  });
});
