/**
 * Review finding (MongoDB batch claim cut mid-batch): `claimMany` on MongoDB / FerretDB inserts
 * one generation per key, and reads again the keys whose insert lost a race. When the
 * connection dropped after some inserts had landed (here: the re-read of a key another process
 * claimed between the batch's read and its insert), the batch failed with
 * IDEMPOTENCY_STORE_UNAVAILABLE — every message a batch item failure, nothing run — yet the
 * record it had claimed stayed held by an owner nobody would settle: the redelivery met it
 * IDEMPOTENCY_IN_PROGRESS for the whole lease (burning the message's receive count toward its
 * DLQ). A failed batch claim must give back what it claimed (released by owner token). FerretDB
 * behind a proxy that resets the connection in place of the re-read's reply.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotency, mongoStore, scopeOf, storeKey } from '../src/index.js';
import { startReplyCutProxy, type ReplyCutProxy } from '../../../test/support/reply-cut-proxy.js';
import { lambdaContext, openBackend, silentSink, sqsRecord, type Backend } from './support.js';

let backend: Backend;
let proxy: ReplyCutProxy;
let cut: MongoClient;
beforeAll(async () => {
  backend = await openBackend('mongodb');
  proxy = await startReplyCutProxy(Number(new URL(process.env.MONGODB_URI!).port));
  // No retried writes or reads: the cut reaches the store as it would through a real drop.
  cut = new MongoClient(`mongodb://127.0.0.1:${proxy.port}/?directConnection=true`, { retryWrites: false, retryReads: false, serverSelectionTimeoutMS: 5000, maxPoolSize: 10 });
  await cut.connect();
});
afterAll(async () => {
  await cut?.close();
  await proxy?.close();
  await backend?.close();
});

describe('review: a MongoDB batch claim whose connection drops after some inserts', () => {
  it('gives back the records it claimed: the redelivery runs them at once, not after the lease', async () => {
    const collection = cut.db(backend.collection!.dbName).collection(backend.collection!.collectionName);
    const store = mongoStore({ collection: collection as never });
    const name = `claim-cut-${randomUUID()}`;
    const [a, b] = [randomUUID(), randomUUID()];
    const runs = new Map<string, number>();
    const main = handler({ name, logSink: silentSink(), use: [idempotency({ store, ttlMs: 3_600_000, leaseMs: 120_000, localCache: false })] }, async (input) => {
      const id = (input as { id: string }).id;
      runs.set(id, (runs.get(id) ?? 0) + 1);
      return { done: id };
    });
    const batch = (attempt: number) => ({ Records: [a, b].map((id) => sqsRecord(id, { id }, { receiveCount: attempt })) });
    const keyOf = (id: string) => storeKey(scopeOf(name), { kind: 'delivery', value: id });
    // A warm-up on other keys: the pool's connections exist before the cut.
    await main.aws({ Records: [sqsRecord(randomUUID(), { id: 'warm' }), sqsRecord(randomUUID(), { id: 'warm2' })] }, lambdaContext());
    runs.clear();

    // Between the batch's read and its insert another process claims b: a is inserted, b's
    // insert meets it, and the batch reads b again — that read's connection drops.
    proxy.on('insert', async () => {
      expect((await backend.store.claim({ key: keyOf(b), owner: 'competitor', fingerprint: 'x', leaseUntil: Date.now() + 120_000 })).claimed).toBe(true);
    });
    proxy.on('find', 'cut');
    const failed = (await main.aws(batch(1), lambdaContext(undefined, 'fn', 60_000))) as { batchItemFailures: Array<{ itemIdentifier: string }> };
    expect(proxy.cuts).toBe(1);
    expect(failed.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([a, b].sort());
    expect(runs.size).toBe(0);
    // Nothing of a ran: its record may not stay held (read on the direct connection).
    expect((await backend.store.get(keyOf(a)))?.status).not.toBe('in_progress');

    // The redelivery: a runs now; b is the competitor's, still running.
    const redelivered = (await main.aws(batch(2), lambdaContext(undefined, 'fn', 60_000))) as { batchItemFailures: Array<{ itemIdentifier: string }> };
    expect(redelivered.batchItemFailures).toEqual([{ itemIdentifier: b }]);
    expect(runs.get(a)).toBe(1);
    expect(runs.get(b)).toBeUndefined();
  }, 60_000);
});
