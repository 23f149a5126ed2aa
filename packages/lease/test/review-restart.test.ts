/**
 * Own servers, restarted and frozen under the store: fences keep growing across a restart of a
 * persistent Redis (AOF, fsync always) and of FerretDB, and a call against a server that hangs
 * gives up when its signal aborts, with the signal's reason.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongoLeaseStore, redisLeaseStore, type LeaseStore } from '../src/index.js';
import { ferretdbAvailable, startFerretDB, startRedis, type OwnServer } from '../../../test/support/servers.js';
import { eventually } from '../../../test/support/wait.js';

const token = (): string => randomUUID();

/**
 * Claims `key` after the last lease ran out, `rounds` times, returning the fences. Before each
 * claim it waits for the last lease's end as this store judges it: on a MongoDB-wire server that
 * is the lease plus twice the uncertainty of the store's server-clock sample (half a `hello`
 * round trip), so a fixed wait (350 ms for a 200 ms lease) fell short when a loaded machine made
 * that sample slow — and two stores' samples differ.
 */
async function takeovers(store: LeaseStore, key: string, rounds: number): Promise<number[]> {
  const fences: number[] = [];
  for (let i = 0; i < rounds; i++) {
    await eventually(async () => (await store.get(key)) === undefined, 10_000);
    const claim = await store.claim({ key, owner: token(), leaseMs: 200 });
    if (!claim.claimed) throw new Error(`round ${i}: ${JSON.stringify(claim.record)}`);
    fences.push(claim.fence);
  }
  return fences;
}

/**
 * How long after the abort a rejection still counts as "soon": a generous bound, far from what
 * it takes (the next turns of the event loop) and far from a loaded machine's delays, yet well
 * before the test's own timeout — a call that ignores its signal waits for the frozen server for
 * ever, and one that polls it would come after this.
 */
const SOON_AFTER_ABORT_MS = 10_000;

/**
 * Runs `call` against a frozen server (thawed only after the call settled, so the server cannot
 * have answered it) and aborts its signal: it must reject with the signal's reason before a timer
 * started at the abort fires `SOON_AFTER_ABORT_MS` later. Returns whether it did — an ordering of
 * two events, not a clock reading.
 */
async function abortsOnFrozen(server: OwnServer, call: (signal: AbortSignal) => Promise<unknown>): Promise<boolean> {
  server.freeze();
  let tooLate: ReturnType<typeof setTimeout> | undefined;
  try {
    const reason = new Error('deadline');
    const controller = new AbortController();
    let late = false;
    setTimeout(() => {
      controller.abort(reason);
      tooLate = setTimeout(() => (late = true), SOON_AFTER_ABORT_MS);
    }, 300);
    await expect(call(controller.signal)).rejects.toBe(reason);
    return !late;
  } finally {
    clearTimeout(tooLate);
    server.thaw();
  }
}

describe('Redis with appendfsync always, restarted', () => {
  let server: OwnServer & { url: string };
  let client: Redis;
  beforeAll(async () => {
    server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    client = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(n * 50, 500) });
    client.on('error', () => undefined);
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.dispose();
  });

  it('fences keep growing across the restart; the held lease is still held after it', async () => {
    const store = redisLeaseStore({ client, prefix: 'restart:' });
    const before = await takeovers(store, 'k', 3);
    const holder = token();
    const held = await store.claim({ key: 'h', owner: holder, leaseMs: 60_000 });
    await server.stop();
    await server.start();
    // The first call after the restart may meet the dead socket; the next ones go through.
    await store.get('k').catch(() => undefined);
    const after = await takeovers(store, 'k', 2);
    expect(after[0]).toBeGreaterThan(before.at(-1)!);
    const rival = await store.claim({ key: 'h', owner: token(), leaseMs: 60_000 });
    expect(rival).toMatchObject({ claimed: false, record: { state: 'held', owner: holder } });
    if (held.claimed) expect(await store.settle({ key: 'h', owner: holder, fence: held.fence })).toBe(true);
  });

  it('a call to a server that hangs rejects with the signal\'s reason soon after the abort', async () => {
    const store = redisLeaseStore({ client, prefix: 'frozen:' });
    await store.get('warm');
    for (const call of [
      (signal: AbortSignal) => store.claim({ key: 'f', owner: token(), leaseMs: 1000 }, { signal }),
      (signal: AbortSignal) => store.claimMany([{ key: 'f1', owner: token(), leaseMs: 1000 }], { signal }),
      (signal: AbortSignal) => store.settle({ key: 'f', owner: token(), fence: 1 }, { signal }),
      (signal: AbortSignal) => store.get('f', { signal }),
    ]) {
      expect(await abortsOnFrozen(server, call), 'rejected with the reason before the too-late timer').toBe(true);
    }
  });
});

describe.skipIf(!ferretdbAvailable())('FerretDB restarted under the store', () => {
  let server: OwnServer & { uri: string };
  let mongo: MongoClient;
  beforeAll(async () => {
    server = await startFerretDB();
    mongo = await new MongoClient(server.uri, { serverSelectionTimeoutMS: 3000 }).connect();
  });
  afterAll(async () => {
    await mongo?.close();
    await server?.dispose();
  });

  it('fences keep growing across the restart', async () => {
    const store = mongoLeaseStore({ collection: mongo.db('restart').collection('leases') });
    const before = await takeovers(store, 'k', 3);
    await server.stop();
    await server.start();
    await store.get('k').catch(() => undefined);
    const after = await takeovers(mongoLeaseStore({ collection: mongo.db('restart').collection('leases') }), 'k', 2);
    expect(after[0]).toBeGreaterThan(before.at(-1)!);
    const again = await takeovers(store, 'k', 1);
    expect(again[0]).toBeGreaterThan(after.at(-1)!);
  });

  it('a call to a server that hangs rejects with the signal\'s reason soon after the abort', async () => {
    const store = mongoLeaseStore({ collection: mongo.db('frozen').collection('leases') });
    await store.get('warm');
    for (const call of [
      (signal: AbortSignal) => store.claim({ key: 'f', owner: token(), leaseMs: 1000 }, { signal }),
      (signal: AbortSignal) => store.settle({ key: 'f', owner: token(), fence: 1 }, { signal }),
      (signal: AbortSignal) => store.get('f', { signal }),
    ]) {
      expect(await abortsOnFrozen(server, call), 'rejected with the reason before the too-late timer').toBe(true);
    }
  });
});
