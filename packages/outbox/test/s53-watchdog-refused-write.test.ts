/**
 * A write the outbox refuses arms no watchdog. The plugin sent the watchdog's delayed message
 * before it planned the write: in Redis mode a write refused by its plan (a partition tag too
 * long for its lease keys, a command it does not run or with wrong arguments, a key of the
 * outbox's own) had already sent a message for events never written — for a too-long tag a
 * whole-outbox one —, and a check whose key was not a string failed as a TypeError (`INTERNAL`)
 * in the watchdog's key instead of the typed refusal naming it. In embedded mode an `updateOne`
 * refused for its own arguments (events of another document, an unsupported operator, an
 * `_outbox*` field, an `_id` not a string, events larger than a document holds) had armed too,
 * and the invocation's last write armed for every event still staged, also those of a document
 * no update wrote (refused right after). Now every check that needs no server runs first and
 * the watchdog is armed only for the events the write will send. Real Redis :16379 and FerretDB,
 * the watchdog queue on moto and fauxqs; messages counted on the queue.
 */
import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { mongoEmbeddedOutbox, outbox, redisOutbox } from '@steadyfn/outbox';
import { outboxWatchdog, watchdogKey } from '@steadyfn/outbox/sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { partitionKeys } from '../src/stores/redis-keys.js';
import type { EmbeddedOutboxContext } from '../src/modes/embedded-mode.js';
import type { RedisOutboxContext } from '../src/modes/redis-mode.js';
import { createQueue, drainQueue, openMongo, openRedis, sqsClient, type MongoBackend, type RedisBackend } from './support.js';

const events = { Paid: { aggregateType: 'order', schema: z.object({ pad: z.string().optional() }) } };
type Ctx<C> = { outbox: C };

/** The watchdog messages on `url`: each one's keys (absent: the whole outbox). */
async function armed(sqs: SQSClient, url: string): Promise<Array<string[] | 'whole outbox'>> {
  return (await drainQueue(sqs, url)).map((m) => (JSON.parse(m.Body!) as { keys?: string[] }).keys ?? 'whole outbox');
}

const failure = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

/** The field the invocation's error log names (an unexposed error's issues are logged, not thrown). */
const loggedField = (lines: string[]): unknown => (JSON.parse(lines.at(-1)!) as { issues?: Array<{ field: string }> }).issues?.[0]?.field;

describe('Redis mode: a write refused by its plan sends no watchdog message (moto)', () => {
  let redis: RedisBackend;
  let sqs: SQSClient;
  let queue: { url: string; remove(): Promise<void> };
  beforeAll(async () => {
    redis = await openRedis('redis');
    sqs = await sqsClient('moto');
    queue = await createQueue(sqs);
  });
  // What an earlier (failed) test left is not counted against the next.
  beforeEach(async () => void (await drainQueue(sqs, queue.url, 1)));
  afterAll(async () => {
    await queue?.remove();
    await redis?.close();
    sqs?.destroy();
  });

  function run(body: (ctx: Ctx<RedisOutboxContext<typeof events>>, prefix: string) => void) {
    const prefix = `${redis.prefix}${randomUUID().slice(0, 6)}:`;
    const box = outbox({ name: 'orders', events, store: redisOutbox({ client: redis.client, prefix }), watchdog: outboxWatchdog({ client: sqs, queueUrl: queue.url, delayMs: 0 }) });
    const lines: string[] = [];
    const fn = handler({ use: [box], logSink: (line) => void lines.push(line) }, async (_input, ctx) => {
      body(ctx, prefix);
      ctx.outbox.add({ type: 'Paid', aggregateId: 'o-1', payload: {} });
      return 'ok';
    });
    return { prefix, lines, invoke: () => fn.invoke({}) };
  }

  it('a valid write sends one message naming its aggregate (the control)', async () => {
    const { prefix, invoke } = run((ctx, p) => ctx.outbox.call('HSET', `${p}order:{o-1}`, 'status', 'paid'));
    await expect(invoke()).resolves.toBe('ok');
    expect(await redis.client.hget(`${prefix}order:{o-1}`, 'status')).toBe('paid');
    expect(await armed(sqs, queue.url)).toEqual([[watchdogKey('o-1', 'order/o-1')]]);
  });

  const refused: Array<[string, (ctx: Ctx<RedisOutboxContext<typeof events>>, prefix: string) => void, string]> = [
    ['a partition tag too long for its lease keys', (ctx, p) => ctx.outbox.call('HSET', `${p}order:{${'q'.repeat(1100)}}`, 'status', 'paid'), 'keys'],
    ['a command the write does not run', (ctx, p) => ctx.outbox.call(...(['GETDEL', `${p}order:{o-1}`] as unknown as ['DEL', string])), 'commands.0'],
    ['a command with wrong arguments', (ctx, p) => ctx.outbox.call('HINCRBY', `${p}order:{o-1}`, 'n', '1.5'), 'commands.0'],
    ["a command on the outbox's own key", (ctx, p) => ctx.outbox.call('HSET', partitionKeys(p, 'o-1').seq, 'o', '1'), 'commands.0.key'],
    ['a check whose key is not a string', (ctx) => ctx.outbox.check({ key: 42 as unknown as string, exists: true }), 'checks.0.key'],
    ['a check whose field is not text', (ctx, p) => ctx.outbox.check({ key: `${p}order:{o-1}`, field: {} as unknown as string, exists: true }), 'checks.0.field'],
    [
      'keys across hash tags',
      (ctx, p) => {
        ctx.outbox.call('HSET', `${p}order:{o-1}`, 's', '1');
        ctx.outbox.call('HSET', `${p}order:{o-2}`, 's', '1');
      },
      'keys',
    ],
  ];

  it.each(refused)('%s: refused typed, nothing written, no watchdog message', async (_what, body, field) => {
    const { prefix, lines, invoke } = run(body);
    expect(await failure(invoke())).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', retryable: false });
    expect(loggedField(lines)).toBe(field);
    expect(await redis.client.exists(partitionKeys(prefix, 'o-1').events)).toBe(0);
    expect(await armed(sqs, queue.url)).toEqual([]);
  });

  it('an event its schema refuses fails the function before any write: no watchdog message', async () => {
    const { invoke } = run((ctx, p) => {
      ctx.outbox.call('HSET', `${p}order:{o-1}`, 'status', 'paid');
      ctx.outbox.add({ type: 'Paid', aggregateId: 'o-1', payload: { pad: 7 as unknown as string } });
    });
    expect(await failure(invoke())).toMatchObject({ code: 'OUTBOX_EVENT_INVALID' });
    expect(await armed(sqs, queue.url)).toEqual([]);
  });
});

describe('embedded mode: an update refused for its own arguments sends no watchdog message (FerretDB, fauxqs)', () => {
  let mongo: MongoBackend;
  let sqs: SQSClient;
  let queue: { url: string; remove(): Promise<void> };
  beforeAll(async () => {
    mongo = await openMongo();
    sqs = await sqsClient('fauxqs');
    queue = await createQueue(sqs);
  });
  beforeEach(async () => void (await drainQueue(sqs, queue.url, 1)));
  afterAll(async () => {
    await queue?.remove();
    await mongo?.close();
    sqs?.destroy();
  });

  type EmbeddedCtx = Ctx<EmbeddedOutboxContext<typeof events>>;
  async function run(body: (ctx: EmbeddedCtx) => Promise<unknown>) {
    const collection = `orders_${randomUUID().slice(0, 8)}`;
    const store = mongoEmbeddedOutbox({ db: mongo.db as never, collection, aggregateType: 'order', writeLease: mongo.lease, maxPendingBytes: 1024 });
    const docs = mongo.db.collection<{ _id: string } & Record<string, unknown>>(collection);
    await docs.insertOne({ _id: 'o-1', status: 'new' });
    let kept: EmbeddedCtx | undefined;
    const box = outbox({ name: 'orders', events, store, watchdog: outboxWatchdog({ client: sqs, queueUrl: queue.url, delayMs: 0 }) });
    const lines: string[] = [];
    const fn = handler({ use: [box], logSink: (line) => void lines.push(line) }, async (_input, ctx) => {
      kept = ctx;
      return body(ctx);
    });
    return { collection, docs, lines, invoke: () => fn.invoke({}), kept: () => kept! };
  }
  const paid = { type: 'Paid', aggregateId: 'o-1', payload: {} } as const;

  it('a valid update sends one message naming its document (the control)', async () => {
    const { collection, invoke } = await run(async (ctx) => {
      ctx.outbox.add(paid);
      return (await ctx.outbox.updateOne({ _id: 'o-1' }, { $set: { status: 'paid' } })).matched;
    });
    await expect(invoke()).resolves.toBe(true);
    expect(await armed(sqs, queue.url)).toEqual([[watchdogKey(collection, 'order/o-1')]]);
  });

  const refused: Array<[string, (ctx: EmbeddedCtx) => Promise<unknown>]> = [
    ['events of another document', (ctx) => (ctx.outbox.add({ ...paid, aggregateId: 'o-2' }), ctx.outbox.updateOne({ _id: 'o-1' }, { $set: { status: 'paid' } }))],
    ['an unsupported operator', (ctx) => (ctx.outbox.add(paid), ctx.outbox.updateOne({ _id: 'o-1' }, { $pull: { tags: 'a' } }))],
    ["an update of the outbox's own field", (ctx) => (ctx.outbox.add(paid), ctx.outbox.updateOne({ _id: 'o-1' }, { $set: { _outboxSeq: 9 } }))],
    ['an _id that is not a string', (ctx) => (ctx.outbox.add({ ...paid, aggregateId: '7' }), ctx.outbox.updateOne({ _id: 7 }, { $set: { status: 'paid' } }))],
    ['events larger than a document holds', (ctx) => (ctx.outbox.add({ ...paid, payload: { pad: 'x'.repeat(2000) } }), ctx.outbox.updateOne({ _id: 'o-1' }, { $set: { status: 'paid' } }))],
  ];

  it.each(refused)('%s: refused typed, the document unchanged, no watchdog message', async (_what, body) => {
    const { docs, invoke } = await run(body);
    expect(await failure(invoke())).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', retryable: false });
    expect(await docs.findOne({ _id: 'o-1' })).toEqual({ _id: 'o-1', status: 'new' });
    expect(await armed(sqs, queue.url)).toEqual([]);
  });

  it("the invocation's last write arms for the events it writes, not for a document no update wrote", async () => {
    const { collection, docs, lines, invoke } = await run(async (ctx) => {
      await ctx.outbox.updateOne({ _id: 'o-1' }, { $set: { status: 'paid' } });
      ctx.outbox.add(paid); // after its document's update: written by one more update
      ctx.outbox.add({ ...paid, aggregateId: 'o-9' }); // of a document no update wrote: refused
      return 'ok';
    });
    expect(await failure(invoke())).toMatchObject({ code: 'OUTBOX_EVENT_INVALID' });
    expect(loggedField(lines)).toBe('events');
    expect(await docs.findOne({ _id: 'o-1' })).toMatchObject({ status: 'paid', _outboxCount: 1 });
    expect(await armed(sqs, queue.url)).toEqual([[watchdogKey(collection, 'order/o-1')]]);
  });

  it('a call after the invocation ended is refused before anything is armed', async () => {
    const { invoke, kept } = await run(async () => 'ok');
    await expect(invoke()).resolves.toBe('ok');
    const ctx = kept();
    expect(() => ctx.outbox.add(paid)).toThrow(expect.objectContaining({ code: 'OUTBOX_EVENT_INVALID' }));
    expect(await failure(ctx.outbox.updateOne({ _id: 'o-1' }, { $set: { status: 'late' } }))).toMatchObject({ code: 'OUTBOX_EVENT_INVALID' });
    expect(await armed(sqs, queue.url)).toEqual([]);
  });
});
