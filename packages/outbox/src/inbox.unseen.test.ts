/**
 * A missing `seq - 1` marker of an aggregate this consumer did not handle lately (inbox-seen.ts),
 * on every inbox store (Redis, Redis Cluster with `hashTag: 'scope'`, FerretDB, memory): an
 * aggregate idle past `retentionMs` and a consumer new to a running system get their next event
 * handled at its first delivery (`unseenAggregate: 'accept'`, the default) instead of failing
 * `INBOX_SEQ_GAP` until `maxGapRetries`; an aggregate seen lately — an event completed, or one
 * being handled — still has its gaps retried, and `'retry'` keeps the old rule.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler } from '@steadyfn/handler';
import { memoryStore, mongoStore, redisStore, scopeOf, storeKey, type IdempotencyStore } from '@steadyfn/idempotency';
import { deferred, eventually } from '../../../test/support/wait.js';
import { lambdaContext, openMongo, openRedis, sqsEvent } from '../test/support.js';
import { prepareEvent, serializeEvent } from './envelope.js';
import { inbox } from './inbox.js';
import type { InboxOptions } from './inbox-options.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number() }) } };
const envelope = (aggregateId: string, seq: number) => serializeEvent(prepareEvent(events, { type: 'OrderPaid', aggregateId, payload: { amountCents: seq } }, {}), seq);

const backends: Array<{ name: string; open(): Promise<{ store(): IdempotencyStore; close(): Promise<void> }> }> = [
  {
    name: 'Redis',
    async open() {
      const redis = await openRedis('redis');
      return { store: () => redisStore({ client: redis.client, prefix: `${redis.prefix}idem:` }), close: () => redis.close() };
    },
  },
  {
    name: 'Redis Cluster',
    async open() {
      const redis = await openRedis('cluster');
      return { store: () => redisStore({ client: redis.client, prefix: `${redis.prefix}idem:`, hashTag: 'scope' }), close: () => redis.close() };
    },
  },
  {
    name: 'FerretDB',
    async open() {
      const mongo = await openMongo();
      return { store: () => mongoStore({ collection: mongo.db.collection('inbox') }), close: () => mongo.close() };
    },
  },
  {
    name: 'memory',
    async open() {
      const store = memoryStore();
      return { store: () => store, close: async () => undefined };
    },
  },
];

describe.each(backends)('inbox unseen aggregate on $name', ({ open }) => {
  let backend: Awaited<ReturnType<(typeof backends)[number]['open']>>;
  beforeAll(async () => {
    backend = await open();
  });
  afterAll(async () => {
    await backend?.close();
  });

  /** A consumer: each delivery answers the failure's code, or undefined when the message succeeded. */
  const consumer = (name: string, options: Partial<InboxOptions> = {}, gate?: () => Promise<void>) => {
    const lines: Array<Record<string, unknown>> = [];
    const applied: number[] = [];
    const store = backend.store();
    const fn = handler({ use: [inbox({ store, consumer: name, unseenAggregate: 'accept', ...options })], logLevel: 'info', logSink: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) }, async (_input, ctx) => {
      if (gate) await gate();
      applied.push(ctx.inbox.event.seq);
    });
    return {
      name,
      store,
      lines,
      applied,
      async deliver(body: string, attempt = 1): Promise<string | undefined> {
        const before = lines.length;
        const answer = (await fn.aws(sqsEvent([body], { attempt }), lambdaContext('bill'))) as { batchItemFailures: unknown[] };
        if (answer.batchItemFailures.length === 0) return undefined;
        const failed = lines.slice(before).find((l) => typeof l.code === 'string' && l.level !== 'info' && !String(l.code).startsWith('INBOX_LEASE_'));
        return String(failed?.code ?? 'UNKNOWN');
      },
    };
  };
  const markerKey = (name: string, agg: string, seq: number) => storeKey(scopeOf(`inbox:${name}`), { kind: 'custom', value: `seq:order/${agg}#${seq}` });

  it('an aggregate idle past retentionMs: its next event is handled at its second delivery', async () => {
    const name = `billing-${randomUUID()}`;
    const c = consumer(name, { retentionMs: 1_000 });
    const agg = `sub-${randomUUID()}`;
    expect(await c.deliver(envelope(agg, 1))).toBeUndefined();
    // Wait for a state: the seq-1 marker forgotten as the consumer's store sees it.
    await eventually(async () => (await c.store.get(markerKey(name, agg, 1))) === undefined, 20_000);
    // The first delivery waits one visibility timeout for a predecessor that was merely overtaken.
    expect(await c.deliver(envelope(agg, 2), 1)).toBe('INBOX_SEQ_GAP');
    expect(await c.deliver(envelope(agg, 2), 2)).toBeUndefined();
    expect(c.applied).toEqual([1, 2]);
    expect(c.lines.some((l) => l.code === 'INBOX_AGGREGATE_UNSEEN' && l.seq === 2)).toBe(true);
    // Seen again now: a gap after it is retried as before.
    expect(await c.deliver(envelope(agg, 4), 1)).toBe('INBOX_SEQ_GAP');
  }, 40_000);

  it("a consumer new to a running system: the first event it gets of an existing aggregate is handled", async () => {
    const agg = `sub-${randomUUID()}`;
    const old = consumer(`shipping-${randomUUID()}`);
    for (const seq of [1, 2, 3, 4, 5]) expect(await old.deliver(envelope(agg, seq))).toBeUndefined();
    const fresh = consumer(`billing-${randomUUID()}`);
    expect(await fresh.deliver(envelope(agg, 6), 1)).toBe('INBOX_SEQ_GAP');
    expect(await fresh.deliver(envelope(agg, 6), 2)).toBeUndefined();
    expect(await fresh.deliver(envelope(agg, 7), 1)).toBeUndefined();
    expect(fresh.applied).toEqual([6, 7]);
  });

  it('a new aggregate whose seq 2 overtakes seq 1: the first delivery waits, and the order is kept', async () => {
    const agg = `order-${randomUUID()}`;
    const c = consumer(`billing-${randomUUID()}`);
    expect(await c.deliver(envelope(agg, 2), 1)).toBe('INBOX_SEQ_GAP');
    expect(await c.deliver(envelope(agg, 1), 1)).toBeUndefined();
    expect(await c.deliver(envelope(agg, 2), 2)).toBeUndefined();
    expect(c.applied).toEqual([1, 2]);
    expect(c.lines.some((l) => l.code === 'INBOX_AGGREGATE_UNSEEN')).toBe(false);
  });

  it("by default (unseenAggregate: 'retry') an aggregate active before the upgrade — markers, no seen record — keeps its gaps", async () => {
    const name = `billing-${randomUUID()}`;
    const agg = `sub-${randomUUID()}`;
    const store = backend.store();
    const applied: number[] = [];
    const fn = handler({ use: [inbox({ store, consumer: name })], logSink: () => undefined }, async (_input, ctx) => {
      applied.push(ctx.inbox.event.seq);
    });
    const deliver = async (body: string, attempt: number) => ((await fn.aws(sqsEvent([body], { attempt }), lambdaContext('bill'))) as { batchItemFailures: unknown[] }).batchItemFailures.length;
    // What the previous release left: completed seq markers, no seen record.
    for (const seq of [9, 10]) {
      const key = markerKey(name, agg, seq);
      expect((await store.claim({ key, owner: 'old-release', fingerprint: 'f', leaseUntil: Date.now() + 60_000 })).claimed).toBe(true);
      expect(await store.completeMany([{ key, owner: 'old-release', fingerprint: 'f', result: '1', expiresAt: Date.now() + 14 * 86_400_000 }])).toEqual([true]);
    }
    expect(await deliver(envelope(agg, 12), 1)).toBe(1);
    expect(await deliver(envelope(agg, 12), 2)).toBe(1);
    expect(await deliver(envelope(agg, 11), 1)).toBe(0);
    expect(await deliver(envelope(agg, 12), 3)).toBe(0);
    expect(applied).toEqual([11, 12]);
  });

  it("unseenAggregate: 'retry' keeps the predecessor rule for an unseen aggregate", async () => {
    const agg = `sub-${randomUUID()}`;
    const fresh = consumer(`billing-${randomUUID()}`, { unseenAggregate: 'retry' });
    expect(await fresh.deliver(envelope(agg, 6), 1)).toBe('INBOX_SEQ_GAP');
    expect(fresh.applied).toEqual([]);
  });

  it('a seen aggregate keeps its gaps: after a completion, and while an event of it is being handled', async () => {
    const agg = `sub-${randomUUID()}`;
    const c = consumer(`billing-${randomUUID()}`);
    expect(await c.deliver(envelope(agg, 1))).toBeUndefined();
    expect(await c.deliver(envelope(agg, 3), 1)).toBe('INBOX_SEQ_GAP');

    const open = deferred();
    const name = `billing-${randomUUID()}`;
    const running = consumer(name, {}, () => open.promise);
    const other = `sub-${randomUUID()}`;
    // Its second delivery: an unseen aggregate's event is accepted from there.
    const first = running.deliver(envelope(other, 4), 2);
    try {
      // Wait for a state: seq 4 being handled (its marker held) before seq 5 comes to another instance.
      await eventually(async () => (await running.store.get(markerKey(name, other, 4)))?.status === 'in_progress');
      expect(await consumer(name).deliver(envelope(other, 5), 1)).toBe('INBOX_SEQ_GAP');
    } finally {
      open.resolve();
    }
    expect(await first).toBeUndefined();
    expect(await consumer(name).deliver(envelope(other, 5), 2)).toBeUndefined();
    expect(running.applied).toEqual([4]);
  });
});
