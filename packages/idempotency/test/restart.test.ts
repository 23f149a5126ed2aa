/**
 * The store server crashes (SIGKILL) and comes back while an invocation holds a key, and a
 * second instance retries the same request meanwhile. Two instances are two handlers with
 * their own clients (the multi-process storm is storm.test.ts); the servers are this file's
 * own, on free ports, never the shared ones.
 *
 * - Redis with `appendonly yes` + `appendfsync always`, and FerretDB (SQLite on disk): the
 *   claim survives the crash, the retry is told 409 in progress, the first instance completes
 *   after its client reconnects, and the next retry replays its answer: one effect.
 * - Redis without persistence: the claim is gone with the process, so the retry runs the
 *   function a second time. That is the store's durability, not something a client can fix;
 *   the README says so, and this test keeps the README honest.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { idempotency, mongoStore, redisStore, type IdempotencyStore } from '../src/index.js';
import { ferretdbAvailable, startFerretDB, startRedis, type OwnServer } from '../../../test/support/servers.js';
import { httpEvent, lambdaContext, silentSink } from './support.js';

type LambdaHttp = { statusCode: number; body: string; headers: Record<string, string> };

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

/** One function instance: its own store client, effects counted in `effects`. */
function instance(store: IdempotencyStore, effects: string[], gate?: Promise<void>) {
  return handler({ name: 'restart', logSink: silentSink(), use: [idempotency({ store, ttlMs: 3_600_000, localCache: false })] }, async (input) => {
    const { orderId } = input as { orderId: string };
    effects.push(orderId);
    await gate;
    return { charged: orderId };
  });
}

interface Backend {
  server: OwnServer;
  /** A store on a client of its own (one per instance). */
  store(): Promise<IdempotencyStore>;
}

async function redisBackend(args: string[]): Promise<Backend> {
  const server = await startRedis(args);
  cleanups.push(() => server.dispose());
  const prefix = `restart:${randomUUID().slice(0, 8)}:`;
  return {
    server,
    async store() {
      const client = new Redis(server.url);
      // Refused reconnects while the server is down are expected; the answers are what is checked.
      client.on('error', () => undefined);
      cleanups.push(async () => client.disconnect());
      return redisStore({ client, prefix });
    },
  };
}

async function ferretBackend(): Promise<Backend> {
  const server = await startFerretDB();
  cleanups.push(() => server.dispose());
  const collection = `records_${randomUUID().slice(0, 8)}`;
  return {
    server,
    async store() {
      const mongo = new MongoClient(server.uri, { serverSelectionTimeoutMS: 10_000 });
      await mongo.connect();
      cleanups.push(() => mongo.close());
      const store = mongoStore({ collection: mongo.db('restart').collection(collection) });
      await store.ensureIndexes();
      return store;
    },
  };
}

async function crashMidInvocation(backend: Backend): Promise<{ effects: string[]; retryDuringRun: LambdaHttp; first: LambdaHttp; retryAfter: LambdaHttp }> {
  const effects: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const a = instance(await backend.store(), effects, gate);
  const b = instance(await backend.store(), effects);
  const key = randomUUID();
  const event = () => httpEvent({ key, body: { orderId: 'o-1' } });
  const firstPending = a.aws(event(), lambdaContext(randomUUID(), 'restart', 60_000)) as Promise<LambdaHttp>;
  while (effects.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  await backend.server.stop();
  await backend.server.start();
  const retryDuringRun = (await b.aws(event(), lambdaContext(randomUUID(), 'restart', 20_000))) as LambdaHttp;
  release();
  const first = await firstPending;
  const retryAfter = (await b.aws(event(), lambdaContext(randomUUID(), 'restart', 20_000))) as LambdaHttp;
  return { effects, retryDuringRun, first, retryAfter };
}

/** The claim survived the crash: 409 during the run, the first completes after it, then a replay; one effect. */
function expectClaimKept(outcome: Awaited<ReturnType<typeof crashMidInvocation>>): void {
  expect(outcome.retryDuringRun.statusCode).toBe(409);
  expect(JSON.parse(outcome.retryDuringRun.body)).toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS' });
  expect(outcome.first.statusCode).toBe(200);
  expect(outcome.retryAfter.statusCode).toBe(200);
  expect(outcome.retryAfter.headers['Idempotency-Replayed']).toBe('true');
  expect(outcome.retryAfter.body).toBe(outcome.first.body);
  expect(outcome.effects).toEqual(['o-1']);
}

describe('a store server that crashes while an invocation holds the key', () => {
  it('Redis with appendfsync always: the retry is told 409 in progress; the first instance completes after the restart; then a replay', async () => {
    expectClaimKept(await crashMidInvocation(await redisBackend(['--appendonly', 'yes', '--appendfsync', 'always'])));
  }, 60_000);

  it.skipIf(!ferretdbAvailable())('FerretDB (SQLite on disk): the same (needs .services/bin/ferretdb-local: run test/services/services.sh start)', async () => {
    expectClaimKept(await crashMidInvocation(await ferretBackend()));
  }, 60_000);

  it('Redis without persistence: the claim is lost with the process and the retry runs the function again (the README names this limit)', async () => {
    const outcome = await crashMidInvocation(await redisBackend([]));
    expect(outcome.retryDuringRun.statusCode).toBe(200);
    expect(outcome.effects).toEqual(['o-1', 'o-1']);
  }, 60_000);
});
