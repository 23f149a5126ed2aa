/**
 * The inbox on real stores (Redis idempotency store; FerretDB idempotency store), through
 * the handler's Lambda SQS adapter: duplicates answered without running, effects exactly
 * once, seq gaps retried, partial batch responses, FIFO stopping at the first failure.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler, TerminalError, type Plugin } from '@steadyfn/handler';
import { mongoStore, redisStore, type IdempotencyStore } from '@steadyfn/idempotency';
import { lambdaContext, openMongo, openRedis, sqsEvent, type MongoBackend, type RedisBackend } from '../test/support.js';
import { prepareEvent, serializeEvent } from './envelope.js';
import { inbox } from './inbox.js';
import { outbox } from './plugin.js';
import { redisOutbox } from './stores/redis.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number() }) } };
const shipped = { OrderShipped: { aggregateType: 'shipment', schema: z.object({ orderId: z.string() }) } };

function envelope(aggregateId: string, seq: number, amountCents = 1) {
  return serializeEvent(prepareEvent(events, { type: 'OrderPaid', aggregateId, payload: { amountCents } }, { correlationId: 'corr-1' }), seq);
}

const lambda = () => lambdaContext('ship');

/**
 * A plugin after the inbox answers (then refuses) an event before the function runs: the event
 * was not handled, so neither its record nor its seq marker may be completed — the redelivery,
 * the gate open, runs the function (it was answered as a duplicate and the event was lost).
 */
async function gatedEventsRunOnRedelivery(store: IdempotencyStore): Promise<void> {
  let gate: 'answer' | 'throw' | 'open' = 'answer';
  const paused: Plugin = {
    name: 'paused',
    before() {
      if (gate === 'throw') throw new TerminalError('CONSUMER_PAUSED', 'the consumer is paused');
      return gate === 'answer' ? { answer: { skipped: true } } : undefined;
    },
  };
  const seqs: number[] = [];
  const main = handler({ use: [inbox({ store, consumer: `gated-${randomUUID()}` }), paused], logSink: () => undefined }, async (_input, ctx) => {
    seqs.push(ctx.inbox.event.seq);
  });
  const aggregate = `g-${randomUUID()}`;
  const [first, second] = [envelope(aggregate, 1), envelope(aggregate, 2)];
  expect(await main.aws(sqsEvent([first]), lambda())).toEqual({ batchItemFailures: [] });
  gate = 'open';
  await main.aws(sqsEvent([first]), lambda());
  gate = 'throw';
  expect(((await main.aws(sqsEvent([second]), lambda())) as { batchItemFailures: unknown[] }).batchItemFailures).toHaveLength(1);
  gate = 'open';
  await main.aws(sqsEvent([second]), lambda());
  await main.aws(sqsEvent([first, second]), lambda());
  expect(seqs).toEqual([1, 2]);
}

describe('inbox on Redis', () => {
  let backend: RedisBackend;
  beforeAll(async () => {
    backend = await openRedis('redis');
  });
  afterAll(async () => {
    await backend.close();
  });

  const consumer = (name: string, effect: (e: { aggregateId: string; seq: number }) => void, onGap: 'retry' | 'accept' = 'retry', logSink?: (line: string) => void) => {
    const store = redisStore({ client: backend.client, prefix: `${backend.prefix}idem:` });
    const shipping = outbox({ events: shipped, store: redisOutbox({ client: backend.client, prefix: backend.prefix }) });
    return handler({ use: [inbox({ store, consumer: name, onGap, unseenAggregate: 'retry' }), shipping], ...(logSink ? { logSink, logLevel: 'info' as const } : {}) }, async (_input, ctx) => {
      const e = ctx.inbox.event;
      effect(e);
      // The consumer's own effect, exactly once with the inbox key: a counter and an event of its own.
      ctx.outbox.call('HINCRBY', `${backend.prefix}shipments:{${e.aggregateId}}`, 'count', 1);
      ctx.outbox.add({ type: 'OrderShipped', aggregateId: e.aggregateId, payload: { orderId: e.aggregateId } });
      return { ok: true };
    });
  };

  it('runs an event once however often it is delivered, and carries causation into the events it records', async () => {
    let runs = 0;
    const ship = consumer('shipping', () => runs++);
    const body = envelope('o-1', 1);
    expect(await ship.aws(sqsEvent([body, body]), lambda())).toEqual({ batchItemFailures: expect.any(Array) });
    await ship.aws(sqsEvent([body]), lambda());
    await ship.aws(sqsEvent([body]), lambda());
    expect(runs).toBe(1);
    expect(await backend.client.hget(`${backend.prefix}shipments:{o-1}`, 'count')).toBe('1');
    const entries = (await backend.client.xrange(`${backend.prefix}{o-1}:events`, '-', '+')) as Array<[string, string[]]>;
    const fields = entries[0]![1];
    const recorded = JSON.parse(fields[fields.indexOf('e') + 1]!);
    expect(recorded).toMatchObject({ type: 'OrderShipped', causationId: JSON.parse(body).id, correlationId: 'corr-1' });
  });

  it('crash between the atomic write and the inbox completion: the redelivery runs the function, but writes nothing twice', async () => {
    const real = redisStore({ client: backend.client, prefix: `${backend.prefix}idem:` });
    // The completion "crashes": it never reaches the store.
    const crashing = { ...real, completeMany: async () => { throw new Error('killed before completing'); } };
    let runs = 0;
    // Only the crashed claim has a short lease (it must end for the redelivery); the live ones
    // hold theirs until the deadline: a 200 ms lease over a whole delivery ran out under load,
    // and a completion refused by its expired lease let the next duplicate run again.
    const make = (store: typeof real, leaseMs?: number) =>
      handler({ use: [inbox({ store, consumer: 'crashy', ...(leaseMs === undefined ? {} : { leaseMs }) }), outbox({ events: shipped, store: redisOutbox({ client: backend.client, prefix: backend.prefix }) })] }, async (_input, ctx) => {
        runs++;
        ctx.outbox.call('HINCRBY', `${backend.prefix}shipments:{c-1}`, 'count', 1);
        ctx.outbox.add({ type: 'OrderShipped', aggregateId: 'c-1', payload: { orderId: 'c-1' } });
      });
    const body = envelope('c-1', 1);
    await make(crashing, 200).aws(sqsEvent([body]), lambda());
    await new Promise((r) => setTimeout(r, 300)); // past the crashed claim's 200 ms lease (the wait starts after the claim)
    await make(real).aws(sqsEvent([body]), lambda());
    await make(real).aws(sqsEvent([body]), lambda());
    expect(runs).toBe(2);
    expect(await backend.client.hget(`${backend.prefix}shipments:{c-1}`, 'count')).toBe('1');
    expect(await backend.client.xlen(`${backend.prefix}{c-1}:events`)).toBe(1);
  });

  it('another consumer of the same event has its own key', async () => {
    let runs = 0;
    const body = envelope('o-2', 1);
    await consumer('billing', () => runs++).aws(sqsEvent([body]), lambda());
    await consumer('audit', () => runs++).aws(sqsEvent([body]), lambda());
    expect(runs).toBe(2);
  });

  it("onGap 'retry' fails an event whose predecessor was not handled, then handles both in order", async () => {
    const order: number[] = [];
    const ship = consumer('gaps', (e) => order.push(e.seq));
    const one = envelope('o-3', 1);
    const two = envelope('o-3', 2);
    const first = (await ship.aws(sqsEvent([two]), lambda())) as { batchItemFailures: unknown[] };
    expect(first.batchItemFailures).toHaveLength(1);
    await ship.aws(sqsEvent([one]), lambda());
    await ship.aws(sqsEvent([two]), lambda());
    expect(order).toEqual([1, 2]);
  });

  it("logs a gap that will be retried at warn (aggregate, expected and got seq, no payload) and a real failure at error", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const ship = consumer('gap-log', (e) => {
      if (e.aggregateId === 'o-broken') throw new Error('boom');
    }, 'retry', (line) => void lines.push(JSON.parse(line) as Record<string, unknown>));
    const early = (await ship.aws(sqsEvent([envelope('o-gap-log', 3, 4242)]), lambda())) as { batchItemFailures: unknown[] };
    expect(early.batchItemFailures).toHaveLength(1);
    const gap = lines.filter((l) => l.code === 'INBOX_SEQ_GAP');
    expect(gap).toHaveLength(1);
    expect(gap[0]).toMatchObject({ level: 'warn', aggregate: 'order/o-gap-log', expectedSeq: 2, gotSeq: 3, retryable: true });
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(JSON.stringify(lines)).not.toContain('4242');
    lines.length = 0;
    await ship.aws(sqsEvent([envelope('o-broken', 1)]), lambda());
    expect(lines.filter((l) => l.level === 'error').map((l) => l.code)).toEqual(['INTERNAL']);
  });

  it("onGap 'accept' handles it at once; 'retry' gives up waiting after maxGapRetries deliveries", async () => {
    const seen: number[] = [];
    await consumer('accepting', (e) => seen.push(e.seq), 'accept').aws(sqsEvent([envelope('o-4', 5)]), lambda());
    expect(seen).toEqual([5]);
    const late: number[] = [];
    await consumer('patient', (e) => late.push(e.seq)).aws(sqsEvent([envelope('o-5', 3)], { attempt: 10 }), lambda());
    expect(late).toEqual([3]);
  });

  it('reports only failed messages; on FIFO it stops at the first failure', async () => {
    const ship = consumer('fifo', (e) => {
      if (e.aggregateId === 'bad') throw new Error('boom');
    });
    const standard = (await ship.aws(sqsEvent([envelope('ok-1', 1), envelope('bad', 1), envelope('ok-2', 1)]), lambda())) as { batchItemFailures: Array<{ itemIdentifier: string }> };
    expect(standard.batchItemFailures).toHaveLength(1);
    const batch = sqsEvent([envelope('ok-3', 1), envelope('bad', 1), envelope('ok-4', 1)], { fifo: true });
    const fifo = (await ship.aws(batch, lambda())) as { batchItemFailures: Array<{ itemIdentifier: string }> };
    expect(fifo.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([batch.Records[1]!.messageId, batch.Records[2]!.messageId]);
  });

  it('an event a later plugin answered or refused before the function ran is released: the redelivery runs it', async () => {
    await gatedEventsRunOnRedelivery(redisStore({ client: backend.client, prefix: `${backend.prefix}idem:` }));
  });

  it('a gap on a trigger with no delivery count is retried, and warned once that maxGapRetries cannot apply', async () => {
    const lines: string[] = [];
    const ship = consumer(`uncounted-${randomUUID()}`, () => undefined, 'retry', (line) => lines.push(line));
    const aggregate = `u-${randomUUID()}`;
    // A Pub/Sub subscription without a dead-letter policy sends no deliveryAttempt: here, no ApproximateReceiveCount.
    const uncounted = (body: string) => {
      const event = sqsEvent([body]);
      delete (event.Records[0]!.attributes as { ApproximateReceiveCount?: string }).ApproximateReceiveCount;
      return event;
    };
    const second = envelope(aggregate, 2);
    for (let i = 0; i < 3; i++) expect(((await ship.aws(uncounted(second), lambda())) as { batchItemFailures: unknown[] }).batchItemFailures).toHaveLength(1);
    const warned = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.code === 'INBOX_GAP_UNCOUNTED');
    expect(warned()).toEqual([expect.objectContaining({ level: 'warn', trigger: 'queue', source: 'sqs' })]);
    expect(String(warned()[0]!.msg)).toMatch(/maxGapRetries cannot apply/);
    // With a count, nothing of the kind: the 10th receive is handled.
    const counted = consumer(`counted-${randomUUID()}`, () => undefined, 'retry', (line) => lines.push(line));
    lines.length = 0;
    expect(((await counted.aws(sqsEvent([envelope(`c-${randomUUID()}`, 2)], { attempt: 10 }), lambda())) as { batchItemFailures: unknown[] }).batchItemFailures).toEqual([]);
    expect(warned()).toEqual([]);
  });

  it('a gap with no delivery count that is accepted at once (maxGapRetries: 1) is handled, with no INBOX_GAP_UNCOUNTED warning', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const seen: number[] = [];
    const store = redisStore({ client: backend.client, prefix: `${backend.prefix}idem:` });
    const ship = handler({ use: [inbox({ store, consumer: `once-${randomUUID()}`, maxGapRetries: 1, unseenAggregate: 'retry' })], logSink: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>), logLevel: 'info' }, async (_input, ctx) => {
      seen.push(ctx.inbox.event.seq);
    });
    const event = sqsEvent([envelope(`once-${randomUUID()}`, 2)]);
    delete (event.Records[0]!.attributes as { ApproximateReceiveCount?: string }).ApproximateReceiveCount;
    expect(await ship.aws(event, lambda())).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual([2]);
    expect(lines.filter((l) => l.msg === 'inbox seq gap accepted')).toHaveLength(1);
    // Nothing is retried, so the warning that the gap "is retried on every delivery" would be false.
    expect(lines.filter((l) => l.code === 'INBOX_GAP_UNCOUNTED')).toEqual([]);
  });

  it('a message that is not an outbox event is a terminal failure, logged with what is wrong (not the body)', async () => {
    const lines: string[] = [];
    const ship = consumer('strict', () => undefined, 'retry', (line) => lines.push(line));
    const result = (await ship.aws(sqsEvent(['{"hello":"secret-value"}']), lambda())) as { batchItemFailures: unknown[] };
    expect(result.batchItemFailures).toHaveLength(1);
    // The message is dead-lettered with no caller to tell: the log line is all an operator has.
    const rejected = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.code === 'INBOX_MESSAGE_INVALID');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ msg: 'invocation rejected', retryable: false, reason: 'id is not a UUID' });
    expect(lines.join('\n')).not.toContain('secret-value');
  });
});

describe('inbox on FerretDB (idempotency mongoStore)', () => {
  let mongo: MongoBackend;
  beforeAll(async () => {
    mongo = await openMongo();
  });
  afterAll(async () => {
    await mongo.close();
  });

  it('runs each event once across redeliveries', async () => {
    let runs = 0;
    const store = mongoStore({ collection: mongo.db.collection('inbox') });
    const ship = handler({ use: [inbox({ store, consumer: 'shipping' })] }, async () => {
      runs++;
    });
    const a = envelope('m-1', 1);
    const b = envelope('m-1', 2);
    await ship.aws(sqsEvent([a]), lambda());
    await ship.aws(sqsEvent([a, b]), lambda());
    await ship.aws(sqsEvent([b]), lambda());
    expect(runs).toBe(2);
  });

  it('an event a later plugin answered or refused before the function ran is released: the redelivery runs it', async () => {
    await gatedEventsRunOnRedelivery(mongoStore({ collection: mongo.db.collection('inbox-gated') }));
  });
});
