/**
 * What a sweep costs on FerretDB 1.24, which evaluates only `_id` equality in SQL (any other
 * filter decodes every document of the collection): listing the pending aggregates of an
 * embedded outbox by a query on the collection (`_outboxPendingSince ≤ t`, what MongoDB serves
 * from the index) against the pending registry the embedded outbox keeps on FerretDB
 * (`<collection>_outbox_pending`, only documents with pending events), on the same data, in
 * the same run, for collections of BENCH_DOCS documents (default 1,000 and 10,000) of which
 * 20 have pending events. Milliseconds per listing, median of BENCH_ROUNDS (default 5).
 *
 *   npm run bench -- packages/outbox/bench/ferretdb-sweep.bench.ts
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { test } from 'vitest';
import { z } from 'zod';
import { mongoLeaseStore } from '@steadyfn/lease';
import { embeddedWrite } from '../src/capture/mongo-embedded.js';
import { prepareEvent } from '../src/envelope.js';
import { mongoEmbeddedOutbox } from '../src/stores/mongo-embedded.js';
import { median } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SIZES = (process.env.BENCH_DOCS ?? '1000,10000').split(',').map(Number);
const PENDING = 20;
const events = { Tick: { aggregateType: 'tick', schema: z.object({}) } };

test('FerretDB sweep: pending registry vs a query on the collection', async () => {
  const mongo = await new MongoClient(process.env.MONGODB_URI!).connect();
  const rows: string[] = [];
  try {
    for (const docs of SIZES) {
      const db = mongo.db(`steadyfn_outbox_bench_${randomUUID().slice(0, 8)}`);
      try {
        const lease = mongoLeaseStore({ collection: db.collection('leases') });
        const registered = mongoEmbeddedOutbox({ db: db as never, collection: 'ticks', aggregateType: 'tick', writeLease: lease, atomicity: 'lease' });
        const queried = mongoEmbeddedOutbox({ db: db as never, collection: 'ticks', aggregateType: 'tick', atomicity: 'server' });
        const filler = Array.from({ length: docs - PENDING }, (_, i) => ({ _id: `idle-${i}`, n: i, note: 'x'.repeat(200) }));
        for (let i = 0; i < filler.length; i += 1000) await db.collection('ticks').insertMany(filler.slice(i, i + 1000) as never[]);
        for (let i = 0; i < PENDING; i++) {
          const id = `busy-${i}`;
          const e = prepareEvent(events, { type: 'Tick', aggregateId: id, payload: {} }, {});
          await embeddedWrite(await registered.collection(), 'tick', { filter: { _id: id }, update: { $set: { n: i } }, upsert: true }, [e], registered.limits, await registered.serialisation(), undefined, await registered.registry());
        }
        const time = async (list: () => Promise<unknown[]>): Promise<number> => {
          const samples: number[] = [];
          for (let r = 0; r < ROUNDS; r++) {
            const start = performance.now();
            const found = await list();
            samples.push(performance.now() - start);
            if (found.length !== PENDING) throw new Error(`found ${found.length}, expected ${PENDING}`);
          }
          return median(samples);
        };
        const query = await time(() => queried.relay.listPending({ limit: 1000, before: Date.now() + 1000 }));
        const registry = await time(() => registered.relay.listPending({ limit: 1000, before: Date.now() + 1000 }));
        rows.push(`[bench] FerretDB ${String(docs).padStart(6)} documents, ${PENDING} pending: query on the collection ${query.toFixed(1)} ms, pending registry ${registry.toFixed(1)} ms → registry ${(query / registry).toFixed(1)}× faster`);
        console.log(rows.at(-1));
      } finally {
        await db.dropDatabase().catch(() => undefined);
      }
    }
  } finally {
    await mongo.close();
  }
  for (const row of rows) console.log(row);
}, 900_000);
