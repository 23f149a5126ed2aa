/**
 * Review: a Redis key of the wrong type (a list where the state expects a string, a hash or a
 * stream) failed the load with the failure message `redis key app:config: ReplyError` — the
 * class name only, nothing saying the key holds the wrong kind of value or what was expected, on
 * a real Redis and on a real Cluster alike (both reject with ioredis' `ReplyError`, message
 * `WRONGTYPE …`; through the `maxBytes` script the reply is the script's error, and a Redis older
 * than 7 wraps it in `ERR Error running script …: WRONGTYPE …`). The failure now says
 * `WRONGTYPE`, which key, and `expected` names the type. It stays retryable: the message is not at
 * fault, an operator fixing the key fixes the next delivery.
 */
import { Cluster, type Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineState, hydrate, redisHash, redisKey, redisStreamEvents, StateError, type RedisReader, type StateSource } from '../src/index.js';
import { redisClient, unique } from './support.js';

const nodes = process.env.REDIS_CLUSTER_NODES!.split(',').map((hostPort) => {
  const [host, port] = hostPort.split(':');
  return { host: host!, port: Number(port) };
});

async function failureOf(source: StateSource<unknown>): Promise<StateError> {
  const error = await defineState({ sources: { s: source } }).get().then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(StateError);
  return error as StateError;
}

function expectWrongType(error: StateError, expected: string, which: string): void {
  expect(error.code).toBe('STATE_UNAVAILABLE');
  expect(error.retryable).toBe(true);
  expect(error.failures).toHaveLength(1);
  const failure = error.failures[0]!;
  expect(failure).toMatchObject({ source: 's', kind: 'load', field: 's', expected });
  expect(failure.message).toContain('WRONGTYPE');
  expect(failure.message).toContain(which);
  expect(failure.message).not.toContain('ReplyError');
}

describe.each([
  ['a single Redis', () => redisClient() as Promise<Redis | Cluster>],
  ['a Redis Cluster', async () => new Cluster(nodes) as Redis | Cluster],
])('a key of the wrong type on %s', (_, connect) => {
  let client: Redis | Cluster;
  let list: string;
  beforeAll(async () => {
    client = await connect();
    list = unique('{wt}list');
    await client.rpush(list, 'not-the-state');
  });
  afterAll(() => client.disconnect());

  it('redisKey, with and without maxBytes, names the key and expects a string', async () => {
    expectWrongType(await failureOf(redisKey({ client, key: list })), 'a string', `key ${list}`);
    expectWrongType(await failureOf(redisKey({ client, key: list, maxBytes: 1_000 })), 'a string', `key ${list}`);
  });

  it('redisKey whose version key is of the wrong type names the version key', async () => {
    const key = unique('{wt}config');
    await client.set(key, '{"a":1}');
    expectWrongType(await failureOf(redisKey({ client, key, versionKey: list })), 'a string', `version key ${list}`);
  });

  it('redisHash, with and without maxBytes, expects a hash', async () => {
    expectWrongType(await failureOf(redisHash({ client, key: list })), 'a hash', `hash ${list}`);
    expectWrongType(await failureOf(redisHash({ client, key: list, maxBytes: 1_000 })), 'a hash', `hash ${list}`);
  });

  it('redisStreamEvents expects a stream', async () => {
    const source = hydrate({ events: redisStreamEvents({ client, key: list }), initial: () => 0, reducer: (n: number) => n + 1 });
    expectWrongType(await failureOf(source), 'a stream', `stream ${list}`);
  });
});

it('a WRONGTYPE wrapped by an older Redis in a script error (any error class) is recognised too', async () => {
  const wrapped = new Error('ERR Error running script (call to f_1a2b): @user_script:3: WRONGTYPE Operation against a key holding the wrong kind of value');
  const reader: RedisReader = { get: () => Promise.reject(wrapped), hget: () => Promise.reject(wrapped), hgetall: () => Promise.reject(wrapped) };
  expectWrongType(await failureOf(redisKey({ client: reader, key: 'app:config' })), 'a string', 'key app:config');
});
