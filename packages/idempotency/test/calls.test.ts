/**
 * Store calls per path, counted on the server: a redis-server of the test's own (INFO
 * commandstats and MONITOR) and FerretDB through the driver's command monitoring.
 *   Redis: first call 2, duplicate 1 (also on a fresh instance), local-cache hit 0; a batch: 1
 *   to claim, 1 to complete.
 *   MongoDB (FerretDB): a claim reads the key and inserts its next generation, a completion by
 *   the same store is one insert (see @steadyfn/lease). FerretDB scans the collection for any
 *   query but an `_id` lookup, so a key the process has seen is read by `_id`, a new one by a
 *   query: first call 1 query + 2 inserts, duplicate 1 lookup (a live completed record is the
 *   key's last generation), local-cache hit 0; a batch of 10 new keys: 1 query + 1 insertMany
 *   to claim, 1 insertMany to complete.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { MongoClient, type Collection } from 'mongodb';
import { handler } from '@steadyfn/handler';
import { requireService } from '../../../test/services/env.js';
import { idempotency, mongoStore, redisStore, type IdempotencyStore } from '../src/index.js';
import { commandStats, diffStats, monitorCounts, startOwnRedis, type MonitorCounts, type OwnRedis } from './own-redis.js';
import { lambdaContext, silentSink } from './support.js';

function functions(store: IdempotencyStore) {
  const opts = { store, ttlMs: 3_600_000 };
  return {
    cold: handler({ name: 'calls', logSink: silentSink(), use: [idempotency({ ...opts, localCache: false })] }, (input) => ({ doubled: (input as { n: number }).n * 2 })),
    warm: handler({ name: 'calls', logSink: silentSink(), use: [idempotency(opts)] }, (input) => ({ doubled: (input as { n: number }).n * 2 })),
  };
}

const sqsBatch = (n: number) => ({
  Records: Array.from({ length: n }, (_, i) => ({
    messageId: randomUUID(),
    receiptHandle: 'rh',
    body: JSON.stringify({ n: i }),
    attributes: { ApproximateReceiveCount: '1' },
    messageAttributes: {},
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:calls',
    awsRegion: 'us-east-1',
  })),
});

describe('Redis: calls counted on the server', () => {
  let server: OwnRedis;
  let client: Redis;
  let admin: Redis;
  let monitor: MonitorCounts;
  beforeAll(async () => {
    server = await startOwnRedis();
    client = new Redis(server.url);
    admin = new Redis(server.url);
    monitor = await monitorCounts(server.url);
  });
  afterAll(async () => {
    await monitor?.stop();
    client?.disconnect();
    admin?.disconnect();
    await server?.stop();
  });

  /** Requests the client sent (MONITOR) and every command the server ran (commandstats). */
  const measure = async (work: () => Promise<unknown>): Promise<{ requests: number; inScript: number; commands: Record<string, number> }> => {
    await monitor.flush(client);
    monitor.reset();
    const before = await commandStats(admin);
    await work();
    await monitor.flush(client);
    const commands = diffStats(await commandStats(admin), before, ['info', 'echo', 'monitor']);
    return { requests: monitor.requests(), inScript: monitor.inScript(), commands };
  };

  it('first call 2, duplicate 1, local-cache hit 0, batch 1 + 1', async () => {
    const { cold, warm } = functions(redisStore({ client, prefix: 'calls:' }));
    // Load the scripts once, as any warm server has them.
    await cold.invoke({ n: 0 }, { deliveryId: randomUUID() });
    await cold.aws(sqsBatch(2), lambdaContext());

    const deliveryId = randomUUID();
    const first = await measure(() => cold.invoke({ n: 1 }, { deliveryId }));
    expect(first.requests).toBe(2);
    // Claim: one script (GET, then SET on a new key); complete: one script (GET, SET). A done value
    // keeps the settling owner, not its end time, so the completion no longer asks for TIME.
    expect(first.commands).toEqual({ evalsha: 2, get: 2, set: 2 });

    const duplicate = await measure(() => cold.invoke({ n: 1 }, { deliveryId }));
    expect(duplicate.requests).toBe(1);
    // The claim script reads the record and its TTL: live, nothing written.
    expect(duplicate.commands).toEqual({ evalsha: 1, get: 1, pttl: 1 });

    // A fresh instance (a cold start; a low-traffic function's duplicate minutes later): the same one request.
    const fresh = functions(redisStore({ client, prefix: 'calls:' })).cold;
    const freshDuplicate = await measure(() => fresh.invoke({ n: 1 }, { deliveryId }));
    expect(freshDuplicate.requests).toBe(1);
    expect(freshDuplicate.commands).toEqual({ evalsha: 1, get: 1, pttl: 1 });

    await warm.invoke({ n: 1 }, { deliveryId });
    const hit = await measure(() => warm.invoke({ n: 1 }, { deliveryId }));
    expect(hit.requests).toBe(0);
    expect(hit.commands).toEqual({});

    const batch = await measure(() => cold.aws(sqsBatch(10), lambdaContext()));
    expect(batch.requests).toBe(2);
    expect(batch.commands.evalsha).toBe(2);
  });
});

describe('MongoDB (FerretDB): calls counted by command monitoring', () => {
  let mongo: MongoClient;
  let collection: Collection;
  const started: string[] = [];
  beforeAll(async () => {
    await requireService('mongodb');
    mongo = new MongoClient(process.env.MONGODB_URI!, { monitorCommands: true });
    mongo.on('commandStarted', (event) => {
      if (event.commandName !== 'hello' && event.commandName !== 'isMaster' && event.commandName !== 'ping' && event.commandName !== 'endSessions') started.push(event.commandName);
    });
    await mongo.connect();
    collection = mongo.db('steadyfn_idempotency_test').collection(`calls_${randomUUID().slice(0, 8)}`);
  });
  afterAll(async () => {
    await collection?.drop().catch(() => undefined);
    await mongo?.close();
  });

  const measure = async (work: () => Promise<unknown>): Promise<string[]> => {
    started.length = 0;
    await work();
    return [...started];
  };

  it('first call 3, duplicate 1, local-cache hit 0, batch 2 + 1', async () => {
    const { cold, warm } = functions(mongoStore({ collection }));
    // The store probes the server once, before its first call.
    expect(await measure(() => cold.invoke({ n: 0 }, { deliveryId: randomUUID() }))).toEqual([...Array(9).fill('insert'), 'buildInfo', 'delete', 'find', 'insert', 'insert']);
    const deliveryId = randomUUID();
    expect(await measure(() => cold.invoke({ n: 1 }, { deliveryId }))).toEqual(['find', 'insert', 'insert']);
    expect(await measure(() => cold.invoke({ n: 1 }, { deliveryId }))).toEqual(['find']);
    await warm.invoke({ n: 1 }, { deliveryId });
    expect(await measure(() => warm.invoke({ n: 1 }, { deliveryId }))).toEqual([]);
    expect(await measure(() => cold.aws(sqsBatch(10), lambdaContext()))).toEqual(['find', 'insert', 'insert']);
  });
});
