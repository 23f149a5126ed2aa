/**
 * The inbox's per-aggregate seq marker (consumer, aggregate, seq) on the real stores (Redis;
 * FerretDB through `mongoStore`), through the Lambda SQS adapter: every way its claim can come
 * back not claimed. Concurrent duplicate deliveries (SQS standard queues hand one message to
 * two consumers at once), a claimant killed before completing (lease expiry), one killed
 * between the event record's completion and the marker's (either order), a redrive of an applied event, two
 * different events with one (aggregate, seq), and a marker from a past retention period.
 * Each case ends with the aggregate's next event applied at its first delivery: no stall.
 *
 * The lease and retention cases need no wall-clock margin: a "still held" / "still kept" check
 * that failed after its window had provably passed runs the case again with a longer window
 * (`inWindow`), and the wait for a window's end is exact (until it ends counted from when the
 * delivery that wrote it answered), never a guessed sleep.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler } from '@steadyfn/handler';
import { mongoStore, redisStore, scopeOf, storeKey, type IdempotencyStore } from '@steadyfn/idempotency';
import { eventually } from '../../../test/support/wait.js';
import { inWindow, sleepUntil, type Window } from '../../../test/support/window.js';
import { lambdaContext, openMongo, openRedis, sqsEvent, type MongoBackend, type RedisBackend } from '../test/support.js';
import { prepareEvent, serializeEvent } from './envelope.js';
import { inbox } from './inbox.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number() }) } };
const envelope = (aggregateId: string, seq: number) => serializeEvent(prepareEvent(events, { type: 'OrderPaid', aggregateId, payload: { amountCents: seq } }, {}), seq);
const lambda = () => lambdaContext('ship');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Consumer = { deliver(body: string, attempt?: number): Promise<string | undefined>; lines: Array<Record<string, unknown>> };
/** The consumers' leases tried, shortest first: a longer one only when the machine was too slow for the last. */
const LEASES_MS = [2_000, 4_000, 8_000];

const backends: Array<{ name: string; open(): Promise<{ store(): IdempotencyStore; close(): Promise<void> }> }> = [
  {
    name: 'Redis',
    async open() {
      const redis: RedisBackend = await openRedis('redis');
      return { store: () => redisStore({ client: redis.client, prefix: `${redis.prefix}idem:` }), close: () => redis.close() };
    },
  },
  {
    name: 'FerretDB',
    async open() {
      const mongo: MongoBackend = await openMongo();
      return { store: () => mongoStore({ collection: mongo.db.collection('inbox') }), close: () => mongo.close() };
    },
  },
];

describe.each(backends)('inbox seq marker on $name', ({ open }) => {
  let backend: Awaited<ReturnType<(typeof backends)[number]['open']>>;
  beforeAll(async () => {
    backend = await open();
  });
  afterAll(async () => {
    await backend?.close();
  });

  /**
   * One consumer instance (its own store object, as another process would have). `applied`
   * is the effect: `<aggregate>#<seq>:<event id>` in the order it happened. Each delivery
   * answers the failure code, or undefined when the message succeeded (would be deleted).
   */
  const instance = (consumer: string, applied: string[], options: { leaseMs?: number; retentionMs?: number; store?: (s: IdempotencyStore) => IdempotencyStore; gate?: () => Promise<void> } = {}): Consumer => {
    const lines: Array<Record<string, unknown>> = [];
    const store = (options.store ?? ((s) => s))(backend.store());
    const fn = handler({ use: [inbox({ store, consumer, ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}), ...(options.retentionMs ? { retentionMs: options.retentionMs } : {}) })], logLevel: 'info', logSink: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) }, async (_input, ctx) => {
      const e = ctx.inbox.event;
      await (options.gate ? options.gate() : sleep(5));
      applied.push(`${e.aggregateId}#${e.seq}:${e.id}`);
    });
    return {
      lines,
      async deliver(body, attempt = 1) {
        const before = lines.length;
        const answer = (await fn.aws(sqsEvent([body], { attempt }), lambda())) as { batchItemFailures: unknown[] };
        if (answer.batchItemFailures.length === 0) return undefined;
        // The delivery's failure, not a configuration warning logged on the way (INBOX_LEASE_SHORT: these
        // consumers' 2 s lease is shorter than the invocation's time left, on purpose).
        const failed = lines.slice(before).find((l) => typeof l.code === 'string' && l.level !== 'info' && !String(l.code).startsWith('INBOX_LEASE_'));
        return String(failed?.code ?? 'UNKNOWN');
      },
    };
  };
  const seqs = (applied: string[]) => applied.map((a) => a.split(':')[0]);
  const idOf = (body: string) => (JSON.parse(body) as { id: string }).id;
  /**
   * `kill` (a delivery whose claimant dies holding its records), then `redeliver`, which must
   * find them held (`INBOX_IN_PROGRESS`) while `lease` lasts; then waits until the lease,
   * counted from the claim the killed delivery made before it answered, has ended, and
   * redelivers as the queue would while the answer is still `INBOX_IN_PROGRESS` (10 s at most:
   * FerretDB's lease store judges by the server's clock, estimated within half a round trip, so
   * it may see the lease a little longer). Answers the first other answer.
   */
  const afterLease = async (lease: Window, kill: () => Promise<unknown>, redeliver: (attempt: number) => Promise<string | undefined>): Promise<string | undefined> => {
    const sentAt = Date.now();
    await kill();
    const claimedBy = Date.now();
    const held = await redeliver(2);
    lease.holds(sentAt, () => expect(held).toBe('INBOX_IN_PROGRESS'));
    await sleepUntil(claimedBy + lease.ms);
    let attempt = 3;
    let answer = await redeliver(attempt);
    for (const giveUpAt = Date.now() + 10_000; answer === 'INBOX_IN_PROGRESS' && Date.now() < giveUpAt; ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      answer = await redeliver(++attempt);
    }
    return answer;
  };

  it('concurrent duplicate deliveries (two consumers get one message): each event applied once, in order, the next one never waits', async () => {
    const applied: string[] = [];
    const consumer = `dup-${randomUUID()}`;
    const a = instance(consumer, applied);
    const b = instance(consumer, applied);
    const agg = `o-${randomUUID()}`;
    const codes = new Set<string>();
    for (let seq = 1; seq <= 6; seq++) {
      const body = envelope(agg, seq);
      let answers: Array<string | undefined> = await Promise.all([a.deliver(body), b.deliver(body)]);
      // A copy that failed is redelivered by the queue until it is deleted.
      for (let attempt = 2; answers.some((x) => x !== undefined); attempt++) {
        for (const code of answers) if (code) codes.add(code);
        expect(attempt).toBeLessThan(20);
        answers = await Promise.all(answers.map((code, i) => (code === undefined ? undefined : [a, b][i]!.deliver(body, attempt))));
      }
    }
    expect(seqs(applied)).toEqual([1, 2, 3, 4, 5, 6].map((s) => `${agg}#${s}`));
    // The only failure a racing copy may get is the retryable "in progress": never a seq gap.
    expect([...codes].filter((c) => c !== 'INBOX_IN_PROGRESS')).toEqual([]);
    expect([...a.lines, ...b.lines].filter((l) => l.msg === 'inbox record was taken over before completion')).toEqual([]);
  });

  it('a claimant killed before completing: its records free after the lease, the redelivery applies the event, the next one does not wait', async () => {
    await inWindow(LEASES_MS, async (lease) => {
      const applied: string[] = [];
      const consumer = `killed-${randomUUID()}`;
      const agg = `o-${randomUUID()}`;
      const killed = instance(consumer, [], { leaseMs: lease.ms, store: (s) => ({ ...s, completeMany: async () => { throw new Error('killed before completing'); } }) });
      const live = instance(consumer, applied, { leaseMs: lease.ms });
      const one = envelope(agg, 1);
      expect(await afterLease(lease, () => killed.deliver(one), (attempt) => live.deliver(one, attempt))).toBeUndefined();
      expect(await live.deliver(envelope(agg, 2))).toBeUndefined();
      expect(seqs(applied)).toEqual([`${agg}#1`, `${agg}#2`]);
    });
  }, 60_000);

  it('a claimant killed between completing the event record and the marker: the redelivery restores the marker, the next event does not stall', async () => {
    await inWindow(LEASES_MS, async (lease) => {
      const applied: string[] = [];
      const consumer = `half-${randomUUID()}`;
      const agg = `o-${randomUUID()}`;
      // The event record's completion reaches the store, then the process dies (MongoDB writes the two records one by one).
      const half = instance(consumer, applied, { leaseMs: lease.ms, store: (s) => ({ ...s, completeMany: async (items) => { await s.completeMany(items.slice(0, 1)); throw new Error('killed'); } }) });
      const live = instance(consumer, applied, { leaseMs: lease.ms });
      const one = envelope(agg, 1);
      // The killed invocation's message comes back; until the marker's lease ends it is retried, never dropped as done.
      expect(await afterLease(lease, () => half.deliver(one), (attempt) => live.deliver(one, attempt))).toBeUndefined();
      expect(await live.deliver(envelope(agg, 2))).toBeUndefined();
      expect(seqs(applied)).toEqual([`${agg}#1`, `${agg}#2`]);
    });
  }, 60_000);

  it('a claimant killed after completing the marker but not the event record: the redelivery is a duplicate, not applied twice', async () => {
    await inWindow(LEASES_MS, async (lease) => {
      const applied: string[] = [];
      const consumer = `half-marker-${randomUUID()}`;
      const agg = `o-${randomUUID()}`;
      // Only the marker's completion (the second item) reaches the store before the process dies.
      const half = instance(consumer, applied, { leaseMs: lease.ms, store: (s) => ({ ...s, completeMany: async (items) => { await s.completeMany(items.slice(1)); throw new Error('killed'); } }) });
      const live = instance(consumer, applied, { leaseMs: lease.ms });
      const one = envelope(agg, 1);
      expect(await afterLease(lease, () => half.deliver(one), (attempt) => live.deliver(one, attempt))).toBeUndefined();
      expect(live.lines.filter((l) => l.msg === 'inbox duplicate')).toHaveLength(1);
      // The event record is now completed as well: a further copy is answered at once.
      expect(await live.deliver(one, 4)).toBeUndefined();
      expect(await live.deliver(envelope(agg, 2))).toBeUndefined();
      expect(seqs(applied)).toEqual([`${agg}#1`, `${agg}#2`]);
    });
  }, 60_000);

  it('a redrive of an applied event is a duplicate (not run), and the aggregate goes on', async () => {
    const applied: string[] = [];
    const c = instance(`redrive-${randomUUID()}`, applied);
    const agg = `o-${randomUUID()}`;
    const one = envelope(agg, 1);
    expect(await c.deliver(one)).toBeUndefined();
    expect(await c.deliver(envelope(agg, 2))).toBeUndefined();
    expect(await c.deliver(one)).toBeUndefined();
    expect(c.lines.filter((l) => l.msg === 'inbox duplicate')).toHaveLength(1);
    expect(await c.deliver(envelope(agg, 3))).toBeUndefined();
    expect(seqs(applied)).toEqual([1, 2, 3].map((s) => `${agg}#${s}`));
  });

  it('two different events with one (aggregate, seq) (two outboxes writing one aggregate): the later is refused with terminal INBOX_SEQ_CONFLICT, not applied', async () => {
    const applied: string[] = [];
    const c = instance(`conflict-${randomUUID()}`, applied);
    const agg = `o-${randomUUID()}`;
    const first = envelope(agg, 1);
    const other = envelope(agg, 1);
    expect(idOf(first)).not.toBe(idOf(other));
    expect(await c.deliver(first)).toBeUndefined();
    expect(await c.deliver(other)).toBe('INBOX_SEQ_CONFLICT');
    const conflict = c.lines.find((l) => l.code === 'INBOX_SEQ_CONFLICT');
    expect(conflict).toMatchObject({ retryable: false, aggregate: `order/${agg}`, seq: 1 });
    expect(JSON.stringify(conflict)).not.toContain('amountCents');
    expect(applied).toEqual([`${agg}#1:${idOf(first)}`]);
    expect(await c.deliver(envelope(agg, 2))).toBeUndefined();
    expect(seqs(applied)).toEqual([`${agg}#1`, `${agg}#2`]);
  });

  it('two different events with one (aggregate, seq) at the same time: one applies, the other is refused; the marker stays with the applied one', async () => {
    const applied: string[] = [];
    const consumer = `conflict-race-${randomUUID()}`;
    let open!: () => void;
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const opened = new Promise<void>((r) => (open = r));
    const gate = () => (started(), opened);
    const slow = instance(consumer, applied, { gate });
    const fast = instance(consumer, applied);
    const agg = `o-${randomUUID()}`;
    const first = envelope(agg, 1);
    const other = envelope(agg, 1);
    const pending = slow.deliver(first);
    // The first holds its marker while its function runs.
    await running;
    expect(await fast.deliver(other)).toBe('INBOX_SEQ_CONFLICT');
    open();
    expect(await pending).toBeUndefined();
    expect(applied).toEqual([`${agg}#1:${idOf(first)}`]);
    expect(slow.lines.filter((l) => l.msg === 'inbox record was taken over before completion')).toEqual([]);
    expect(await fast.deliver(envelope(agg, 2))).toBeUndefined();
  });

  it('a marker written before markers named their event (fingerprint "event"): held is retried, completed refuses another event with that seq', async () => {
    const applied: string[] = [];
    const consumer = `legacy-${randomUUID()}`;
    const c = instance(consumer, applied);
    const agg = `o-${randomUUID()}`;
    const store = backend.store();
    const markerKey = (seq: number) => storeKey(scopeOf(`inbox:${consumer}`), { kind: 'custom', value: `seq:order/${agg}#${seq}` });
    // What the earlier version wrote: seq 1 applied, seq 2 still held by a running delivery.
    const owner = randomUUID();
    await store.claim({ key: markerKey(1), owner, fingerprint: 'event', leaseUntil: Date.now() + 60_000 });
    await store.complete({ key: markerKey(1), owner, fingerprint: 'event', result: '1', expiresAt: Date.now() + 60_000 });
    await store.claim({ key: markerKey(2), owner, fingerprint: 'event', leaseUntil: Date.now() + 60_000 });
    expect(await c.deliver(envelope(agg, 1))).toBe('INBOX_SEQ_CONFLICT');
    expect(await c.deliver(envelope(agg, 2))).toBe('INBOX_IN_PROGRESS');
    expect(applied).toEqual([]);
  });

  it('a marker from a past retention period counts as absent: another event with that seq applies', async () => {
    // The next event needs the fresh marker still kept: retried with a longer retention when the machine was too slow for it.
    await inWindow([200, 400, 800, 1_600, 3_200], async (retention) => {
      const applied: string[] = [];
      const consumer = `retention-${randomUUID()}`;
      let store!: IdempotencyStore;
      const c = instance(consumer, applied, { retentionMs: retention.ms, store: (s) => (store = s) });
      const agg = `o-${randomUUID()}`;
      const old = envelope(agg, 1);
      expect(await c.deliver(old)).toBeUndefined();
      // Past the old marker's retention, counted from its completion (before the delivery answered),
      // and gone as the consumer's own store sees it (FerretDB: the server's clock, estimated).
      await sleepUntil(Date.now() + retention.ms);
      const marker = storeKey(scopeOf(`inbox:${consumer}`), { kind: 'custom', value: `seq:order/${agg}#1` });
      await eventually(async () => (await store.get(marker)) === undefined, 10_000);
      const fresh = envelope(agg, 1);
      const freshSent = Date.now();
      expect(await c.deliver(fresh)).toBeUndefined();
      expect(applied).toEqual([`${agg}#1:${idOf(old)}`, `${agg}#1:${idOf(fresh)}`]);
      const next = await c.deliver(envelope(agg, 2));
      retention.holds(freshSent, () => expect(next).toBeUndefined());
    });
  }, 60_000);
});
