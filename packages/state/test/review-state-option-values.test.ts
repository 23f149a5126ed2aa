/**
 * Review (a demanding new user's mistakes): the README promises that bad options "throw at
 * definition time: a ConfigurationError (CONFIG_INVALID) naming the option". Unknown keys were
 * refused, but many wrong *values* of known keys were taken without a word and failed later —
 * or never:
 *
 * - `mongoDocument()` without `filter` loaded whichever document came first;
 * - `envVars({ prefix: '' })` put every environment variable (secrets included) in the state,
 *   and `envVars({ keys: 'REGION' })` read the variables `R`, `E`, `G`…;
 * - `redisHash({ decode: 'JSON' })` silently kept text, `redisKey({ decode: 'yaml' })` failed
 *   every load with a bare `TypeError`;
 * - `s3Json({ maxBytes: '1mb' })`, `maxBytes: -1`: no limit or every object refused at load;
 * - functions that are not functions (`decode`, `map`, `reducer`, `initial`, `version`, `now`)
 *   and a `logger` that is not one: a `TypeError` at the first load.
 *
 * Each is now refused when the factory is called, naming the field and what was expected.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { custom, defineState, envVars, hydrate, mongoDocument, mongoEvents, mongoQuery, mongoSnapshot, redisHash, redisKey, redisStreamEvents } from '../src/index.js';
import { s3Json, s3Ndjson, s3Object, s3Snapshot } from '../src/s3.js';
import { expectOptionRefused } from '../../../test/support/config-errors.js';

// Real clients, never connected: the factories only check their options.
const redis = new Redis({ lazyConnect: true });
const mongo = new MongoClient('mongodb://127.0.0.1:1/x');
const s3 = new S3Client({ region: 'us-east-1' });
afterAll(() => {
  redis.disconnect();
  s3.destroy();
});

const env = envVars({ keys: ['A'], env: { A: '1' } });
const events = mongoEvents({ client: mongo, collection: 'events' });
const s3Target = { client: s3, bucket: 'b', key: 'k' };
const mongoTarget = { client: mongo, collection: 'c' };

const refused: Array<[owner: string, field: string, make: () => unknown]> = [
  ['mongoDocument', 'filter', () => mongoDocument({ ...mongoTarget } as never)],
  ['mongoDocument', 'filter', () => mongoDocument({ ...mongoTarget, filter: 'pro' as never })],
  ['mongoDocument', 'map', () => mongoDocument({ ...mongoTarget, filter: {}, map: 'name' as never })],
  ['mongoDocument', 'projection', () => mongoDocument({ ...mongoTarget, filter: {}, projection: 'name' as never })],
  ['mongoDocument', 'db', () => mongoDocument({ ...mongoTarget, filter: {}, db: '' })],
  ['mongoDocument', 'optional', () => mongoDocument({ ...mongoTarget, filter: {}, optional: 'yes' as never })],
  ['mongoDocument', 'client', () => mongoDocument({ client: {} as never, collection: 'c', filter: {} })],
  ['mongoQuery', 'filter', () => mongoQuery({ ...mongoTarget, filter: [] as never })],
  ['mongoQuery', 'sort.price', () => mongoQuery({ ...mongoTarget, sort: { price: 'desc' } as never })],
  ['mongoQuery', 'map', () => mongoQuery({ ...mongoTarget, map: {} as never })],
  ['mongoQuery', 'versionDocument.filter', () => mongoQuery({ ...mongoTarget, versionDocument: { field: 'v' } as never })],
  ['mongoQuery', 'versionDocument.filter', () => mongoQuery({ ...mongoTarget, versionDocument: { filter: {}, field: 'v' } })],
  ['mongoQuery', 'versionDocument.collection', () => mongoQuery({ ...mongoTarget, versionDocument: { collection: '', filter: { _id: 'v' }, field: 'v' } })],
  ['mongoQuery', 'client', () => mongoQuery({ client: 'mongodb://x' as never, collection: 'c' })],
  ['redisKey', 'decode', () => redisKey({ client: redis, key: 'k', decode: 'yaml' as never })],
  ['redisKey', 'optional', () => redisKey({ client: redis, key: 'k', optional: 1 as never })],
  ['redisHash', 'decode', () => redisHash({ client: redis, key: 'k', decode: 'JSON' as never })],
  ['redisHash', 'optional', () => redisHash({ client: redis, key: 'k', optional: 'true' as never })],
  ['s3Json', 'maxBytes', () => s3Json({ ...s3Target, maxBytes: '1mb' as never })],
  ['s3Json', 'maxBytes', () => s3Json({ ...s3Target, maxBytes: -1 })],
  ['s3Ndjson', 'maxBytes', () => s3Ndjson({ ...s3Target, maxBytes: Number.NaN })],
  ['s3Json', 'optional', () => s3Json({ ...s3Target, optional: 'yes' as never })],
  ['s3Object', 'decode', () => s3Object({ ...s3Target } as never)],
  ['s3Snapshot', 'decode', () => s3Snapshot({ ...s3Target, decode: 'json' as never })],
  ['s3Snapshot', 'maxBytes', () => s3Snapshot({ ...s3Target, maxBytes: 0 })],
  ['envVars', 'prefix', () => envVars({ prefix: '' })],
  ['envVars', 'keys', () => envVars({ keys: 'REGION' as never })],
  ['envVars', 'keys', () => envVars({ keys: [] })],
  ['envVars', 'keys[1]', () => envVars({ keys: ['REGION', ''] })],
  ['envVars', 'stripPrefix', () => envVars({ prefix: 'APP_', stripPrefix: 'no' as never })],
  ['envVars', 'env', () => envVars({ keys: ['A'], env: 'A=1' as never })],
  ['custom', 'version', () => custom({ load: async () => 1, version: 'v1' as never })],
  ['custom', 'description', () => custom({ load: async () => 1, description: 7 as never })],
  ['defineState', 'now', () => defineState({ sources: { env }, now: 'Date.now' as never })],
  ['defineState', 'logger', () => defineState({ sources: { env }, logger: console.log as never })],
  ['defineState', 'sources', () => defineState({ sources: [env] as never })],
  ['hydrate', 'reducer', () => hydrate({ events, initial: () => 0 } as never)],
  ['hydrate', 'initial', () => hydrate({ events, initial: 0, reducer: (s: number) => s } as never)],
  ['hydrate', 'events', () => hydrate({ events: {} as never, initial: () => 0, reducer: (s: number) => s })],
  ['hydrate', 'snapshot', () => hydrate({ snapshot: {} as never, events, initial: () => 0, reducer: (s: number) => s })],
  ['mongoEvents', 'positionField', () => mongoEvents({ ...mongoTarget, positionField: 1 as never })],
  ['mongoEvents', 'map', () => mongoEvents({ ...mongoTarget, map: 'x' as never })],
  ['mongoEvents', 'filter', () => mongoEvents({ ...mongoTarget, filter: 'stream-1' as never })],
  ['redisStreamEvents', 'decode', () => redisStreamEvents({ client: redis, key: 'k', decode: 'json' as never })],
  ['mongoSnapshot', 'positionField', () => mongoSnapshot({ ...mongoTarget, positionField: '' })],
  ['mongoSnapshot', 'stateField', () => mongoSnapshot({ ...mongoTarget, stateField: 3 as never })],
  ['mongoSnapshot', 'orderField', () => mongoSnapshot({ ...mongoTarget, orderField: '' })],
];

describe('a wrong value of a known option is refused when the factory is called', () => {
  it.each(refused)('%s(): "%s"', (owner, field, make) => expectOptionRefused(make, owner, field));
});

describe('the values the README documents are still taken', () => {
  it('every documented form', () => {
    expect(() => mongoDocument({ ...mongoTarget, filter: { _id: 'pro' }, projection: { name: 1 }, map: (d) => d, optional: false, db: 'billing' })).not.toThrow();
    expect(() => mongoDocument({ client: () => mongo, collection: 'c', filter: {} })).not.toThrow();
    expect(() => mongoQuery({ ...mongoTarget, filter: { active: true }, sort: { price: -1, name: 1 }, versionDocument: { collection: 'versions', filter: { _id: 'plans' }, field: 'v' } })).not.toThrow();
    expect(() => redisKey({ client: redis, key: 'k', decode: (t) => t.split(','), optional: true })).not.toThrow();
    expect(() => redisKey({ client: redis, key: 'k', decode: 'text' })).not.toThrow();
    expect(() => redisHash({ client: redis, key: 'k', decode: 'json', optional: false })).not.toThrow();
    expect(() => s3Json({ ...s3Target, maxBytes: 1, optional: true })).not.toThrow();
    expect(() => s3Object({ ...s3Target, decode: (t) => t })).not.toThrow();
    expect(() => envVars({ keys: ['REGION'], prefix: 'APP_', stripPrefix: false, env: {} })).not.toThrow();
    expect(() => custom({ load: () => 1, version: () => 1, description: 'x' })).not.toThrow();
    expect(() => defineState({ sources: { env }, now: () => 0, logger: undefined })).not.toThrow();
    expect(() => hydrate({ snapshot: mongoSnapshot<number>({ ...mongoTarget, orderField: 'at' }), events, initial: () => 0, reducer: (s: number) => s })).not.toThrow();
    expect(() => redisStreamEvents({ client: redis, key: 'k', decode: (f) => f })).not.toThrow();
    expect(() => s3Snapshot({ ...s3Target, decode: (j) => j as never })).not.toThrow();
  });
});
