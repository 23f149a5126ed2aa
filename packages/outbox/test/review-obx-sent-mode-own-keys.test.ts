/**
 * Redis mode, an own key of another type met by `mark: 'sent'` and the quarantine listing:
 * - The write did not check the sent set's type: writes into that partition succeeded, then
 *   every flush sent the events and the mark was refused, so they were sent again on every
 *   run. The write is now refused up front (409 naming the sent set), nothing written.
 * - `cleanup`: one partition whose stream (or sent set) held another type stopped the cleanup
 *   of every partition after it, on every sweep. It is now skipped and told (the sweep's
 *   `skipped`), the others cleaned.
 * - `listQuarantined`: a quarantine hash of another type gave Redis's raw WRONGTYPE (now the
 *   typed 409 naming it); one corrupt entry threw a SyntaxError that failed the whole listing
 *   (now left out and told to `onUnreadable`, no value said, the others listed).
 * Redis :16379 and Redis Cluster :17001-3.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { outbox } from '@steadyfn/outbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { redisWrite } from '../src/capture/redis.js';
import { prepareEvent } from '../src/envelope.js';
import type { HeldLease, SkippedPartition, UnreadableQuarantine } from '../src/relay/types.js';
import { redisOutbox, redisRelayStore } from '../src/stores/redis.js';
import { partitionKeys, partitionsKey } from '../src/stores/redis-keys.js';
import { openRedis, scriptedSender, type RedisBackend } from './support.js';

const events = { Tick: { aggregateType: 'tick', schema: z.object({ n: z.number() }) } };
const lease: HeldLease = { key: 'unused', owner: 'o', fence: 1 };
const own = (role: string, key: string, expected: string) => expect.stringContaining(`the outbox's own ${role} key ${JSON.stringify(key)} holds a string; expected a ${expected}`) as unknown;

describe.each(['redis', 'cluster'] as const)('Redis outbox with mark: sent, own keys of another type, on %s', (name) => {
  let backend: RedisBackend;
  beforeAll(async () => {
    backend = await openRedis(name);
  });
  afterAll(async () => {
    await backend.close();
  });
  const tag = () => `p-${randomUUID().slice(0, 8)}`;

  it('a sent set of another type: the write is refused up front (OUTBOX_PRECONDITION_FAILED naming it), nothing written nor sent', async () => {
    const where = tag();
    const k = partitionKeys(backend.prefix, where);
    await backend.client.set(k.sent, 'secret-7f3a');
    const sender = scriptedSender();
    const box = outbox({ events, store: redisOutbox({ client: backend.client, prefix: backend.prefix, mark: 'sent' }), relay: { sender, lease: backend.lease } });
    const counter = `${backend.prefix}n:{${where}}`;
    const fn = handler({ use: [box] }, async (_input, ctx) => {
      ctx.outbox.call('INCRBY', counter, 1);
      ctx.outbox.add({ type: 'Tick', aggregateId: `a-${where}`, payload: { n: 1 } });
      return { ok: true };
    });
    const refused = await fn.invoke({}).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'OUTBOX_PRECONDITION_FAILED', retryable: false, message: own('sent set', k.sent, 'zset') });
    // Redis Cluster: the aggregate's home claim (another slot) is made before the script, and said.
    expect((refused as Error).message).toMatch(name === 'cluster' ? /nothing but the aggregate's home claim was written/ : /nothing was written/);
    expect((refused as Error).message).not.toContain('secret');
    expect(sender.accepted).toHaveLength(0);
    for (const key of [counter, k.events, k.pending, k.seq]) expect(await backend.client.exists(key), key).toBe(0);
    // mark: 'delete' (the default) never touches the sent set: not checked.
    const written = await redisWrite(backend.client, backend.prefix, { checks: [], commands: [['INCRBY', counter, '1']], events: [prepareEvent(events, { type: 'Tick', aggregateId: `b-${where}`, payload: { n: 1 } }, {})] });
    expect(written.events).toHaveLength(1);
    await backend.client.del(k.sent);
  });

  it('cleanup skips a partition whose stream is another type (the sweep says so) and cleans the others', async () => {
    const [good, broken] = [tag(), tag()];
    const g = partitionKeys(backend.prefix, good);
    const b = partitionKeys(backend.prefix, broken);
    // Each: one event sent long ago (score 1), listed for the sweeper; the broken one's stream a string.
    for (const k of [g, b]) {
      const id = String(await backend.client.xadd(k.events, '*', 'f', 'v'));
      await backend.client.zadd(k.sent, 1, id);
    }
    await backend.client.sadd(partitionsKey(backend.prefix), good, broken);
    await backend.client.del(b.events);
    await backend.client.set(b.events, 'secret-7f3a');
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix, mark: 'sent' });
    const skips: SkippedPartition[] = [];
    expect(await store.cleanup!({ limit: 100, olderThanMs: 0, onSkip: (s) => skips.push(s) })).toBe(1);
    expect(skips).toEqual([{ where: broken, code: 'OUTBOX_PRECONDITION_FAILED', reason: own('events stream', b.events, 'stream') }]);
    expect([await backend.client.zcard(g.sent), await backend.client.xlen(g.events)]).toEqual([0, 0]);
    expect(await backend.client.zcard(b.sent)).toBe(1);
    // Through a sweep: in its skipped list and warned once, no value said.
    const box = outbox({ events, store: redisOutbox({ client: backend.client, prefix: backend.prefix, mark: 'sent' }), relay: { sender: scriptedSender(), lease: backend.lease, sweep: { graceMs: 0, retainSentMs: 0 } } });
    const warnings: Array<{ msg: string; fields: Record<string, unknown> }> = [];
    const log = { debug() {}, info() {}, error() {}, warn: (msg: string, fields: Record<string, unknown> = {}) => void warnings.push({ msg, fields }) };
    const swept = await box.sweep({ signal: new AbortController().signal, remainingMs: () => 60_000, log: log as never });
    expect(swept.skipped).toEqual([{ where: broken, code: 'OUTBOX_PRECONDITION_FAILED', reason: own('events stream', b.events, 'stream') }]);
    expect(warnings.map((w) => w.msg).filter((m) => m.includes('cleanup stopped'))).toEqual([]);
    expect(JSON.stringify(warnings)).not.toContain('secret');
    await backend.client.del(b.events, b.sent);
    await backend.client.srem(partitionsKey(backend.prefix), good, broken);
  });

  it('listQuarantined: a corrupt entry is told, the others listed; a hash of another type is the typed 409', async () => {
    const where = tag();
    const k = partitionKeys(backend.prefix, where);
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix });
    await backend.client.sadd(partitionsKey(backend.prefix), where);
    const at = await store.quarantine({ where, aggregate: 'tick/ok', since: 0 }, { fromSeq: 2, reason: 'sender fault: X', lease });
    await backend.client.hset(k.quarantine, 'tick/bad', '{secret-7f3a', 'tick/odd', '{"fromSeq":"x","reason":"secret-7f3a","at":1}');
    const unreadable: UnreadableQuarantine[] = [];
    const listed = await store.listQuarantined({ limit: 100, onUnreadable: (u) => unreadable.push(u) });
    expect(listed).toEqual([{ where, aggregate: 'tick/ok', fromSeq: 2, quarantinedAt: at, reason: 'sender fault: X' }]);
    expect(unreadable.map((u) => u.aggregate).sort()).toEqual(['tick/bad', 'tick/odd']);
    expect(unreadable[0]).toMatchObject({ where, code: 'OUTBOX_QUARANTINE_UNREADABLE', reason: expect.stringContaining(JSON.stringify(k.quarantine)) });
    expect(JSON.stringify(unreadable)).not.toContain('secret');

    await backend.client.del(k.quarantine);
    await backend.client.set(k.quarantine, 'secret-7f3a');
    const refused = await store.listQuarantined({ limit: 100 }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'OUTBOX_PRECONDITION_FAILED', status: 409, message: own('quarantine hash', k.quarantine, 'hash') });
    expect((refused as Error).message).not.toContain('secret');
    await backend.client.del(k.quarantine);
    await backend.client.srem(partitionsKey(backend.prefix), where);
  });
});
