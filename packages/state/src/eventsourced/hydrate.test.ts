/**
 * Event-sourced hydration against real stores: events in FerretDB (MongoDB wire protocol) or
 * a Redis 7 stream, snapshots in moto S3 or FerretDB. 10 000 events after a snapshot must
 * give the same state as replaying every event from the start.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TEST_DB,
  dropBucket,
  manualClock,
  unique,
  openWatchedStores,
  type MongoCommandLog,
  type RedisCommandLog,
  type S3RequestLog,
} from '../../test/support.js';
import { defineState, hydrate, mongoEvents, mongoSnapshot, redisStreamEvents, type StateSource } from '../index.js';
import { s3Snapshot } from '../s3.js';

interface CartEvent {
  type: 'add' | 'remove' | 'discount';
  sku: string;
  qty: number;
  cents: number;
}

interface Cart {
  items: Record<string, number>;
  spent: number;
  discounts: number;
  events: number;
}

const initial = (): Cart => ({ items: {}, spent: 0, discounts: 0, events: 0 });

// Mutates its input: hydrate hands it a private copy whenever the state could be shared.
function reducer(cart: Cart, event: CartEvent): Cart {
  cart.events++;
  if (event.type === 'add') {
    cart.items[event.sku] = (cart.items[event.sku] ?? 0) + event.qty;
    cart.spent += event.qty * event.cents;
  } else if (event.type === 'remove') {
    const left = (cart.items[event.sku] ?? 0) - event.qty;
    if (left > 0) cart.items[event.sku] = left;
    else delete cart.items[event.sku];
  } else {
    cart.discounts += event.cents;
  }
  return cart;
}

/** Deterministic pseudo-random events, so a failure can be reproduced. */
function makeEvents(count: number, seed: number): CartEvent[] {
  let x = seed;
  const next = () => (x = (x * 1_103_515_245 + 12_345) % 2_147_483_648);
  const types = ['add', 'add', 'remove', 'discount'] as const;
  return Array.from({ length: count }, () => ({ type: types[next() % 4]!, sku: `sku-${next() % 50}`, qty: 1 + (next() % 5), cents: next() % 10_000 }));
}

const fold = (events: CartEvent[], from: Cart = initial()): Cart => events.reduce(reducer, structuredClone(from));

const BEFORE_SNAPSHOT = 2_000;
const AFTER_SNAPSHOT = 10_000;
const allEvents = makeEvents(BEFORE_SNAPSHOT + AFTER_SNAPSHOT, 42);
const snapshotState = fold(allEvents.slice(0, BEFORE_SNAPSHOT));
const fullState = fold(allEvents);

const load = <T>(source: StateSource<T>) => source.load(new AbortController().signal);

let redis: Redis;
let redisLog: RedisCommandLog;
let mongo: MongoCommandLog;
let db: Db;
let s3: S3RequestLog;
const bucket = unique('es-bucket');
const eventsCollection = unique('events');
const snapshotsCollection = unique('snapshots');
const streamKey = unique('stream');
let streamIds: string[] = [];

beforeAll(async () => {
  ({ redis, redisLog, mongo, db, s3 } = await openWatchedStores(bucket));

  // MongoDB events with a numeric position, indexed; the S3 snapshot covers the first 2 000.
  const events = db.collection(eventsCollection);
  await events.createIndex({ position: 1 });
  for (let i = 0; i < allEvents.length; i += 2_000) {
    await events.insertMany(allEvents.slice(i, i + 2_000).map((event, j) => ({ position: i + j + 1, ...event })));
  }
  await s3.client.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'cart.json', Body: JSON.stringify({ position: BEFORE_SNAPSHOT, state: snapshotState }) }),
  );

  // The same events in a Redis stream; the MongoDB snapshot covers the first 2 000.
  for (let i = 0; i < allEvents.length; i += 1_000) {
    const pipeline = redis.pipeline();
    for (const e of allEvents.slice(i, i + 1_000)) pipeline.xadd(streamKey, '*', 'type', e.type, 'sku', e.sku, 'qty', String(e.qty), 'cents', String(e.cents));
    const results = (await pipeline.exec()) ?? [];
    streamIds.push(...results.map(([, id]) => String(id)));
  }
  await db.collection(snapshotsCollection).insertMany([
    { seq: 1, position: streamIds[9], state: fold(allEvents.slice(0, 10)) },
    { seq: 2, position: streamIds[BEFORE_SNAPSHOT - 1], state: snapshotState },
  ]);
  await redisLog.take();
  mongo.take();
  s3.take();
}, 120_000);

afterAll(async () => {
  await redisLog?.stop();
  await redis?.del(streamKey);
  await redis?.quit();
  await db?.collection(eventsCollection).drop().catch(() => undefined);
  await db?.collection(snapshotsCollection).drop().catch(() => undefined);
  await mongo?.client.close();
  if (s3) await dropBucket(s3.client, bucket).catch(() => undefined);
});

const decodeStream = (f: Record<string, string>): CartEvent => ({ type: f.type as CartEvent['type'], sku: f.sku!, qty: Number(f.qty), cents: Number(f.cents) });

describe('hydrate', () => {
  it('S3 snapshot + 10 000 MongoDB events gives the same state as a full replay', async () => {
    const events = mongoEvents<CartEvent>({ client: mongo.client, db: TEST_DB, collection: eventsCollection, map: ({ type, sku, qty, cents }) => ({ type, sku, qty, cents }) });
    // FerretDB's SQLite backend scans the whole collection for every page (no index use), so
    // pages are large here; against MongoDB the default 1 000 is right.
    const pageSize = 5_000;
    const fromSnapshot = await load(hydrate({ snapshot: s3Snapshot<Cart, number>({ client: s3.client, bucket, key: 'cart.json' }), events, initial, reducer, pageSize }));
    const calls = mongo.take([eventsCollection]);

    // `fullState` is the replay of every event from the start (in memory: a replay from this
    // collection costs FerretDB seconds; the stream test below replays from the store).
    expect(fromSnapshot.value).toEqual(fullState);
    expect(fromSnapshot.value.events).toBe(BEFORE_SNAPSHOT + AFTER_SNAPSHOT);
    expect(fromSnapshot.version).toEqual({ position: BEFORE_SNAPSHOT + AFTER_SNAPSHOT });
    // Only events after the snapshot were read: two full pages and one empty page.
    expect(calls.map((c) => c.name)).toEqual(['find', 'find', 'find']);
    expect(s3.take()).toEqual([{ command: 'GetObjectCommand', status: 200 }]);
  });

  it('MongoDB snapshot + 10 000 Redis stream events gives the same state as a full replay', async () => {
    const events = redisStreamEvents({ client: redis, key: streamKey, decode: decodeStream });
    const snapshot = mongoSnapshot<Cart, string>({ client: mongo.client, db: TEST_DB, collection: snapshotsCollection, orderField: 'seq' });
    const fromSnapshot = await load(hydrate({ snapshot, events, initial, reducer, pageSize: 2_500 }));
    const commands = await redisLog.take();
    const replayed = await load(hydrate({ events, initial, reducer }));

    expect(fromSnapshot.value).toEqual(fullState);
    expect(replayed.value).toEqual(fullState);
    expect(fromSnapshot.version).toEqual({ position: streamIds.at(-1) });
    // XRANGE from just after the snapshot's entry id, in bounded pages (each in one script that
    // also checks the stream was not trimmed past that position).
    expect(commands.map(([name, , ...args]) => [name, ...args])).toEqual(
      [BEFORE_SNAPSHOT - 1, BEFORE_SNAPSHOT + 2_499, BEFORE_SNAPSHOT + 4_999, BEFORE_SNAPSHOT + 7_499, BEFORE_SNAPSHOT + 9_999].map((i) => [
        'eval',
        '1',
        streamKey,
        `(${streamIds[i]}`,
        '2500',
      ]),
    );
  });

  it('as a state source: one read (XRANGE in a script) when no event arrived, and only the new events when some did', async () => {
    const key = unique('stream-live');
    const first = makeEvents(30, 7);
    for (const e of first) await redis.xadd(key, '*', 'type', e.type, 'sku', e.sku, 'qty', String(e.qty), 'cents', String(e.cents));
    const clock = manualClock();
    const cache = defineState({
      sources: { cart: hydrate({ events: redisStreamEvents({ client: redis, key, decode: decodeStream }), initial, reducer, pageSize: 100 }) },
      maxAge: 1_000,
      now: clock.now,
    });
    try {
      const before = await cache.get();
      expect(before.cart).toEqual(fold(first));
      await redisLog.take();

      clock.advance(1_000);
      expect(await cache.get()).toBe(before);
      expect((await redisLog.take()).map((c) => c[0])).toEqual(['eval']);

      const more = makeEvents(5, 8);
      for (const e of more) await redis.xadd(key, '*', 'type', e.type, 'sku', e.sku, 'qty', String(e.qty), 'cents', String(e.cents));
      await redisLog.take();
      clock.advance(1_000);
      const after = await cache.get();
      expect(after.cart).toEqual(fold([...first, ...more]));
      // The cached state was not touched by the mutating reducer.
      expect(before.cart).toEqual(fold(first));
      expect((await redisLog.take()).map((c) => c[0])).toEqual(['eval']);
    } finally {
      await redis.del(key);
    }
  });

  it('replays from the start when there is no snapshot yet, bounds the replay, and names the failing event', async () => {
    const small = unique('events-small');
    await db.collection(small).insertMany(allEvents.slice(0, 100).map((event, i) => ({ seq: i + 1, ...event })));
    const events = mongoEvents<CartEvent>({ client: mongo.client, db: TEST_DB, collection: small, positionField: 'seq' });
    const none = mongoSnapshot<Cart>({ client: mongo.client, db: TEST_DB, collection: unique('no-snapshots') });
    const all = await load(hydrate({ snapshot: none, events, initial, reducer, pageSize: 40 }));
    expect(all).toEqual({ value: fold(allEvents.slice(0, 100)), version: { position: 100 } });
    const limited = hydrate({ snapshot: none, events, initial, reducer, maxEvents: 50, pageSize: 25 });
    await expect(load(limited)).rejects.toThrow(/more than 50 events/);
    const failing = hydrate({
      events,
      initial,
      reducer: (cart, event) => {
        if (cart.events === 41) throw new Error('bad event');
        return reducer(cart, event);
      },
    });
    // The reducer's own error is named by class, never by its message (it may quote the event).
    await expect(load(failing)).rejects.toThrow('the reducer failed at event position 42: Error');
    await db.collection(small).drop();
  });
});
