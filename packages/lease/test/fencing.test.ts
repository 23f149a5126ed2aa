/**
 * Fencing: a stale holder's settle after a takeover is refused and writes nothing — by the
 * stores' own calls, inside a caller's Lua script (Redis and Redis Cluster), and inside a
 * caller's MongoDB transaction (replica set only).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { luaScript, mongoLeaseStore, runLuaScript, type RedisLeaseStore } from '../src/index.js';
import { eventually, openBackend, REAL_BACKENDS, token, useBackend, type Backend } from './support/backends.js';

describe.each(REAL_BACKENDS)('fencing on %s', (name) => {
  const backend = useBackend(name);

  it('after a takeover the stale holder\'s settle is refused; fences strictly increase over claims', async () => {
    const k = `fence:${randomUUID()}`;
    const fences: number[] = [];
    let stale: { owner: string; fence: number } | undefined;
    for (let round = 0; round < 4; round++) {
      const owner = token();
      const claim = await backend.another().claim({ key: k, owner, leaseMs: 120 });
      if (!claim.claimed) throw new Error(`round ${round} not claimed`);
      fences.push(claim.fence);
      if (stale) {
        expect(await backend.store.settle({ key: k, owner: stale.owner, fence: stale.fence, data: 'late', keepMs: 60_000 })).toBe(false);
        expect(await backend.store.settle({ key: k, owner: stale.owner, fence: stale.fence })).toBe(false);
        // The stale holder's token with the new fence is no better.
        expect(await backend.store.settle({ key: k, owner: stale.owner, fence: claim.fence })).toBe(false);
      }
      stale = { owner, fence: claim.fence };
      await eventually(async () => (await backend.store.get(k)) === undefined, 5000);
    }
    expect(fences).toEqual([...fences].sort((a, b) => a - b));
    expect(new Set(fences).size).toBe(fences.length);
  });
});

describe.each(['redis', 'cluster'] as const)('settle inside a caller\'s Lua script on %s', (name) => {
  let backend: Backend;
  let store: RedisLeaseStore;
  beforeAll(async () => {
    backend = await openBackend(name);
    store = backend.redisStore!;
  });
  afterAll(async () => {
    await backend?.close();
  });

  // Settle the lease and append to a stream in one atomic step; the stream shares the lease's hash tag.
  const script = (s: RedisLeaseStore): string => `${s.settleFragment.source}
if ${s.settleFragment.name}(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', 'batch', ARGV[6])
return 1`;

  it('the holder settles and writes in one script; a stale holder writes nothing', async () => {
    const tag = randomUUID();
    const key = `{${tag}}:relay`;
    const stream = `${backend.prefix}{${tag}}:stream`;
    const first = token();
    const claim = await store.claim({ key, owner: first, leaseMs: 100 });
    if (!claim.claimed) throw new Error('not claimed');
    await eventually(async () => (await store.get(key)) === undefined, 5000);
    const second = token();
    const takeover = await store.claim({ key, owner: second, leaseMs: 10_000 });
    if (!takeover.claimed) throw new Error('not taken over');

    const stale = store.settleCall({ key, owner: first, fence: claim.fence, data: 'sent', keepMs: 60_000 });
    expect(await backend.redis!.eval(script(store), 2, stale.key, stream, ...stale.args, 'batch-1')).toBe(0);
    expect(await backend.redis!.xlen(stream)).toBe(0);
    expect(await store.get(key)).toMatchObject({ state: 'held', owner: second });

    const fresh = store.settleCall({ key, owner: second, fence: takeover.fence, data: 'sent', keepMs: 60_000 });
    expect(fresh.key).toBe(store.redisKey(key));
    expect(await backend.redis!.eval(script(store), 2, fresh.key, stream, ...fresh.args, 'batch-2')).toBe(1);
    expect(await backend.redis!.xlen(stream)).toBe(1);
    expect(await store.get(key)).toMatchObject({ state: 'done', data: 'sent', fence: takeover.fence + 1 });
    // Settled once: the same call again is refused, and writes nothing more.
    expect(await backend.redis!.eval(script(store), 2, fresh.key, stream, ...fresh.args, 'batch-3')).toBe(0);
    expect(await backend.redis!.xlen(stream)).toBe(1);
  });

  /** A fresh key (its own hash tag), claimed by a new owner. */
  const claimFresh = async () => {
    const tag = randomUUID();
    const key = `{${tag}}:relay`;
    const owner = token();
    const claim = await store.claim({ key, owner, leaseMs: 10_000 });
    if (!claim.claimed) throw new Error('not claimed');
    return { tag, key, owner, claim };
  };

  it('the check function answers as the settle would, writing nothing', async () => {
    const { key, owner, claim } = await claimFresh();
    const holds = `${store.settleFragment.source}
return {${store.settleFragment.check}(KEYS[1], ARGV[1], ARGV[2]), ${store.settleFragment.check}(KEYS[1], ARGV[3], ARGV[2]), ${store.settleFragment.check}(KEYS[1], ARGV[1], ARGV[4])}`;
    const call = store.settleCall({ key, owner, fence: claim.fence });
    const before = await backend.redis!.get(call.key);
    expect(await backend.redis!.eval(holds, 1, call.key, owner, String(claim.fence), token(), String(claim.fence + 1))).toEqual([1, 0, 0]);
    expect(await backend.redis!.get(call.key)).toBe(before);
    expect(await store.settle({ key, owner, fence: claim.fence })).toBe(true);
    expect(await backend.redis!.eval(holds, 1, call.key, owner, String(claim.fence), token(), String(claim.fence + 1))).toEqual([0, 0, 0]);
  });

  it('runLuaScript sends the source once the server lacks the script, then runs it by SHA', async () => {
    const script = luaScript(`return '${randomUUID()}' .. KEYS[1]`);
    const calls: string[] = [];
    const client = {
      evalsha: (...a: unknown[]) => (calls.push('evalsha'), (backend.redis!.evalsha as (...x: unknown[]) => Promise<unknown>)(...a)),
      eval: (...a: unknown[]) => (calls.push('eval'), (backend.redis!.eval as (...x: unknown[]) => Promise<unknown>)(...a)),
    };
    const k = `${backend.prefix}{${randomUUID()}}`;
    expect(String(await runLuaScript(client, script, [k], []))).toMatch(new RegExp(`${k.replace(/[{}]/g, '\\$&')}$`));
    expect(String(await runLuaScript(client, script, [k], []))).toContain(k);
    expect(calls).toEqual(['evalsha', 'eval', 'evalsha']);
    const aborted = AbortSignal.abort(new Error('stop'));
    await expect(runLuaScript(client, script, [k], [], { signal: aborted })).rejects.toThrow('stop');
  });

  it('a release from inside a script frees the key at once', async () => {
    const { tag, key, owner, claim } = await claimFresh();
    const call = store.settleCall({ key, owner, fence: claim.fence });
    expect(call.args).toEqual([owner, String(claim.fence), 'r', '', '0']);
    expect(await backend.redis!.eval(script(store), 2, call.key, `${backend.prefix}{${tag}}:stream`, ...call.args, 'released')).toBe(1);
    expect(await store.claim({ key, owner: token(), leaseMs: 10_000 })).toMatchObject({ claimed: true, fence: claim.fence + 2 });
  });
});

describe('settle inside a MongoDB transaction', () => {
  it.skipIf(!process.env.MONGODB_REPLSET_URI)('commits with the caller\'s write, and a lost settle aborts it (needs a replica set: set MONGODB_REPLSET_URI; FerretDB has no transactions)', async () => {
    const mongo = await new MongoClient(process.env.MONGODB_REPLSET_URI!).connect();
    const db = mongo.db('steadyfn_lease_test');
    const leases = db.collection(`leases_${randomUUID().slice(0, 8)}`);
    const orders = db.collection<{ _id: string; state: string }>(`orders_${randomUUID().slice(0, 8)}`);
    try {
      const store = mongoLeaseStore({ collection: leases });
      await store.ensureIndexes();
      await orders.insertOne({ _id: 'o1', state: 'new' });
      const owner = token();
      const claim = await store.claim({ key: 'o1', owner, leaseMs: 30_000 });
      if (!claim.claimed) throw new Error('not claimed');
      const session = mongo.startSession();
      try {
        await session.withTransaction(async () => {
          await orders.updateOne({ _id: 'o1' }, { $set: { state: 'paid' } }, { session });
          if (!(await store.settle({ key: 'o1', owner, fence: claim.fence, data: 'paid', keepMs: 60_000 }, { session }))) throw new Error('lease lost');
        });
      } finally {
        await session.endSession();
      }
      expect(await orders.findOne({ _id: 'o1' })).toMatchObject({ state: 'paid' });
      expect(await store.get('o1')).toMatchObject({ state: 'done', data: 'paid' });

      // A stale settle inside a transaction: the caller's write does not commit.
      const other = mongo.startSession();
      try {
        await expect(
          other.withTransaction(async () => {
            await orders.updateOne({ _id: 'o1' }, { $set: { state: 'refunded' } }, { session: other });
            if (!(await store.settle({ key: 'o1', owner, fence: claim.fence, data: 'again', keepMs: 60_000 }, { session: other }))) throw new Error('lease lost');
          }),
        ).rejects.toThrow();
      } finally {
        await other.endSession();
      }
      expect(await orders.findOne({ _id: 'o1' })).toMatchObject({ state: 'paid' });
    } finally {
      await leases.drop().catch(() => undefined);
      await orders.drop().catch(() => undefined);
      await mongo.close();
    }
  });
});
