/**
 * Real servers for the outbox tests: Redis, the 3-master Redis Cluster, FerretDB and moto,
 * started by `bash test/services/services.sh start`, and real `@steadyfn/lease` stores on them.
 * Every test file writes under its own random prefix / database / queue names and removes them
 * afterwards.
 */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { MongoClient, type Db } from 'mongodb';
import { mongoLeaseStore, redisLeaseStore, type MongoLeaseStore, type RedisLeaseStore } from '@steadyfn/lease';
import { requireService } from '../../../test/services/env.js';
import { clusterNodes, dropPrefix } from '../../../test/support/redis.js';
import { useOpened } from '../../../test/support/hooks.js';
import { SendMessageCommand, type SQSClient, type Message } from '@aws-sdk/client-sqs';
import { createQueue as createServerQueue, deleteQueue, receiveAll, sqsClient as serverClient, sqsEndpoint, type ServerName } from './sqs-servers.js';
import type { OutboundMessage, Sender, SendReport } from '../src/relay/types.js';
import type { RelayContext } from '../src/relay/entry.js';
import { afterAll, beforeAll } from 'vitest';
import { z } from 'zod';
import { handler } from '@steadyfn/handler';
import { outbox, redisOutbox } from '../src/index.js';
import { sqsSender, type SqsSenderOptions } from '../src/sqs.js';
import { partitionKeys } from '../src/stores/redis-keys.js';
import { startFaultProxy, type FaultRule } from './fault-proxy.js';

export { eventually } from '../../../test/support/wait.js';
export { clusterNodes };

export function runId(): string {
  return randomUUID().slice(0, 8);
}

export interface RedisBackend {
  name: 'redis' | 'cluster';
  client: Redis | Cluster;
  prefix: string;
  /** A `@steadyfn/lease` Redis store on the same server, its keys under `prefix`. */
  lease: RedisLeaseStore;
  /** Every key under `prefix` and the given extra patterns, removed. */
  close(extra?: string[]): Promise<void>;
}

export async function openRedis(name: 'redis' | 'cluster'): Promise<RedisBackend> {
  await requireService(name === 'redis' ? 'redis' : 'redis-cluster');
  const client = name === 'redis' ? new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 2 }) : new Cluster(clusterNodes(), { redisOptions: { maxRetriesPerRequest: 2 } });
  const prefix = `obx-${runId()}:`;
  return {
    name,
    client,
    prefix,
    lease: redisLeaseStore({ client, prefix: `${prefix}lease:` }),
    async close(extra = []) {
      await dropPrefix(client, prefix, extra);
      client.disconnect();
    },
  };
}

export interface MongoBackend {
  client: MongoClient;
  db: Db;
  /** A `@steadyfn/lease` MongoDB store in the test's database (collection `leases`), indexes made. */
  lease: MongoLeaseStore;
  close(): Promise<void>;
}

export async function openMongo(uri = process.env.MONGODB_URI): Promise<MongoBackend> {
  await requireService('mongodb');
  const client = new MongoClient(uri!, { maxPoolSize: 20, serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const db = client.db(`steadyfn_outbox_${runId()}`);
  const lease = mongoLeaseStore({ collection: db.collection('leases') });
  await lease.ensureIndexes();
  return {
    client,
    db,
    lease,
    async close() {
      await db.dropDatabase().catch(() => undefined);
      await client.close();
    },
  };
}

/** One Redis backend (`openRedis`, own prefix) for the enclosing `describe` or file: see `useOpened`. */
export const useRedis = (name: 'redis' | 'cluster'): RedisBackend => useOpened(() => openRedis(name));

/** One MongoDB backend (`openMongo`; closing drops its database) for the enclosing `describe` or file: see `useOpened`. */
export const useMongo = (): MongoBackend => useOpened(() => openMongo());

// ---- SQS (moto, fauxqs and ElasticMQ, see sqs-servers.ts) ------------------------------------------

/** An SQS client for `server` (default moto), after checking the services are up. */
export async function sqsClient(server: ServerName = 'moto'): Promise<SQSClient> {
  await requireService(server === 'elasticmq' ? 'sqs-elasticmq' : server === 'fauxqs' ? 'sqs-alt' : 'sqs');
  return serverClient(sqsEndpoint(server), 3);
}

/** A uniquely named queue and a way to remove it. */
export async function createQueue(client: SQSClient, options: { fifo?: boolean; maxMessageBytes?: number } = {}): Promise<{ url: string; remove(): Promise<void> }> {
  const url = await createServerQueue(client, 'obx', { maxBytes: options.maxMessageBytes ?? 1_048_576, ...(options.fifo ? { fifo: true } : {}) });
  return { url, remove: () => deleteQueue(client, url) };
}

/** Receives (and deletes) every message until the queue has been empty `quietPolls` times in a row. */
export async function drainQueue(client: SQSClient, url: string, quietPolls = 2): Promise<Message[]> {
  const out: Message[] = [];
  for (let quiet = 0; quiet < quietPolls; ) {
    const got = await receiveAll(client, url, 10, 200);
    if (got.length === 0) quiet++;
    else quiet = 0;
    out.push(...got);
  }
  return out;
}

/**
 * The naive relay's sender: one `SendMessage` per event, no batching. The bench's baseline,
 * and the tests' sender until src/sqs's `sqsSender` is on this branch.
 */
export function naiveSender(client: SQSClient, queueUrl: string, fifo = queueUrl.endsWith('.fifo')): Sender {
  return {
    fifo,
    async send(messages: ReadonlyArray<OutboundMessage>, options: { signal?: AbortSignal } = {}): Promise<SendReport> {
      const sent: Array<{ id: string }> = [];
      const failed: Array<{ id: string; code: string; senderFault: boolean; retryable: boolean; judged: boolean }> = [];
      const blocked = new Set<string>();
      for (const m of messages) {
        if (m.groupKey !== undefined && blocked.has(m.groupKey)) {
          failed.push({ id: m.id, code: 'BLOCKED', senderFault: false, retryable: true, judged: false });
          continue;
        }
        try {
          await client.send(
            new SendMessageCommand({
              QueueUrl: queueUrl,
              MessageBody: m.body,
              MessageAttributes: Object.fromEntries(Object.entries(m.attributes ?? {}).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])),
              ...(fifo ? { MessageGroupId: m.groupKey!, MessageDeduplicationId: m.id.replace(/[^A-Za-z0-9]/g, '') } : {}),
            }),
            options.signal ? { abortSignal: options.signal } : undefined,
          );
          sent.push({ id: m.id });
        } catch (error) {
          const fault = (error as { $fault?: string }).$fault;
          failed.push({ id: m.id, code: (error as Error).name, senderFault: fault === 'client', retryable: fault !== 'client', judged: fault !== undefined });
          if (m.groupKey !== undefined) blocked.add(m.groupKey);
        }
      }
      return { sent, failed, batches: messages.length, fill: { entries: messages.length === 0 ? 0 : 0.1, bytes: 0 }, retries: 0 };
    },
  };
}

/**
 * A sender whose answers a test scripts (pure relay logic: poison, quarantine, partial
 * failures). `decide` answers per message; every message the sender "accepted" is kept.
 */
export function scriptedSender(decide: (m: OutboundMessage) => 'sent' | 'retryable' | 'fault' | 'unjudged' = () => 'sent', fifo = false): Sender & { accepted: OutboundMessage[]; calls: number } {
  const accepted: OutboundMessage[] = [];
  const sender = {
    fifo,
    accepted,
    calls: 0,
    async send(messages: ReadonlyArray<OutboundMessage>): Promise<SendReport> {
      sender.calls++;
      const sent: Array<{ id: string }> = [];
      const failed: Array<{ id: string; code: string; senderFault: boolean; retryable: boolean; judged: boolean }> = [];
      const blocked = new Set<string>();
      for (const m of messages) {
        const verdict = m.groupKey !== undefined && blocked.has(m.groupKey) ? 'retryable' : decide(m);
        if (verdict === 'sent') {
          sent.push({ id: m.id });
          accepted.push(m);
        } else {
          // 'unjudged': the whole call failed (an outage); the others are SQS's per-entry answers.
          failed.push({ id: m.id, code: verdict === 'fault' ? 'InvalidMessageContents' : verdict === 'unjudged' ? 'ECONNREFUSED' : 'InternalError', senderFault: verdict === 'fault', retryable: verdict !== 'fault', judged: verdict !== 'unjudged' });
          if (m.groupKey !== undefined) blocked.add(m.groupKey);
        }
      }
      return { sent, failed, batches: Math.ceil(messages.length / 10), fill: { entries: messages.length / (Math.ceil(messages.length / 10) * 10 || 1), bytes: 0 }, retries: 0 };
    },
  };
  return sender;
}

/** Options of {@link sqsRecord}. */
export interface SqsRecordOptions {
  /** ApproximateReceiveCount. @default 1 */
  attempt?: number;
  /** A FIFO queue's ARN (`orders.fifo`). @default false */
  fifo?: boolean;
  /** @default a random UUID */
  messageId?: string;
  /** @default 'rh' */
  receiptHandle?: string;
}

/**
 * One SQS record as Lambda's event source mapping hands it to the function (the shape of
 * aws-lambda-go's events/testdata/sqs-event.json), for queue `orders`.
 */
export function sqsRecord(body: string, options: SqsRecordOptions = {}) {
  return {
    messageId: options.messageId ?? randomUUID(),
    receiptHandle: options.receiptHandle ?? 'rh',
    body,
    attributes: { ApproximateReceiveCount: String(options.attempt ?? 1), SentTimestamp: '1', SenderId: 'x', ApproximateFirstReceiveTimestamp: '1' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:orders${options.fifo ? '.fifo' : ''}`,
    awsRegion: 'us-east-1',
  };
}

/** An SQS batch event of one record per body ({@link sqsRecord}). */
export function sqsEvent(bodies: string[], options: Omit<SqsRecordOptions, 'messageId'> = {}) {
  return { Records: bodies.map((body) => sqsRecord(body, options)) };
}

/** A Lambda context with 30 s left, for a function named `functionName`. */
export function lambdaContext(functionName = 'ship') {
  return { awsRequestId: randomUUID(), functionName, getRemainingTimeInMillis: () => 30_000 };
}

/**
 * Registers the file's hooks for the common pair: one Redis backend (own prefix) and one moto SQS
 * client, opened before the file's tests and closed after them. Read them inside a test
 * (`const { redis, sqs } = servers;`), once the hooks have run.
 */
export function useRedisAndSqs(): { readonly redis: RedisBackend; readonly sqs: SQSClient } {
  const servers = {} as { redis: RedisBackend; sqs: SQSClient };
  beforeAll(async () => {
    servers.redis = await openRedis('redis');
    servers.sqs = await sqsClient('moto');
  });
  afterAll(async () => {
    await servers.redis?.close();
    servers.sqs?.destroy();
  });
  return servers;
}

// ---- Peer bug replays (peer-bug-replays*.test.ts) ------------------------------------------

/** Tick events (as the fault harness's, whose inbox consumer reads them), with optional filler. */
export const tickEvents = { Tick: { aggregateType: 'tick', schema: z.object({ n: z.number().int(), pad: z.string().optional() }) } };

/** What a replay reads back of a delivered event. */
export interface Delivered {
  id: string;
  aggregateId: string;
  seq: number;
}
export const parseDelivered = (m: Message): Delivered => JSON.parse(m.Body!) as Delivered;
/** Seqs per aggregate id, in the order the queue handed them out. */
export function arrival(messages: Message[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const e of messages.map(parseDelivered)) out.set(e.aggregateId, [...(out.get(e.aggregateId) ?? []), e.seq]);
  return out;
}
/** 1, 2, …, n. */
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
const quietLog = { debug() {}, info() {}, warn() {}, error() {} };
/** What a schedule-triggered sweeper function passes to `sweep(ctx)`. */
export const runCtx = (): RelayContext => ({ signal: new AbortController().signal, remainingMs: () => 60_000, log: quietLog as never });
/** `bytes` of filler for a tick's `pad`. */
export const filler = (bytes: number): string => 'x'.repeat(bytes);

/** Relay options a replay's Redis writer takes. */
export interface ReplayRelay {
  flush?: boolean;
  leaseMs?: number;
  reserveMs?: number;
  maxEventsPerAggregate?: number;
  sweep?: Record<string, number>;
  poison?: { maxAttempts?: number; maxUnfinishedAttempts?: number };
}

/**
 * A Redis-mode writer: `write({ agg, n, count })` records `count` Tick events of aggregate
 * `agg` (payload n, n+1, …) with a state change on the same hash tag, in one script, then flushes.
 */
export function redisWriter(b: RedisBackend, sender: Sender, relay: ReplayRelay = {}, mark?: 'sent') {
  const store = redisOutbox({ client: b.client, prefix: b.prefix, ...(mark ? { mark } : {}) });
  const box = outbox({ events: tickEvents, store, relay: { sender, lease: b.lease, ...relay, sweep: { graceMs: 0, ...relay.sweep } } });
  const write = handler({ input: z.object({ agg: z.string(), n: z.number().int().default(1), count: z.number().int().default(1), pad: z.number().int().default(0) }), use: [box] }, async ({ agg, n, count, pad }, ctx) => {
    ctx.outbox.call('HINCRBY', `${b.prefix}state:{${agg}}`, 'n', count);
    for (let i = 0; i < count; i++) ctx.outbox.add({ type: 'Tick', aggregateId: agg, payload: { n: n + i, ...(pad > 0 ? { pad: filler(pad) } : {}) } });
    return { recorded: count };
  });
  return { box, write, store };
}
/** Events of aggregate `agg` still pending in a Redis-mode outbox. */
export const pendingIn = (b: RedisBackend, agg: string): Promise<number> => b.client.xlen(partitionKeys(b.prefix, agg).events);

/**
 * Queues on `sqs()` removed by the caller's `cleanups`, and senders through a fault-injecting
 * proxy (test/fault-proxy.ts) in front of moto.
 */
export function replayQueues(sqs: () => SQSClient, cleanups: Array<() => Promise<void>>) {
  return {
    async queue(fifo = false): Promise<string> {
      const q = await createQueue(sqs(), { fifo });
      cleanups.push(q.remove);
      return q.url;
    },
    async proxied(url: string, rule: FaultRule, options: Omit<SqsSenderOptions, 'client' | 'queueUrl'> = {}): Promise<Sender> {
      const proxy = await startFaultProxy(sqsEndpoint('moto'), rule);
      cleanups.push(proxy.close);
      return sqsSender({ client: serverClient(proxy.endpoint), queueUrl: url, retry: { retries: 0 }, ...options });
    },
  };
}

/**
 * `db` whose `collection(name)` answers with a view of the real collection where each
 * `updateOne` first awaits `before(args)` — to land another writer's whole invocation between
 * a store's read and its update (the races of the embedded mode). Other collections are `db`'s own.
 */
export function withUpdateOneHook(db: Db, name: string, before: (args: unknown[]) => Promise<void>): Db {
  return {
    command: (c: object, o?: object) => db.command(c as never, o as never),
    collection(wanted: string) {
      const real = db.collection(wanted);
      if (wanted !== name) return real;
      return new Proxy(real, {
        get(target, prop, receiver) {
          if (prop === 'updateOne') {
            return async (...args: unknown[]) => {
              await before(args);
              return (target.updateOne as (...x: unknown[]) => unknown).apply(target, args);
            };
          }
          const value = Reflect.get(target, prop, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    },
  } as unknown as Db;
}
