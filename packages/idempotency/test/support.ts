/**
 * Real stores for the integration tests: Redis, the 3-master Redis Cluster and FerretDB
 * started by `bash test/services/services.sh start`. Every run writes under its own
 * prefix / collection and removes it afterwards.
 */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { MongoClient, type Collection } from 'mongodb';
import { requireService } from '../../../test/services/env.js';
import { mongoStore, redisStore, type IdempotencyStore, type MongoStore } from '../src/index.js';
import { clusterNodes, dropPrefix } from '../../../test/support/redis.js';
import { deferred, eventually } from '../../../test/support/wait.js';
import { useOpened } from '../../../test/support/hooks.js';

export { clusterNodes, deferred, eventually };

export type BackendName = 'redis' | 'cluster' | 'mongodb';
export const BACKENDS: BackendName[] = ['redis', 'cluster', 'mongodb'];

export interface Backend {
  name: BackendName;
  store: IdempotencyStore;
  /** For a second store sharing the same server (e.g. with other options). */
  redis?: Redis | Cluster;
  collection?: Collection;
  mongo?: MongoClient;
  prefix: string;
  close(): Promise<void>;
}

export async function openBackend(name: BackendName, opts: { hashTag?: 'scope' } = {}): Promise<Backend> {
  const run = randomUUID().slice(0, 8);
  if (name === 'redis' || name === 'cluster') {
    await requireService(name === 'redis' ? 'redis' : 'redis-cluster');
    const redis = name === 'redis' ? new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 2 }) : new Cluster(clusterNodes(), { redisOptions: { maxRetriesPerRequest: 2 } });
    const prefix = `idem-test:${run}:`;
    return {
      name,
      redis,
      prefix,
      store: redisStore({ client: redis, prefix, ...(opts.hashTag ? { hashTag: opts.hashTag } : {}) }),
      async close() {
        await dropPrefix(redis, prefix);
        redis.disconnect();
      },
    };
  }
  await requireService('mongodb');
  const mongo = new MongoClient(process.env.MONGODB_URI!, { maxPoolSize: 20, serverSelectionTimeoutMS: 5000 });
  await mongo.connect();
  const collection = mongo.db('steadyfn_idempotency_test').collection(`records_${run}`);
  const store: MongoStore = mongoStore({ collection });
  await store.ensureIndexes();
  return {
    name,
    store,
    mongo,
    collection,
    prefix: '',
    async close() {
      await collection.drop().catch(() => undefined);
      await mongo.close();
    },
  };
}

/** One backend (`openBackend`) for the enclosing `describe` or file: see `useOpened`. */
export const useBackend = (name: BackendName): Backend => useOpened(() => openBackend(name));

export function lambdaContext(id = randomUUID(), functionName = 'orders', remainingMs = 30_000): { awsRequestId: string; functionName: string; getRemainingTimeInMillis(): number } {
  const deadline = Date.now() + remainingMs;
  return { awsRequestId: id, functionName, getRemainingTimeInMillis: () => deadline - Date.now() };
}

/** An API Gateway HTTP API (v2) event, as the handler's Lambda adapter reads it. */
export function httpEvent(init: { key?: string; body?: unknown; method?: string; path?: string; headers?: Record<string, string> }): Record<string, unknown> {
  const method = init.method ?? 'POST';
  const path = init.path ?? '/orders';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...(init.key !== undefined ? { 'idempotency-key': init.key } : {}), ...(init.headers ?? {}) },
    requestContext: { http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' }, domainName: 'abc.execute-api.us-east-1.amazonaws.com', requestId: randomUUID() },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    isBase64Encoded: false,
  };
}


/** A store that counts calls on its way to a real store. */
export function counting(store: IdempotencyStore): IdempotencyStore & { calls: Record<string, number>; total(): number } {
  const calls: Record<string, number> = {};
  const wrap =
    <K extends Exclude<keyof IdempotencyStore, 'joinable' | 'maxResultBytes'>>(name: K) =>
    (...args: Parameters<IdempotencyStore[K]>) => {
      calls[name] = (calls[name] ?? 0) + 1;
      return (store[name] as (...a: unknown[]) => unknown)(...args);
    };
  return {
    calls,
    total: () => Object.values(calls).reduce((a, b) => a + b, 0),
    claim: wrap('claim') as IdempotencyStore['claim'],
    claimMany: wrap('claimMany') as IdempotencyStore['claimMany'],
    complete: wrap('complete') as IdempotencyStore['complete'],
    release: wrap('release') as IdempotencyStore['release'],
    completeMany: wrap('completeMany') as IdempotencyStore['completeMany'],
    get: wrap('get') as IdempotencyStore['get'],
    joinable: (request) => store.joinable?.(request),
  };
}

export function silentSink(): (line: string) => void {
  return () => undefined;
}

/**
 * An SQS record as Lambda delivers it (the `Records[]` item of an SQS event), with `body` as
 * JSON text. `queue` names the source queue in `eventSourceARN`; `receiveCount` is
 * `ApproximateReceiveCount`.
 */
export function sqsRecord(messageId: string, body: unknown, options: { receiveCount?: number; queue?: string } = {}): Record<string, unknown> {
  return {
    messageId,
    receiptHandle: `rh-${randomUUID()}`,
    body: JSON.stringify(body),
    attributes: { ApproximateReceiveCount: String(options.receiveCount ?? 1), SentTimestamp: '1700000000000', SenderId: 'AIDAEXAMPLE', ApproximateFirstReceiveTimestamp: '1700000000001' },
    messageAttributes: {},
    md5OfBody: 'ignored',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${options.queue ?? 'orders'}`,
    awsRegion: 'us-east-1',
  };
}
