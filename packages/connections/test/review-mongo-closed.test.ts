/**
 * Fresh-eyes review of 3908096 for MongoDB: the function's own `client.close()` not awaited,
 * then the next use at once (the next warm invocation, or a concurrent one), on the shared
 * FerretDB. The write must run once on a rebuilt client, never twice, never fail.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll } from '../src/index.js';
import { mongo } from '../src/mongodb.js';
import { useMongoAdmin } from './support/mongo-admin.js';

const run = randomUUID().slice(0, 8);
const admin = useMongoAdmin();

afterEach(async () => {
  await closeAll();
});

describe('ctx.mongo.client.close() not awaited', () => {
  it('an insert right after it runs once on a rebuilt client', async () => {
    const db = `review_${run}`;
    const handle = mongo({ uri: process.env.MONGODB_URI, db });
    try {
      const first = await handle.get();
      void first.client.close();
      const id = randomUUID();
      await handle.run(({ db: d }) => d.collection('docs').insertOne({ _id: id as never, n: 1 }), { single: true });
      expect(handle.peek()?.client).not.toBe(first.client);
      expect(await admin.db(db).collection('docs').countDocuments({ _id: id as never })).toBe(1);
    } finally {
      await admin.db(db).dropDatabase().catch(() => undefined);
    }
  });

  it('an insert started just before it (a concurrent invocation) is applied at most once, and one right after succeeds', async () => {
    const db = `review_${run}_b`;
    const handle = mongo({ uri: process.env.MONGODB_URI, db });
    try {
      const first = await handle.get();
      const before = randomUUID();
      const during = handle.run(({ db: d }) => d.collection('docs').insertOne({ _id: before as never }), { single: true }).then(
        () => 'ok',
        (e: { code?: string; name?: string; message?: string }) => e.code ?? `raw ${e.name}: ${e.message}`,
      );
      void first.client.close();
      const after = randomUUID();
      await handle.run(({ db: d }) => d.collection('docs').insertOne({ _id: after as never }), { single: true });
      const outcome = await during;
      const stored = await admin.db(db).collection('docs').countDocuments({ _id: before as never });
      // Either it was applied and answered, or it answered a typed 503 — never a raw error, never applied twice (a duplicate _id would fail anyway, so count ≤ 1 is the check on the answer).
      expect(['ok', 'CONNECTION_LOST', 'CONNECTION_UNAVAILABLE']).toContain(outcome);
      if (outcome === 'ok') expect(stored).toBe(1);
      expect(await admin.db(db).collection('docs').countDocuments({ _id: after as never })).toBe(1);
    } finally {
      await admin.db(db).dropDatabase().catch(() => undefined);
    }
  });
});
