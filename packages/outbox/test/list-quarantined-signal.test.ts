/**
 * `listQuarantined` honours its `signal` (Redis :16379 and Cluster, FerretDB): it used to take
 * `signal` and ignore it, reading every partition's quarantine hash (every quarantine document)
 * after the caller's deadline had passed. Now, once the signal aborts, nothing more is read and
 * the call rejects with the signal's reason (`ctx.signal`'s is a `DeadlineExceededError`):
 * - aborted before the call: no read at all;
 * - aborted between reads (here from `onUnreadable`, told after the first partition's hash or
 *   the first document): the next partition / document is not read;
 * - aborted while a command is in flight (a Redis that never answers): the call gives it up.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { DeadlineExceededError } from '@steadyfn/handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeldLease, RelayStore, UnreadableQuarantine } from '../src/relay/types.js';
import { mongoEmbeddedOutbox } from '../src/stores/mongo-embedded.js';
import { mongoTransactionOutbox } from '../src/stores/mongo-collection.js';
import { redisRelayStore } from '../src/stores/redis.js';
import { partitionKeys, partitionsKey } from '../src/stores/redis-keys.js';
import { openMongo, openRedis, type MongoBackend, type RedisBackend } from './support.js';

const lease: HeldLease = { key: 'unused', owner: 'o', fence: 1 };
const PARTITIONS = ['p-a', 'p-b', 'p-c'];

/** Lists with a controller whose abort `onUnreadable` triggers on the first entry it is told. */
async function abortOnFirstUnreadable(relay: RelayStore): Promise<{ outcome: unknown; told: UnreadableQuarantine[]; reason: Error }> {
  const controller = new AbortController();
  const reason = new DeadlineExceededError('test deadline');
  const told: UnreadableQuarantine[] = [];
  const outcome = await relay
    .listQuarantined({
      limit: 100,
      signal: controller.signal,
      onUnreadable: (entry) => {
        told.push(entry);
        controller.abort(reason);
      },
    })
    .catch((error: unknown) => error);
  return { outcome, told, reason };
}

describe.each(['redis', 'cluster'] as const)('Redis relay store listQuarantined with a signal, on %s', (name) => {
  let backend: RedisBackend;
  let relay: RelayStore;
  beforeAll(async () => {
    backend = await openRedis(name);
    relay = redisRelayStore({ client: backend.client, prefix: backend.prefix });
    // Three listed partitions, each holding one quarantine entry that is not the relay's record.
    for (const tag of PARTITIONS) {
      await backend.client.sadd(partitionsKey(backend.prefix), tag);
      await backend.client.hset(partitionKeys(backend.prefix, tag).quarantine, `tick/${tag}`, 'not-json');
    }
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('without a signal, every partition is read (the baseline the aborted calls stop short of)', async () => {
    const told: UnreadableQuarantine[] = [];
    expect(await relay.listQuarantined({ limit: 100, onUnreadable: (u) => told.push(u) })).toEqual([]);
    expect(told.map((u) => u.where).sort()).toEqual(PARTITIONS);
  });

  it('an already aborted signal: rejects with its reason, nothing told', async () => {
    const reason = new DeadlineExceededError('test deadline');
    const told: UnreadableQuarantine[] = [];
    const outcome = await relay.listQuarantined({ limit: 100, signal: AbortSignal.abort(reason), onUnreadable: (u) => told.push(u) }).catch((error: unknown) => error);
    expect(outcome).toBe(reason);
    expect(told).toEqual([]);
  });

  it('aborted after the first partition: the others are not read, the call rejects with the reason', async () => {
    const { outcome, told, reason } = await abortOnFirstUnreadable(relay);
    expect(outcome).toBe(reason);
    expect(told).toHaveLength(1);
  });
});

describe('Redis relay store listQuarantined with a signal, a server that never answers', () => {
  let server: Server;
  const sockets: Socket[] = [];
  let client: Redis;
  beforeAll(async () => {
    // Accepts connections and never replies: every command stays in flight.
    server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    client = new Redis({ host: '127.0.0.1', port, enableReadyCheck: false, maxRetriesPerRequest: 0, lazyConnect: false });
  });
  afterAll(async () => {
    client?.disconnect();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('the command in flight is given up when the signal aborts: rejects with its reason', async () => {
    const relay = redisRelayStore({ client, prefix: 'hung:' });
    const reason = new DeadlineExceededError('test deadline');
    const started = Date.now();
    const outcome = await relay.listQuarantined({ limit: 10, signal: AbortSignal.timeout(200) }).catch((error: unknown) => error);
    expect((outcome as Error).name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(5_000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(reason), 100);
    await expect(relay.listQuarantined({ limit: 10, signal: controller.signal })).rejects.toBe(reason);
  });
});

describe('MongoDB relay stores (FerretDB) listQuarantined with a signal', () => {
  let mongo: MongoBackend;
  beforeAll(async () => {
    mongo = await openMongo();
  });
  afterAll(async () => {
    await mongo?.close();
  });

  const stores: Array<[string, () => { relay: RelayStore; collection: string; id: (aggregate: string) => string }]> = [
    ['transaction', () => ({ relay: mongoTransactionOutbox({ client: mongo.client as never, db: mongo.db as never, collection: 'sq' }).relay, collection: 'sq_state', id: (a) => a })],
    ['embedded', () => ({ relay: mongoEmbeddedOutbox({ db: mongo.db as never, collection: 'se', aggregateType: 'tick', writeLease: mongo.lease }).relay, collection: 'se_outbox', id: (a) => a.slice('tick/'.length) })],
  ];

  it.each(stores)('%s: an aborted signal rejects with its reason; aborted after the first document, the rest are not read', async (_kind, open) => {
    const { relay, collection, id } = open();
    const aggregates = PARTITIONS.map((p) => `tick/${p}`);
    await mongo.db.collection(collection).insertMany(aggregates.map((a) => ({ _id: id(a), q: 'not-a-record' }) as never));
    // A readable one as well, so a listing that goes on would list it.
    await relay.quarantine({ where: 'x', aggregate: 'tick/z-ok', since: 0 }, { fromSeq: 1, reason: 'sender fault: X', lease });

    const all: UnreadableQuarantine[] = [];
    expect(await relay.listQuarantined({ limit: 100, onUnreadable: (u) => all.push(u) })).toHaveLength(1);
    expect(all).toHaveLength(3);

    const reason = new DeadlineExceededError('test deadline');
    const told: UnreadableQuarantine[] = [];
    await expect(relay.listQuarantined({ limit: 100, signal: AbortSignal.abort(reason), onUnreadable: (u) => told.push(u) })).rejects.toBe(reason);
    expect(told).toEqual([]);

    const stopped = await abortOnFirstUnreadable(relay);
    expect(stopped.outcome).toBe(stopped.reason);
    expect(stopped.told).toHaveLength(1);
  });
});
