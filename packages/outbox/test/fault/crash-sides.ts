/**
 * The transaction-mode (one document per event) relay store for the crash tests, beside the
 * sides of backends.ts: its reads and marks on FerretDB (collection `outbox` of `db`), a Redis
 * lease (no transactions there: marks conditional on id and seq). Events are inserted as the
 * capture writes them (`eventDocument`), aggregates `tick/agg-<i>`.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { redisLeaseStore } from '@steadyfn/lease';
import { eventDocument, mongoTransactionOutbox } from '../../src/stores/mongo-collection.js';
import type { RelaySide } from './backends.js';

export async function collectionSide(target: { prefix: string; db: string }): Promise<RelaySide> {
  const mongo = await new MongoClient(process.env.MONGODB_URI!).connect();
  const db = mongo.db(target.db);
  const client = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 2 });
  const lease = redisLeaseStore({ client, prefix: `${target.prefix}lease:` });
  return {
    store: mongoTransactionOutbox({ client: mongo as never, db: db as never }).relay.withLease!(lease),
    lease,
    async record(aggregates, perAggregate) {
      const docs = [];
      for (let a = 0; a < aggregates; a++) {
        for (let seq = 1; seq <= perAggregate; seq++) {
          const id = randomUUID();
          const body = JSON.stringify({ id, type: 'Tick', aggregateType: 'tick', aggregateId: `agg-${a}`, seq, payload: { n: seq } });
          docs.push(eventDocument({ id, type: 'Tick' }, `tick/agg-${a}`, seq, body, new Date(Date.now() - 10_000)));
        }
      }
      await db.collection('outbox').insertMany(docs as never[]);
      return docs.length;
    },
    async close() {
      client.disconnect();
      await mongo.close();
    },
  };
}
