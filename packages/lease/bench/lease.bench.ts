/**
 * claim + settle round trip of @steadyfn/lease against the idempotency stores it replaced
 * (bench/baseline, as on main before), on the same server in the same run, interleaved:
 *
 *   - Redis: a redis-server of this bench's own;
 *   - FerretDB: a FerretDB of this bench's own, on a small collection and on one holding
 *     5,000 records (FerretDB scans the collection for every query but an `_id` lookup).
 *
 * Paths: a new key claimed then completed (first call), and a claim that finds the key done
 * (duplicate). Ratios are new ÷ baseline (below 1: faster).
 *
 *   npm run bench -- packages/lease/bench
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { MongoClient, type Collection } from 'mongodb';
import { afterAll, beforeAll, test } from 'vitest';
import { mongoLeaseStore, redisLeaseStore, type LeaseStore } from '../src/index.js';
import { ferretdbAvailable, startFerretDB, startRedis, type OwnServer } from '../../../test/support/servers.js';
import { mongoStore as baselineMongoStore } from './baseline/mongodb.js';
import { redisStore as baselineRedisStore } from './baseline/redis.js';
import type { IdempotencyStore } from './baseline/types.js';
import { recordBench } from '../../../test/support/bench-results.js';

const ROUNDS = Number(process.env.LEASE_BENCH_ROUNDS ?? 300);

type Path = () => Promise<unknown>;

/** The same two paths on both stores. */
interface Contender {
  first: Path;
  duplicate: Path;
}

function leaseContender(store: LeaseStore): Contender {
  const done = `dup:${randomUUID()}`;
  let ready: Promise<unknown> | undefined;
  return {
    async first() {
      const owner = randomUUID();
      const key = `k:${randomUUID()}`;
      const claim = await store.claim({ key, owner, leaseMs: 30_000, data: 'fingerprint' });
      if (!claim.claimed) throw new Error('not claimed');
      if (!(await store.settle({ key, owner, fence: claim.fence, data: 'fingerprint|{"k":"v","v":1}', keepMs: 3_600_000 }))) throw new Error('not settled');
    },
    async duplicate() {
      ready ??= (async () => {
        const owner = randomUUID();
        const c = await store.claim({ key: done, owner, leaseMs: 30_000 });
        if (c.claimed) await store.settle({ key: done, owner, fence: c.fence, data: 'fingerprint|{"k":"v","v":1}', keepMs: 3_600_000 });
      })();
      await ready;
      const again = await store.claim({ key: done, owner: randomUUID(), leaseMs: 30_000 });
      if (again.claimed) throw new Error('claimed a done key');
    },
  };
}

function baselineContender(store: IdempotencyStore): Contender {
  const done = `dup:${randomUUID()}`;
  let ready: Promise<unknown> | undefined;
  return {
    async first() {
      const owner = randomUUID();
      const key = `k:${randomUUID()}`;
      const claim = await store.claim({ key, owner, fingerprint: 'fingerprint', leaseUntil: Date.now() + 30_000 });
      if (!claim.claimed) throw new Error('not claimed');
      if (!(await store.complete({ key, owner, fingerprint: 'fingerprint', result: '{"k":"v","v":1}', expiresAt: Date.now() + 3_600_000 }))) throw new Error('not settled');
    },
    async duplicate() {
      ready ??= (async () => {
        const owner = randomUUID();
        await store.claim({ key: done, owner, fingerprint: 'fingerprint', leaseUntil: Date.now() + 30_000 });
        await store.complete({ key: done, owner, fingerprint: 'fingerprint', result: '{"k":"v","v":1}', expiresAt: Date.now() + 3_600_000 });
      })();
      await ready;
      const again = await store.claim({ key: done, owner: randomUUID(), fingerprint: 'fingerprint', leaseUntil: Date.now() + 30_000 });
      if (again.claimed) throw new Error('claimed a done key');
    },
  };
}

function p50(samples: number[]): number {
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

/** `a` and `b` alternately (order swapped every round), after a warm-up; p50 in ms. */
async function interleaved(a: Path, b: Path, rounds: number): Promise<{ a: number; b: number }> {
  for (let i = 0; i < 30; i++) {
    await a();
    await b();
  }
  const as: number[] = [];
  const bs: number[] = [];
  const time = async (fn: Path, into: number[]) => {
    const start = performance.now();
    await fn();
    into.push(performance.now() - start);
  };
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      await time(a, as);
      await time(b, bs);
    } else {
      await time(b, bs);
      await time(a, as);
    }
  }
  return { a: p50(as), b: p50(bs) };
}

const rows: string[] = [];
async function compare(server: string, lease: Contender, baseline: Contender, rounds = ROUNDS, key?: string): Promise<void> {
  for (const path of ['first', 'duplicate'] as const) {
    const r = await interleaved(lease[path], baseline[path], rounds);
    if (key !== undefined && path === 'first') {
      recordBench({ key, value: r.a / r.b, unit: '×', detail: `claim + settle on ${server}: p50 ${r.a.toFixed(3)} ms vs ${r.b.toFixed(3)} ms for the previous idempotency store, ${rounds} interleaved rounds, own server` });
    }
    rows.push(`[bench] ${server.padEnd(26)} ${(path === 'first' ? 'claim + settle' : 'duplicate claim').padEnd(16)} lease ${r.a.toFixed(3).padStart(8)} ms   baseline ${r.b.toFixed(3).padStart(8)} ms   ratio ${(r.a / r.b).toFixed(2)}×`);
  }
}

let redisServer: (OwnServer & { url: string }) | undefined;
let ferret: (OwnServer & { uri: string }) | undefined;
let redis: Redis | undefined;
let mongo: MongoClient | undefined;

beforeAll(async () => {
  redisServer = await startRedis();
  redis = new Redis(redisServer.url);
  if (ferretdbAvailable()) {
    ferret = await startFerretDB();
    mongo = await new MongoClient(ferret.uri).connect();
  }
}, 60_000);

afterAll(async () => {
  console.log(`\n[bench] claim + settle round trip, p50 of ${ROUNDS} interleaved rounds, own servers\n${rows.join('\n')}`);
  redis?.disconnect();
  await mongo?.close();
  await redisServer?.dispose();
  await ferret?.dispose();
});

test('Redis: lease store against the previous idempotency store', async () => {
  await compare('Redis', leaseContender(redisLeaseStore({ client: redis!, prefix: 'lease:' })), baselineContender(baselineRedisStore({ client: redis!, prefix: 'old:' })), ROUNDS, 'lease.redis');
}, 300_000);

test.skipIf(!ferretdbAvailable())('FerretDB: lease store against the previous idempotency store, small and 5,000-record collections (needs .services/bin/ferretdb-local)', async () => {
  const db = mongo!.db('bench');
  const pair = (name: string): [Collection, Collection] => [db.collection(`lease_${name}`), db.collection(`old_${name}`)];
  const [leaseSmall, oldSmall] = pair('small');
  await compare('FerretDB, new collection', leaseContender(mongoLeaseStore({ collection: leaseSmall })), baselineContender(baselineMongoStore({ collection: oldSmall })), 100);
  const [leaseBig, oldBig] = pair('big');
  const now = Date.now();
  // 5,000 records in each store's own layout.
  for (let i = 0; i < 5000; i += 1000) {
    await leaseBig.insertMany(Array.from({ length: 1000 }, (_, j) => ({ _id: `fill:${i + j}#2`, k: `fill:${i + j}`, g: 2, s: 'd', o: 'x', d: 'fp|{}', e: new Date(now + 3_600_000), p: new Date(now + 3_600_000), c: new Date(now) })) as never[]);
    await oldBig.insertMany(Array.from({ length: 1000 }, (_, j) => ({ _id: `fill:${i + j}`, s: 'c', f: 'fp', r: '{}', expiresAt: new Date(now + 3_600_000) })) as never[]);
  }
  await compare('FerretDB, 5,000 records', leaseContender(mongoLeaseStore({ collection: leaseBig })), baselineContender(baselineMongoStore({ collection: oldBig })), 30, 'lease.ferretdb');
}, 600_000);
