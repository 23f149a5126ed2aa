/**
 * Redis mode, a partition whose own key holds another type starving every other partition of
 * the sweep. The listing script checked a partition's pending set, sent set and quarantine hash,
 * not its events stream or attempts hash (nor, per aggregate, its set, which the listing cannot
 * name): such a partition's aggregates were listed, and every relay round's read refused them
 * (a per-aggregate warning only). Never drained, they stayed the oldest; the listing (oldest
 * first, cut at `sweep.maxAggregates`) kept choosing them, so with at least `maxAggregates` of
 * them no other partition was ever sent — and `skipped` was [], `metrics.skippedPartitions` 0.
 * Now the listing checks the stream and attempts hash (the partition is skipped and reported),
 * and a partition refused at read time is reported too, left out of the rest of the sweep and,
 * the list being cut, listed again without it. Redis :16379 and Redis Cluster :17001-3.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { outbox } from '@steadyfn/outbox';
import { redisWrite } from '../src/capture/redis.js';
import { prepareEvent } from '../src/envelope.js';
import { redisOutbox } from '../src/stores/redis.js';
import { partitionKeys } from '../src/stores/redis-keys.js';
import { openRedis, scriptedSender, type RedisBackend } from './support.js';

const events = { Tick: { aggregateType: 'tick', schema: z.object({ n: z.number() }) } };
const tick = (id: string) => prepareEvent(events, { type: 'Tick', aggregateId: id, payload: { n: 1 } }, {});

describe.each(['redis', 'cluster'] as const)('a sweep past a partition whose own key holds another type, on %s', (name) => {
  let backend: RedisBackend;
  beforeAll(async () => {
    backend = await openRedis(name);
  });
  afterAll(async () => {
    await backend.close();
  });

  /** `n` aggregates with one pending event each, in one new partition (one write). */
  async function write(prefix: string, n: number): Promise<{ tag: string; ids: string[] }> {
    const tag = `p-${randomUUID().slice(0, 8)}`;
    const ids = Array.from({ length: n }, () => `a-${randomUUID().slice(0, 8)}`);
    await redisWrite(backend.client, prefix, { checks: [], commands: [['INCRBY', `${prefix}n:{${tag}}`, '1']], events: ids.map(tick) });
    // The next write commits at a later ms (stream ids): this partition's aggregates are older.
    const at = Date.now();
    while (Date.now() <= at + 1) await new Promise((r) => setImmediate(r));
    return { tag, ids };
  }

  /** One sweep listing 2 aggregates at most, over a broken partition of 2 (older) and a good one of 1. */
  async function sweepPast(breakIt: (prefix: string, broken: { tag: string; ids: string[] }) => Promise<void>) {
    const prefix = `${backend.prefix}${randomUUID().slice(0, 6)}:`;
    const broken = await write(prefix, 2);
    const good = await write(prefix, 1);
    await breakIt(prefix, broken);
    const sender = scriptedSender();
    const box = outbox({ events, store: redisOutbox({ client: backend.client, prefix }), relay: { sender, lease: backend.lease, sweep: { graceMs: 0, maxAggregates: 2 } } });
    const warned: string[] = [];
    const log = { debug() {}, info() {}, error() {}, warn: (msg: string) => void warned.push(msg) };
    const swept = await box.sweep({ signal: new AbortController().signal, remainingMs: () => 60_000, log: log as never });
    // The partition is said once, however many of its aggregates were listed or refused.
    expect(warned.filter((m) => m.startsWith('outbox sweep skipped a partition'))).toHaveLength(1);
    return { swept, broken, good, sent: sender.accepted.map((m) => JSON.parse(m.body).aggregateId as string) };
  }

  const stringAt = async (key: string) => {
    await backend.client.del(key);
    await backend.client.set(key, 'secret-7f3a');
  };

  it('a partition whose events stream is a string: skipped at listing and reported; the other partition is sent', async () => {
    const { swept, broken, good, sent } = await sweepPast((prefix, b) => stringAt(partitionKeys(prefix, b.tag).events));
    expect(sent).toEqual([good.ids[0]]);
    expect(swept.skipped).toEqual([{ where: broken.tag, code: 'OUTBOX_PRECONDITION_FAILED', reason: expect.stringContaining('events stream') }]);
    expect(swept.skipped[0]!.reason).not.toContain('secret');
    expect(swept.metrics.skippedPartitions).toBe(1);
  }, 30_000);

  it('a partition whose attempts hash is a string: skipped at listing and reported; the other partition is sent', async () => {
    const { swept, broken, good, sent } = await sweepPast((prefix, b) => stringAt(partitionKeys(prefix, b.tag).attempts));
    expect(sent).toEqual([good.ids[0]]);
    expect(swept.skipped.map((s) => s.where)).toEqual([broken.tag]);
    expect(swept.skipped[0]!.reason).toContain('attempts hash');
    expect(swept.metrics.skippedPartitions).toBe(1);
  }, 30_000);

  it('a partition refused at read time (an aggregate\'s set is a string): reported once, and the other partition is sent in the same sweep', async () => {
    const { swept, broken, good, sent } = await sweepPast((prefix, b) => stringAt(partitionKeys(prefix, b.tag).aggregate(`tick/${b.ids[0]}`)));
    // The broken partition's other aggregate may be read alone (its own chunk) and sent: it is fine.
    expect(sent).toContain(good.ids[0]);
    expect(sent).not.toContain(broken.ids[0]);
    expect(swept.skipped.map((s) => s.where)).toEqual([broken.tag]);
    expect(swept.skipped[0]!).toMatchObject({ code: 'OUTBOX_PRECONDITION_FAILED', reason: expect.stringContaining('aggregate set') });
    expect(swept.skipped[0]!.reason).not.toContain('secret');
    expect(swept.metrics.skippedPartitions).toBe(1);
  }, 30_000);
});
