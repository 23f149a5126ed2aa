/**
 * Review (as a new user): the S3 fix's sibling. A Redis or MongoDB source whose client getter
 * returns the wrong kind of client (a MongoClient where a Redis belongs, and the other way
 * round) failed every load with a bare, retryable `TypeError`. It is now the terminal
 * `ConfigurationError` an instance given directly gets, naming `client` and what was expected.
 * Real clients: ioredis against Redis, mongodb against FerretDB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { MongoClient } from 'mongodb';
import { defineState, mongoDocument, mongoQuery, redisHash, redisKey, StateError, type StateSource } from '../src/index.js';
import { mongoClient, redisClient, TEST_DB } from './support.js';

let redis: Redis;
let mongo: MongoClient;

beforeAll(async () => {
  redis = await redisClient();
  mongo = (await mongoClient()).client;
});

afterAll(async () => {
  redis.disconnect();
  await mongo.close();
});

const cases: Array<[string, () => StateSource<unknown>, string]> = [
  ['redisKey given a MongoClient', () => redisKey({ client: () => mongo as never, key: 'k' }), 'redisKey(): option "client" must be an ioredis Redis or Cluster'],
  ['redisHash given a MongoClient', () => redisHash({ client: async () => mongo as never, key: 'k' }), 'redisHash(): option "client" must be an ioredis Redis or Cluster'],
  ['mongoDocument given a Redis', () => mongoDocument({ client: () => redis as never, db: TEST_DB, collection: 'c', filter: {} }), 'mongoDocument(): option "client" must be a MongoClient'],
  ['mongoQuery given a Redis', () => mongoQuery({ client: () => redis as never, db: TEST_DB, collection: 'c', filter: {} }), 'mongoQuery(): option "client" must be a MongoClient'],
];

describe('a Redis or MongoDB source whose client getter returns the wrong kind of client', () => {
  it.each(cases)('%s: terminal, naming the option and what was expected', async (_name, make, words) => {
    const error = await defineState({ sources: { a: make() } })
      .get()
      .then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).retryable).toBe(false);
    expect((error as StateError).failures[0]!.message).toContain(words);
  });
});
