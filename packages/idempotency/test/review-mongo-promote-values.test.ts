/**
 * Brief s52-fxb, item 3 (reviewer rvp): a MongoClient with `promoteValues: false` (a documented
 * driver option) hands BSON numbers back as objects (`Int32(11000)`): the store took a
 * duplicate key for an outage and every request was `503 IDEMPOTENCY_STORE_UNAVAILABLE`, and
 * `ensureIndexes` on FerretDB threw where it skips the TTL index. Its reads now promote
 * values whatever the client says. And `writeConcern: { w: 0 }` (unacknowledged writes cannot
 * claim anything) is a terminal `ConfigurationError`, not a 503 for ever. On FerretDB.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotency, mongoStore } from '../src/index.js';
import { requireService } from '../../../test/services/env.js';
import { silentSink } from './support.js';

const clients: MongoClient[] = [];
const collections: string[] = [];
const dbName = 'steadyfn_idempotency_test';

async function client(options: ConstructorParameters<typeof MongoClient>[1]): Promise<MongoClient> {
  const c = new MongoClient(process.env.MONGODB_URI!, { serverSelectionTimeoutMS: 5000, maxPoolSize: 10, ...options });
  await c.connect();
  clients.push(c);
  return c;
}

function collectionOf(c: MongoClient) {
  const name = `promote_${randomUUID().slice(0, 8)}`;
  collections.push(name);
  return c.db(dbName).collection(name);
}

beforeAll(async () => {
  await requireService('mongodb');
});
afterAll(async () => {
  const admin = clients[0];
  for (const name of collections) await admin?.db(dbName).collection(name).drop().catch(() => undefined);
  for (const c of clients) await c.close();
});

describe('review: a MongoDB store whose client does not promote values', () => {
  it('one of 6 concurrent requests with one key runs, the rest replay or are in progress: never 503', async () => {
    const c = await client({ promoteValues: false });
    const store = mongoStore({ collection: collectionOf(c) as never });
    await store.ensureIndexes();
    let runs = 0;
    const main = handler({ name: 'pv', logSink: silentSink(), use: [idempotency({ store, ttlMs: 3_600_000, localCache: false })] }, async () => {
      runs++;
      return { ran: true };
    });
    const deliveryId = randomUUID();
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => main.invoke({}, { deliveryId, requestId: randomUUID() })));
    const codes = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code?: string }).code] : []));
    expect(codes.filter((code) => code !== 'IDEMPOTENCY_IN_PROGRESS')).toEqual([]);
    expect(runs).toBe(1);
    expect(await main.invoke({}, { deliveryId })).toEqual({ ran: true });
    expect(runs).toBe(1);
  }, 60_000);

  it('writeConcern w: 0 is a terminal ConfigurationError, not an outage', async () => {
    const c = await client({ writeConcern: { w: 0 } });
    const store = mongoStore({ collection: collectionOf(c) as never });
    const main = handler({ name: 'w0', logSink: silentSink(), use: [idempotency({ store, ttlMs: 3_600_000, localCache: false })] }, async () => ({ ran: true }));
    // The store's own calls: a terminal ConfigurationError naming the option, every time.
    for (let i = 0; i < 2; i++) {
      await expect(store.claim({ key: randomUUID(), owner: 'o', fingerprint: 'f', leaseUntil: Date.now() + 60_000 })).rejects.toMatchObject({ name: 'ConfigurationError', code: 'CONFIG_INVALID', field: 'collection', retryable: false });
    }
    await expect(store.ensureIndexes()).rejects.toMatchObject({ name: 'ConfigurationError', field: 'collection' });
    // Through the handler: a configuration error, not 503 IDEMPOTENCY_STORE_UNAVAILABLE.
    const failed = await main.invoke({}, { deliveryId: randomUUID(), requestId: randomUUID() }).then(() => undefined, (error: unknown) => error as { code?: string; status?: number; retryable?: boolean });
    expect(failed).toMatchObject({ code: 'CONFIG_INVALID' });
  }, 60_000);
});
