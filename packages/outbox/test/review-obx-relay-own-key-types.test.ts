/**
 * Redis mode, the RELAY's scripts meeting one of the outbox's own keys of another type (an
 * application key under the outbox's prefix, or a stream replaced by a string). The capture
 * script checks its own keys' types first (review-obx-own-key-types); the relay's scripts did not:
 * - `begin`, `settle`, `quarantine`, `redrive`, `cleanup`, `prune` failed with Redis's raw,
 *   retryable WRONGTYPE naming no key — and Redis does not take back a script's earlier writes,
 *   so `begin` had already counted a started attempt on the aggregates before the bad key,
 *   `settle` had already marked (deleted) their events, and `redrive` had already released the
 *   quarantine without resetting its counters.
 *   Now every script checks the type of each of its keys before its first write:
 *   `OUTBOX_PRECONDITION_FAILED` naming the key's role, name, type and the type expected (never
 *   what it holds), and nothing written.
 * - One partition whose pending set (or sent set, quarantine hash) held another type failed the
 *   whole `listPending`, so the sweeper relayed nothing of any partition. It is now skipped and
 *   warned (role, key, type — no value), the others relayed; the sweep's `skipped` and
 *   `metrics.skippedPartitions` say so.
 * Redis :16379 and Redis Cluster :17001-3.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { outbox } from '@steadyfn/outbox';
import { redisWrite } from '../src/capture/redis.js';
import { prepareEvent } from '../src/envelope.js';
import type { AggregateRef, HeldLease, SkippedPartition } from '../src/relay/types.js';
import { redisOutbox, redisRelayStore } from '../src/stores/redis.js';
import { partitionKeys, partitionsKey } from '../src/stores/redis-keys.js';
import { openRedis, scriptedSender, type RedisBackend } from './support.js';

const events = { Tick: { aggregateType: 'tick', schema: z.object({ n: z.number() }) } };
const tick = (id: string, n = 1) => prepareEvent(events, { type: 'Tick', aggregateId: id, payload: { n } }, {});
const lease: HeldLease = { key: 'unused', owner: 'o', fence: 1 };

describe.each(['redis', 'cluster'] as const)('Redis relay scripts, an own key of another type, on %s', (name) => {
  let backend: RedisBackend;
  beforeAll(async () => {
    backend = await openRedis(name);
  });
  afterAll(async () => {
    await backend.close();
  });

  /** Two aggregates with one pending event each, in one partition (one write under one tag). */
  async function twoAggregates(): Promise<{ tag: string; refs: [AggregateRef, AggregateRef] }> {
    const tag = `p-${randomUUID().slice(0, 8)}`;
    const [a, b] = [`a-${randomUUID().slice(0, 6)}`, `b-${randomUUID().slice(0, 6)}`];
    await redisWrite(backend.client, backend.prefix, { checks: [], commands: [['INCRBY', `${backend.prefix}n:{${tag}}`, '1']], events: [tick(a), tick(b)] });
    return { tag, refs: [{ where: tag, aggregate: `tick/${a}`, since: 0 }, { where: tag, aggregate: `tick/${b}`, since: 0 }] };
  }

  const refusal = (role: string, key: string, expected: string) => ({
    code: 'OUTBOX_PRECONDITION_FAILED',
    status: 409,
    retryable: false,
    message: expect.stringContaining(`the outbox's own ${role} key ${JSON.stringify(key)} holds a string; expected a ${expected}`) as unknown,
  });
  const refused = (role: string, key: string, expected: string) => ({
    code: 'OUTBOX_PRECONDITION_FAILED',
    reason: expect.stringContaining(`the outbox's own ${role} key ${JSON.stringify(key)} holds a string; expected a ${expected}`) as unknown,
  });

  it('begin: the bad partition\'s aggregates refused before any write (no attempt counted), another partition of the call read; settle: the typed 409, nothing marked', async () => {
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix });
    const { tag, refs } = await twoAggregates();
    const k = partitionKeys(backend.prefix, tag);
    const bad = k.aggregate(refs[1].aggregate);
    const ids = await backend.client.zrange(bad, '0', '-1');
    await backend.client.del(bad);
    await backend.client.set(bad, 'secret-7f3a');

    // Another partition in the same call (one script on one server) is read all the same.
    const other = await twoAggregates();
    const heads = await store.begin([...refs, other.refs[0]].map((ref) => ({ ref, lease })), { limit: 10, maxBytes: 1 << 20 });
    // The bad partition's aggregates: refused with the typed reason, nothing read.
    for (const head of heads.slice(0, 2)) {
      expect(head).toMatchObject({ quarantined: false, events: [], more: false, refused: refused('aggregate set', bad, 'zset') });
      expect(head.refused!.reason).toContain(`the outbox's own aggregate set key ${JSON.stringify(bad)} holds a string; expected a zset`);
      expect(head.refused!.reason).not.toContain('secret');
    }
    expect(heads[2]!.events.map((e) => e.seq)).toEqual([1]);
    // Not one started attempt counted on the bad partition's first aggregate's event.
    expect(await backend.client.exists(k.attempts)).toBe(0);

    const first = (await backend.client.zrange(k.aggregate(refs[0].aggregate), '0', '-1'))[0]!;
    const settled = await store
      .settle([
        { ref: refs[0], lease, sent: [{ ref: first, seq: 1 } as never], refused: [] },
        { ref: refs[1], lease, sent: [{ ref: ids[0]!, seq: 1 } as never], refused: [] },
      ])
      .catch((e: unknown) => e);
    expect(settled).toMatchObject(refusal('aggregate set', bad, 'zset'));
    // The first aggregate's event is neither deleted from the stream nor taken off its set.
    expect(await backend.client.xlen(k.events)).toBe(2);
    expect(await backend.client.zcard(k.aggregate(refs[0].aggregate))).toBe(1);
    expect(await backend.client.get(bad)).toBe('secret-7f3a');
    await backend.client.del(k.events, k.pending, k.aggregate(refs[0].aggregate), bad);
  });

  it('begin on a stream replaced by a string (refused head), quarantine, redrive: the typed 409, nothing written; cleanup skips it, told', async () => {
    const sent = redisRelayStore({ client: backend.client, prefix: backend.prefix, mark: 'sent' });
    const { tag, refs } = await twoAggregates();
    const k = partitionKeys(backend.prefix, tag);

    // Quarantine the second aggregate, then its set of another type: the redrive must not release the quarantine half way.
    const at = await sent.quarantine(refs[1], { fromSeq: 1, reason: 'sender fault: X', lease });
    const bad = k.aggregate(refs[1].aggregate);
    await backend.client.del(bad);
    await backend.client.set(bad, 'secret-7f3a');
    const redriven = await sent.redrive({ where: tag, aggregate: refs[1].aggregate, fromSeq: 1, quarantinedAt: at }).catch((e: unknown) => e);
    expect(redriven).toMatchObject(refusal('aggregate set', bad, 'zset'));
    expect(await backend.client.hexists(k.quarantine, refs[1].aggregate)).toBe(1);

    // The stream replaced by a string: begin and cleanup refused, naming it.
    await backend.client.del(k.events);
    await backend.client.set(k.events, 'secret-7f3a');
    const [begun] = await sent.begin([{ ref: refs[0], lease }], { limit: 10, maxBytes: 1 << 20 });
    expect(begun!.refused).toMatchObject(refused('events stream', k.events, 'stream'));
    expect(await backend.client.exists(k.attempts)).toBe(0);
    await backend.client.zadd(k.sent, 1, '1-1');
    // The cleanup skips the partition and says so (the others cleaned: review-obx-sent-mode-own-keys).
    const cleanSkips: SkippedPartition[] = [];
    await sent.cleanup!({ limit: 10, olderThanMs: 0, onSkip: (s) => cleanSkips.push(s) });
    expect(cleanSkips.filter((s) => s.where === tag)).toEqual([{ where: tag, ...refused('events stream', k.events, 'stream') }]);
    expect(await backend.client.zcard(k.sent)).toBe(1);

    // The quarantine hash of another type: quarantine refused.
    await backend.client.del(k.quarantine);
    await backend.client.set(k.quarantine, 'secret-7f3a');
    const held = await sent.quarantine(refs[0], { fromSeq: 1, reason: 'x', lease }).catch((e: unknown) => e);
    expect(held).toMatchObject(refusal('quarantine hash', k.quarantine, 'hash'));
    for (const e of [redriven, held]) expect((e as Error).message).not.toContain('secret');
    expect(JSON.stringify(cleanSkips)).not.toContain('secret');
    expect(begun!.refused!.reason).not.toContain('secret');
    await backend.client.del(k.events, k.quarantine, k.pending, k.sent, bad);
  });

  it('one partition of another type is skipped by listPending and the sweep (warned, counted), the others relayed', async () => {
    const good = await twoAggregates();
    const broken = await twoAggregates();
    const k = partitionKeys(backend.prefix, broken.tag);
    await backend.client.del(k.pending);
    await backend.client.set(k.pending, 'secret-7f3a');

    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix });
    const skips: SkippedPartition[] = [];
    const listed = await store.listPending({ limit: 100, before: Date.now() + 60_000, onSkip: (s) => skips.push(s) });
    expect(listed.filter((r) => r.where === good.tag).map((r) => r.aggregate).sort()).toEqual(good.refs.map((r) => r.aggregate).sort());
    expect(skips).toEqual([{ where: broken.tag, code: 'OUTBOX_PRECONDITION_FAILED', reason: expect.stringContaining(`the outbox's own pending set key ${JSON.stringify(k.pending)} holds a string; expected a zset`) }]);

    const sender = scriptedSender();
    const box = outbox({ events, store: redisOutbox({ client: backend.client, prefix: backend.prefix }), relay: { sender, lease: backend.lease, sweep: { graceMs: 0 } } });
    const warnings: Array<{ msg: string; fields: Record<string, unknown> }> = [];
    const log = { debug() {}, info() {}, error() {}, warn: (msg: string, fields: Record<string, unknown> = {}) => void warnings.push({ msg, fields }) };
    const swept = await box.sweep({ signal: new AbortController().signal, remainingMs: () => 60_000, log: log as never });
    expect(swept.skipped.map((s) => s.where)).toEqual([broken.tag]);
    expect(swept.metrics.skippedPartitions).toBe(1);
    expect(sender.accepted.map((m) => JSON.parse(m.body).aggregateId as string).filter((id) => good.refs.some((r) => r.aggregate === `tick/${id}`))).toHaveLength(2);
    const warned = warnings.filter((w) => w.msg.startsWith('outbox sweep skipped a partition'));
    expect(warned).toHaveLength(1);
    expect(warned[0]!.fields).toMatchObject({ where: broken.tag, code: 'OUTBOX_PRECONDITION_FAILED' });
    expect(JSON.stringify(warnings)).not.toContain('secret');
    await backend.client.del(k.pending);
  });

  // (A stream or attempts hash of another type is skipped at listing: review-obx-sweep-starve.)
  it('a partition whose aggregates\' sets are strings: the sweep relays the other partitions of the same round, warns the skipped aggregates and reports the partition', async () => {
    const good = await twoAggregates();
    const broken = await twoAggregates();
    const k = partitionKeys(backend.prefix, broken.tag);
    for (const ref of broken.refs) {
      await backend.client.del(k.aggregate(ref.aggregate));
      await backend.client.set(k.aggregate(ref.aggregate), 'secret-7f3a');
    }
    const sender = scriptedSender();
    const box = outbox({ events, store: redisOutbox({ client: backend.client, prefix: backend.prefix }), relay: { sender, lease: backend.lease, sweep: { graceMs: 0 } } });
    const warnings: Array<{ msg: string; fields: Record<string, unknown> }> = [];
    const log = { debug() {}, info() {}, error() {}, warn: (msg: string, fields: Record<string, unknown> = {}) => void warnings.push({ msg, fields }) };
    // Both partitions in one round (one script on one server).
    const swept = await box.sweep({ signal: new AbortController().signal, remainingMs: () => 60_000, log: log as never });
    expect(swept.metrics.sent).toBeGreaterThanOrEqual(2);
    const sentIds = sender.accepted.map((m) => `tick/${JSON.parse(m.body).aggregateId as string}`);
    expect(sentIds).toEqual(expect.arrayContaining(good.refs.map((r) => r.aggregate)));
    const skipped = warnings.filter((w) => w.msg.startsWith('outbox relay skipped an aggregate'));
    expect(skipped.map((w) => w.fields.aggregate).sort()).toEqual(broken.refs.map((r) => r.aggregate).sort());
    expect(skipped[0]!.fields).toMatchObject({ where: broken.tag, code: 'OUTBOX_PRECONDITION_FAILED' });
    expect(swept.skipped.map((s) => s.where)).toEqual([broken.tag]);
    expect(swept.metrics.skippedPartitions).toBe(1);
    expect(JSON.stringify(warnings)).not.toContain('secret');
    expect(await backend.client.exists(k.attempts)).toBe(0);
    await backend.client.del(k.events, k.pending, k.seq, k.aggregate(broken.refs[0].aggregate), k.aggregate(broken.refs[1].aggregate));
  });

  it.skipIf(name === 'cluster')('the partition list of another type: prune refused on one server, typed (one server only: on a cluster the list is on another slot, not in the pruning script, and listing it is refused first)', async () => {
    const store = redisRelayStore({ client: backend.client, prefix: backend.prefix });
    const { tag } = await twoAggregates();
    const k = partitionKeys(backend.prefix, tag);
    await backend.client.del(k.pending, k.events, k.seq);
    await store.listPending({ limit: 10, before: Date.now() });
    const list = partitionsKey(backend.prefix);
    const members = await backend.client.smembers(list);
    await backend.client.del(list);
    await backend.client.set(list, 'secret-7f3a');
    const pruned = await store.prune!({ limit: 1000 }).catch((e: unknown) => e);
    expect(pruned).toMatchObject(refusal('partition list', list, 'set'));
    await backend.client.del(list);
    if (members.length > 0) await backend.client.sadd(list, ...members);
  });
});
