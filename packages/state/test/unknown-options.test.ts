/**
 * An option key a factory does not know — a typo, or the name before the `…Ms` convention
 * (`timeout` for `timeoutMs`) — would be ignored and leave the default in force without a word:
 * every factory of this package refuses it, with its dotted path. Every documented option (read
 * from the options types with the TypeScript checker) is accepted.
 */
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as stateRoot from '../src/index.js';
import * as stateS3 from '../src/s3.js';
import { expectOptionRefused } from '../../../test/support/config-errors.js';
import { documentedOptionKeys, loadOptionTypes } from '../../../test/support/option-types.js';

// Every entry's factories: the root and `@steadyfn/state/s3`.
const stateApi = { ...stateRoot, ...stateS3 };
const { defineState, state, custom, envVars, mongoDocument, mongoQuery, redisKey, redisHash, s3Object, s3Json, s3Ndjson, hydrate, mongoEvents, redisStreamEvents, s3Snapshot, mongoSnapshot } = stateApi;
const src = (path: string): string => fileURLToPath(new URL(`../src/${path}`, import.meta.url));
// Real clients, never connected: the factories only check their options.
const redis = new Redis({ lazyConnect: true });
const mongo = new MongoClient('mongodb://127.0.0.1:1/x');
const s3 = new S3Client({ region: 'us-east-1' });
afterAll(() => {
  redis.disconnect();
  s3.destroy();
});

const load = async (): Promise<number> => 1;
const env = envVars({ keys: ['A'], env: { A: '1' } });
const events = mongoEvents({ client: mongo, collection: 'events' });

/** Each factory: every documented option with a valid value, where its type is declared, and a misspelt key. */
const factories: Array<{ name: string; make: (options: never) => unknown; all: Record<string, unknown>; type: [file: string, name: string]; typo: string }> = [
  {
    name: 'defineState',
    make: defineState as never,
    all: { sources: { env }, schema: undefined, maxAgeMs: 1, staleIfErrorMs: 0, retryAfterErrorMs: 1, maxAge: undefined, staleIfError: undefined, retryAfterError: undefined, timeoutMs: 1, logger: undefined, now: Date.now },
    type: ['cache-options.ts', 'StateOptions'],
    typo: 'maxAgeMS',
  },
  { name: 'custom', make: custom as never, all: { load, version: load, description: 'd' }, type: ['sources/custom.ts', 'CustomSourceOptions'], typo: 'loader' },
  { name: 'envVars', make: envVars as never, all: { keys: ['A'], prefix: 'A', stripPrefix: false, env: {} }, type: ['sources/env.ts', 'EnvVarsOptions'], typo: 'key' },
  {
    name: 'mongoDocument',
    make: mongoDocument as never,
    all: { client: mongo, db: 'x', collection: 'c', filter: {}, projection: { a: 1 }, versionField: 'v', optional: true, map: (d: unknown) => d },
    type: ['sources/mongo.ts', 'MongoDocumentOptions'],
    typo: 'colection',
  },
  {
    name: 'mongoQuery',
    make: mongoQuery as never,
    all: { client: mongo, db: 'x', collection: 'c', filter: {}, sort: { a: 1 }, projection: { a: 1 }, limit: 5, versionDocument: { collection: 'v', filter: { _id: 'v' }, field: 'n' }, map: (d: unknown) => d },
    type: ['sources/mongo.ts', 'MongoQueryOptions'],
    typo: 'limits',
  },
  { name: 'redisKey', make: redisKey as never, all: { client: redis, key: 'k', versionKey: 'v', decode: 'text', optional: true, maxBytes: 1_024 }, type: ['sources/redis.ts', 'RedisKeyOptions'], typo: 'decoder' },
  { name: 'redisHash', make: redisHash as never, all: { client: redis, key: 'k', versionField: 'v', decode: 'json', optional: true, maxBytes: 1_024 }, type: ['sources/redis.ts', 'RedisHashOptions'], typo: 'versionKey' },
  { name: 's3Object', make: s3Object as never, all: { client: s3, bucket: 'b', key: 'k', decode: (t: string) => t, maxBytes: 10, optional: true }, type: ['sources/s3.ts', 'S3ObjectOptions'], typo: 'maxSize' },
  { name: 's3Json', make: s3Json as never, all: { client: s3, bucket: 'b', key: 'k', maxBytes: 10, optional: true }, type: ['sources/s3.ts', 'S3SourceOptions'], typo: 'decode' },
  { name: 's3Ndjson', make: s3Ndjson as never, all: { client: s3, bucket: 'b', key: 'k', maxBytes: 10, optional: true }, type: ['sources/s3.ts', 'S3SourceOptions'], typo: 'buket' },
  {
    name: 'hydrate',
    make: hydrate as never,
    all: { snapshot: mongoSnapshot({ client: mongo, collection: 's' }), events, initial: () => 0, reducer: (s: number) => s, pageSize: 10, maxEvents: 100 },
    type: ['eventsourced/hydrate.ts', 'HydrateOptions'],
    typo: 'reduce',
  },
  { name: 'mongoEvents', make: mongoEvents as never, all: { client: mongo, db: 'x', collection: 'c', filter: {}, positionField: 'p', map: (d: unknown) => d }, type: ['eventsourced/mongo-events.ts', 'MongoEventsOptions'], typo: 'position' },
  { name: 'redisStreamEvents', make: redisStreamEvents as never, all: { client: redis, key: 'k', decode: (f: unknown) => f }, type: ['eventsourced/redis-stream.ts', 'RedisStreamEventsOptions'], typo: 'stream' },
  { name: 's3Snapshot', make: s3Snapshot as never, all: { client: s3, bucket: 'b', key: 'k', maxBytes: 10, optional: true, decode: (j: unknown) => j }, type: ['eventsourced/s3-snapshot.ts', 'S3SnapshotOptions'], typo: 'Bucket' },
  {
    name: 'mongoSnapshot',
    make: mongoSnapshot as never,
    all: { client: mongo, db: 'x', collection: 'c', filter: {}, positionField: 'p', orderField: 'o', stateField: 's', versionDocument: { filter: { _id: 'v' }, field: 'n' } },
    type: ['eventsourced/snapshots.ts', 'MongoSnapshotOptions'],
    typo: 'state',
  },
];

describe('state factories: unknown option keys', () => {
  // The options types are read with the TypeScript checker: seconds of work (more on a loaded machine), done once here.
  beforeAll(() => loadOptionTypes([...factories.map((f) => src(f.type[0])), src('plugin.ts')]), 120_000);

  it.each(factories)('$name() refuses a misspelt key and accepts every documented option', ({ name, make, all, type, typo }) => {
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src(type[0]), type[1]));
    expect(() => make({ ...all, unknownButUndefined: undefined } as never)).not.toThrow();
    expectOptionRefused(() => make({ ...all, [typo]: 1 } as never), name, typo, ['the options are ']);
  });

  it('defineState() refuses a pre-Ms name, pointing at the …Ms option', () => {
    expectOptionRefused(() => defineState({ sources: { env }, timeout: 5000 } as never), 'defineState', 'timeout', ['"timeoutMs"', 'sources, schema, maxAgeMs']);
  });

  it('mongoQuery() checks its versionDocument too, with the dotted path', () => {
    expectOptionRefused(() => mongoQuery({ client: mongo, collection: 'c', versionDocument: { filter: {}, field: 'n', feild: 'x' } } as never), 'mongoQuery', 'versionDocument.feild', ['collection, filter, field']);
  });

  it('s3Object() (and so s3Json, s3Ndjson, s3Snapshot) refuses a client for another AWS service, or none', () => {
    // The shape of an SQSClient from @aws-sdk/client-sqs (not a dependency of this package): a send and config.serviceId.
    const sqsLike = { send: async () => ({}), config: { serviceId: 'SQS' } };
    expectOptionRefused(() => s3Json({ client: sqsLike, bucket: 'b', key: 'k' }), 's3Json', 'client', ['got a client for SQS']);
    expectOptionRefused(() => s3Object({ client: undefined as never, bucket: 'b', key: 'k', decode: String }), 's3Object', 'client', ['an S3Client']);
    expect(() => s3Json({ client: () => s3, bucket: 'b', key: 'k' })).not.toThrow();
  });

  it('state() refuses a misspelt key and accepts its one option', () => {
    const cache = defineState({ sources: { env } });
    expect(documentedOptionKeys(src('plugin.ts'), 'StatePluginOptions')).toEqual(['key']);
    expect(() => state(cache, { key: 'settings' })).not.toThrow();
    expectOptionRefused(() => state(cache, { name: 'settings' } as never), 'state', 'name', ['the options are key']);
  });

  it('lists a factory for every function the package exports that takes options', () => {
    const covered = new Set([...factories.map((f) => f.name), 'state']);
    const exported = Object.entries(stateApi).filter(([, v]) => typeof v === 'function' && !/Error$/.test(v.name)).map(([k]) => k);
    expect(exported.filter((k) => !covered.has(k))).toEqual([]);
  });
});
