/**
 * Review: a Redis value whose bytes are not valid UTF-8 (written in Latin-1 by another service, or
 * damaged) loaded without a word: ioredis decoded the reply itself, with U+FFFD in place of every
 * invalid sequence, so `{"city":"Zürich"}` written in Latin-1 became `{ city: 'Z\uFFFDrich' }` and
 * was served — a value silently different from the one stored. S3 sources already refuse such
 * bytes; `redisKey`, `redisHash` (with and without `maxBytes`, whose script reply was decoded the
 * same way) and `redisStreamEvents` now read bytes and refuse them too, naming the first invalid
 * byte, never the text. Real Redis and a real Cluster, the bytes written with a Buffer SET/HSET/XADD.
 */
import { Cluster, type Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineState, hydrate, redisHash, redisKey, redisStreamEvents, StateError, type RedisReader, type StateSource } from '../src/index.js';
import { redisClient, unique } from './support.js';

const nodes = process.env.REDIS_CLUSTER_NODES!.split(',').map((hostPort) => {
  const [host, port] = hostPort.split(':');
  return { host: host!, port: Number(port) };
});

// {"city":"Zürich"} with ü as Latin-1 0xFC (byte 10): not UTF-8.
const latin1 = Buffer.concat([Buffer.from('{"city":"Z'), Buffer.from([0xfc]), Buffer.from('rich"}')]);
// "Zürich" with ü as Latin-1 (byte 1), for hash fields and stream entries.
const latin1Word = Buffer.concat([Buffer.from('Z'), Buffer.from([0xfc]), Buffer.from('rich')]);

async function failureOf(source: StateSource<unknown>): Promise<StateError> {
  const error = await defineState({ sources: { s: source } }).get().then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(StateError);
  return error as StateError;
}

function expectNotUtf8(error: StateError, at: number): void {
  expect(error.code).toBe('STATE_UNAVAILABLE');
  expect(error.failures).toHaveLength(1);
  const failure = error.failures[0]!;
  expect(failure).toMatchObject({ source: 's', kind: 'load', expected: 'UTF-8 text' });
  expect(failure.message).toMatch(/is not valid UTF-8 \(at byte \d+\)/);
  expect(failure.message).toContain(`(at byte ${at})`);
  expect(failure.message).not.toContain('rich');
  expect(failure.message).not.toContain('\uFFFD');
}

describe.each([
  ['a single Redis', () => redisClient() as Promise<Redis | Cluster>],
  ['a Redis Cluster', async () => new Cluster(nodes) as Redis | Cluster],
])('a value that is not valid UTF-8 on %s', (_, connect) => {
  let client: Redis | Cluster;
  let key: string;
  let hash: string;
  let jsonHash: string;
  let stream: string;
  let good: string;
  beforeAll(async () => {
    client = await connect();
    key = unique('{u8}config');
    hash = unique('{u8}flags');
    jsonHash = unique('{u8}flags-json');
    stream = unique('{u8}events');
    good = unique('{u8}good');
    await client.set(key, latin1);
    await client.hset(hash, 'city', latin1Word);
    await client.hset(jsonHash, 'city', Buffer.concat([Buffer.from('"'), latin1Word, Buffer.from('"')]));
    await client.xadd(stream, '*', 'city', latin1Word);
    await client.set(good, Buffer.from('\uFEFF{"city":"Zürich"}', 'utf8'));
  });
  afterAll(async () => {
    await Promise.all([key, hash, jsonHash, stream, good].map((k) => client.del(k)));
    client.disconnect();
  });

  it('redisKey fails the load, with and without maxBytes, as json and as text', async () => {
    expectNotUtf8(await failureOf(redisKey({ client, key })), 10);
    expectNotUtf8(await failureOf(redisKey({ client, key, maxBytes: 1_000 })), 10);
    expectNotUtf8(await failureOf(redisKey({ client, key, decode: 'text' })), 10);
    expectNotUtf8(await failureOf(redisKey({ client, key, decode: 'text', maxBytes: 1_000 })), 10);
  });

  it('redisHash fails the load, with and without maxBytes, as text and as json, at the field', async () => {
    for (const source of [
      redisHash({ client, key: hash }),
      redisHash({ client, key: hash, maxBytes: 1_000 }),
    ]) {
      const error = await failureOf(source);
      expectNotUtf8(error, 1);
      expect(error.failures[0]!.field).toBe('s.city');
    }
    for (const source of [
      redisHash({ client, key: jsonHash, decode: 'json' }),
      redisHash({ client, key: jsonHash, decode: 'json', maxBytes: 1_000 }),
    ]) {
      const error = await failureOf(source);
      expectNotUtf8(error, 2);
      expect(error.failures[0]!.field).toBe('s.city');
    }
  });

  it('redisStreamEvents fails the load, through the checking script', async () => {
    const scripted = hydrate({ events: redisStreamEvents({ client, key: stream }), initial: () => [] as unknown[], reducer: (all: unknown[], e: unknown) => [...all, e] });
    expectNotUtf8(await failureOf(scripted), 1);
  });

  it('valid UTF-8 (with a byte order mark) still loads, with and without maxBytes', async () => {
    for (const maxBytes of [undefined, 1_000]) {
      const state = await defineState({ sources: { s: redisKey({ client, key: good, ...(maxBytes ? { maxBytes } : {}) }) } }).get();
      expect(state.s).toEqual({ city: 'Zürich' });
    }
  });

  it('a reader of its own with only the string methods still works (no buffer methods)', async () => {
    const reader: RedisReader = {
      get: (k) => client.get(k),
      hget: (k, f) => client.hget(k, f),
      hgetall: (k) => client.hgetall(k),
      eval: (script, numKeys, ...rest) => client.eval(script, numKeys, ...rest),
    };
    const state = await defineState({ sources: { s: redisKey({ client: reader, key: good, maxBytes: 1_000 }) } }).get();
    expect(state.s).toEqual({ city: 'Zürich' });
  });
});
