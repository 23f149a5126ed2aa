/**
 * Every relay store on its real server, with a FIFO queue on moto, for the outage tests: the
 * three of the fault tests (Redis, Redis Cluster, embedded on FerretDB; see
 * ../fault/backends.ts) and the transaction-mode store, whose reads and marks run on any
 * MongoDB-wire server (FerretDB here, with a Redis lease that marks outside a transaction; the
 * marks inside one need a replica set and are covered by src/modes/transaction-mode.test.ts).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { openFaultServers, FAULT_BACKENDS } from '../fault/backends.js';
import { events } from '../fault/harness.js';
import { createQueue, drainQueue, openMongo, openRedis, sqsClient } from '../support.js';
import { prepareEvent, serializeEvent } from '../../src/envelope.js';
import { eventDocument, mongoTransactionOutbox } from '../../src/stores/mongo-collection.js';
import type { RelayLease, RelayStore } from '../../src/relay/types.js';

export const SIDES = [...FAULT_BACKENDS, 'transaction'] as const;
export type SideName = (typeof SIDES)[number];

export interface OutageSide {
  store: RelayStore;
  lease: RelayLease;
  /** Records `perAggregate` events for each of `agg-0 … agg-<aggregates-1>` (aggregate `tick/agg-i`). */
  record(aggregates: number, perAggregate: number): Promise<void>;
  /** SQS (moto, direct) and a fresh FIFO queue on it. */
  sqs: SQSClient;
  queueUrl: string;
  /** Receives everything on the queue: aggregate id → seqs in arrival order. */
  received(): Promise<Map<string, number[]>>;
  close(): Promise<void>;
}

async function received(sqs: SQSClient, url: string): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const m of await drainQueue(sqs, url)) {
    const e = JSON.parse(m.Body!) as { aggregateId: string; seq: number };
    out.set(e.aggregateId, [...(out.get(e.aggregateId) ?? []), e.seq]);
  }
  return out;
}

export async function openSide(name: SideName): Promise<OutageSide> {
  if (name !== 'transaction') {
    const servers = await openFaultServers(name, { fifo: true });
    return {
      store: servers.side.store,
      lease: servers.side.lease,
      record: async (aggregates, perAggregate) => void (await servers.side.record(aggregates, perAggregate)),
      sqs: servers.sqs,
      queueUrl: servers.queue.url,
      received: () => received(servers.sqs, servers.queue.url),
      close: () => servers.close(),
    };
  }
  const mongo = await openMongo();
  const redis = await openRedis('redis');
  const sqs = await sqsClient('moto');
  const queue = await createQueue(sqs, { fifo: true });
  const outbox = mongoTransactionOutbox({ client: mongo.client as never, db: mongo.db as never });
  return {
    store: outbox.relay.withLease!(redis.lease),
    lease: redis.lease,
    async record(aggregates, perAggregate) {
      const docs = [];
      for (let a = 0; a < aggregates; a++) {
        for (let seq = 1; seq <= perAggregate; seq++) {
          const event = prepareEvent(events, { type: 'Tick', aggregateId: `agg-${a}`, payload: { n: seq } }, {});
          docs.push(eventDocument(event, `tick/agg-${a}`, seq, serializeEvent(event, seq), new Date()));
        }
      }
      await mongo.db.collection('outbox').insertMany(docs as never[]);
    },
    sqs,
    queueUrl: queue.url,
    received: () => received(sqs, queue.url),
    async close() {
      await queue.remove();
      await redis.close();
      await mongo.close();
    },
  };
}
