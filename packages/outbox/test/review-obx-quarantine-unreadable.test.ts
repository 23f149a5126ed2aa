/**
 * A stored quarantine that is not the relay's record `{ fromSeq, reason, at }` (written by
 * something else than the relay):
 * - Redis (:16379 and Cluster :17001-3), `redrive(ctx, ref)`: the REDRIVE script decoded it
 *   with `cjson.decode` and failed with Redis's raw Lua error. It is now the typed
 *   `OUTBOX_QUARANTINE_UNREADABLE` (409) naming the aggregate and the quarantine hash, no value
 *   said; nothing released, no attempt count reset, nothing sent.
 * - MongoDB (FerretDB :27117), both relay stores: `listQuarantined` threw a TypeError on the
 *   first such document, failing the whole listing; it now takes `onUnreadable` as the Redis
 *   store does (same report shape: left out and told, the others listed), and `redrive` on it
 *   is the same typed 409, nothing released.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outbox } from '@steadyfn/outbox';
import { z } from 'zod';
import { redisWrite } from '../src/capture/redis.js';
import { prepareEvent } from '../src/envelope.js';
import { QuarantineUnreadableError } from '../src/errors.js';
import type { HeldLease, RelayStore, UnreadableQuarantine } from '../src/relay/types.js';
import { mongoEmbeddedOutbox } from '../src/stores/mongo-embedded.js';
import { mongoTransactionOutbox } from '../src/stores/mongo-collection.js';
import { redisOutbox, redisRelayStore } from '../src/stores/redis.js';
import { partitionKeys, partitionsKey } from '../src/stores/redis-keys.js';
import { openMongo, openRedis, runCtx, scriptedSender, type MongoBackend, type RedisBackend } from './support.js';

const events = { Tick: { aggregateType: 'tick', schema: z.object({ n: z.number() }) } };
const lease: HeldLease = { key: 'unused', owner: 'o', fence: 1 };
/** Entries of the relay's record written by something else: not JSON, JSON of another shape, a field of another type. */
const CORRUPT = ['{secret-7f3a', '"secret-7f3a"', '[1,2]', '{"fromSeq":"x","reason":"secret-7f3a","at":1}', '{"fromSeq":1,"reason":"secret-7f3a"}'];

describe.each(['redis', 'cluster'] as const)('redrive of a corrupt quarantine entry on %s', (name) => {
  let backend: RedisBackend;
  beforeAll(async () => {
    backend = await openRedis(name);
  });
  afterAll(async () => {
    await backend?.close();
  });

  it.each(CORRUPT)('entry %s: OUTBOX_QUARANTINE_UNREADABLE naming the aggregate and hash; nothing released, reset or sent', async (corrupt) => {
    const where = `p-${randomUUID().slice(0, 8)}`;
    const aggregate = `tick/a-${where}`;
    const k = partitionKeys(backend.prefix, where);
    const counter = `${backend.prefix}n:{${where}}`;
    await redisWrite(backend.client, backend.prefix, { checks: [], commands: [['INCRBY', counter, '1']], events: [prepareEvent(events, { type: 'Tick', aggregateId: `a-${where}`, payload: { n: 1 } }, {})] });
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix });
    const at = await store.quarantine({ where, aggregate, since: 0 }, { fromSeq: 1, reason: 'sender fault: X', lease });
    // The aggregate's attempt counts, which a redrive resets.
    const ids = await backend.client.zrange(k.aggregate(aggregate), '0', '-1');
    expect(ids.length).toBe(1);
    await backend.client.hset(k.attempts, `${ids[0]}:s`, '3', `${ids[0]}:f`, '3');
    await backend.client.hset(k.quarantine, aggregate, corrupt);

    const sender = scriptedSender();
    const box = outbox({ events, store: redisOutbox({ client: backend.client, prefix: backend.prefix }), relay: { sender, lease: backend.lease } });
    const refused = await box.redrive(runCtx(), { where, aggregate, fromSeq: 1, quarantinedAt: at }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(QuarantineUnreadableError);
    expect(refused).toMatchObject({ code: 'OUTBOX_QUARANTINE_UNREADABLE', status: 409, retryable: false, where, aggregate, issues: [{ field: 'aggregate' }] });
    expect((refused as Error).message).toContain(JSON.stringify(aggregate));
    expect((refused as Error).message).toContain(JSON.stringify(k.quarantine));
    expect((refused as Error).message).toContain('{ fromSeq, reason, at }');
    expect((refused as Error).message).not.toContain('secret');
    // Nothing half-redriven: the entry as it was, the counts kept, nothing sent.
    expect(await backend.client.hget(k.quarantine, aggregate)).toBe(corrupt);
    expect(await backend.client.hmget(k.attempts, `${ids[0]}:s`, `${ids[0]}:f`)).toEqual(['3', '3']);
    expect(sender.accepted).toHaveLength(0);
    await backend.client.del(k.quarantine, k.attempts, k.events, k.pending, k.seq, k.aggregate(aggregate), counter);
    await backend.client.srem(partitionsKey(backend.prefix), where);
  });
});

describe('MongoDB relay stores (FerretDB): an unreadable quarantine document', () => {
  let mongo: MongoBackend;
  beforeAll(async () => {
    mongo = await openMongo();
  });
  afterAll(async () => {
    await mongo?.close();
  });

  const stores: Array<[string, () => { relay: RelayStore; collection: string; where: string; id: (aggregate: string) => string }]> = [
    ['transaction', () => ({ relay: mongoTransactionOutbox({ client: mongo.client as never, db: mongo.db as never, collection: 'tq' }).relay, collection: 'tq_state', where: 'tq', id: (a) => a })],
    ['embedded', () => ({ relay: mongoEmbeddedOutbox({ db: mongo.db as never, collection: 'eq', aggregateType: 'tick', writeLease: mongo.lease }).relay, collection: 'eq_outbox', where: 'eq', id: (a) => a.slice('tick/'.length) })],
  ];

  it.each(stores)('%s: listQuarantined tells each to onUnreadable (the Redis shape) and lists the others; redrive is the typed 409, nothing released', async (_kind, open) => {
    const { relay, collection, where, id } = open();
    const good = await relay.quarantine({ where, aggregate: 'tick/ok', since: 0 }, { fromSeq: 2, reason: 'sender fault: X', lease });
    const bad = ['tick/b1', 'tick/b2', 'tick/b3', 'tick/b4', 'tick/b5'];
    const raw = [{ fromSeq: 'x', reason: 'secret-7f3a', at: new Date() }, 'secret-7f3a', { fromSeq: 1, reason: 'secret-7f3a', at: 5 }, { fromSeq: 1, at: new Date() }, null];
    await mongo.db.collection(collection).insertMany(bad.map((a, i) => ({ _id: id(a), q: raw[i] }) as never));

    const unreadable: UnreadableQuarantine[] = [];
    const listed = await relay.listQuarantined({ limit: 100, onUnreadable: (u) => unreadable.push(u) });
    expect(listed).toEqual([{ where, aggregate: 'tick/ok', fromSeq: 2, quarantinedAt: good, reason: 'sender fault: X' }]);
    expect(unreadable.map((u) => u.aggregate).sort()).toEqual(bad);
    for (const u of unreadable) expect(u).toEqual({ where, aggregate: u.aggregate, code: 'OUTBOX_QUARANTINE_UNREADABLE', reason: expect.stringContaining(`in "${collection}") is not the relay's { fromSeq, reason, at }: left out of the listing`) });
    expect(JSON.stringify(unreadable)).not.toContain('secret');
    // Without onUnreadable: the same listing, nothing thrown. The limit counts listed entries only.
    expect(await relay.listQuarantined({ limit: 1 })).toEqual(listed);

    const refused = await relay.redrive({ where, aggregate: 'tick/b1', fromSeq: 1, quarantinedAt: 0 }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'OUTBOX_QUARANTINE_UNREADABLE', status: 409, where, aggregate: 'tick/b1' });
    expect((refused as Error).message).not.toContain('secret');
    expect(((await mongo.db.collection(collection).findOne({ _id: id('tick/b1') } as never)) as { q?: unknown }).q).toEqual(raw[0]);
    // The good one still redrives.
    expect(await relay.redrive({ where, aggregate: 'tick/ok', fromSeq: 2, quarantinedAt: good })).toBe('redriven');
  });
});
