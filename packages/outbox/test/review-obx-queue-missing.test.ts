/**
 * Review finding (operator's view, obx): a relay whose queue cannot be read warned "the queue
 * cannot be read" with only `cause: 'SqsQueueAttributesError'` and our own code: SQS's own error
 * (a queue that does not exist, `AWS.SimpleQueueService.NonExistentQueue`, against
 * `AccessDenied` or a network error) was only inside the error's message, which is never logged.
 * The typed errors (`SqsQueueAttributesError`, `WatchdogUnavailableError`) now carry it as
 * `sqsCode` — a name, never a value — and it is a field of the relay's warning and of the
 * handler's failure line. moto, fauxqs and ElasticMQ, a queue URL that does not exist.
 *
 * The same blindness one step later (sqsmover#22, spring-cloud-aws#1605: "failed, no idea
 * why"): a queue deleted after the sender read its attributes (a warm function), access revoked,
 * throttling past the retries — SQS refused the round's `SendMessageBatch` calls and the relay
 * logged nothing but `failed: n` in the invocation's `outbox` record. It now warns once per
 * flush, and once per sweep over all its chunks (not once per chunk: an outage fails every chunk
 * alike), with the count and the codes. "The queue cannot be read" is said once per sweep too, and
 * the chunks after it are not begun (every chunk would ask the same queue).
 */
import { DeleteQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { outbox, redisOutbox } from '../src/index.js';
import { outboxWatchdog, sqsSender } from '../src/sqs.js';
import { suffix, sqsServers } from './sqs-servers.js';
import { createQueue, sqsClient, useRedis } from './support.js';

const events = { OrderPaid: { aggregateType: 'order', schema: z.object({}) } };

const redis = useRedis('redis');

function relayContext() {
  const warnings: Array<{ msg: string; fields: Record<string, unknown> }> = [];
  const log = { debug() {}, info() {}, error() {}, warn: (msg: string, fields: Record<string, unknown> = {}) => void warnings.push({ msg, fields }) };
  return { ctx: { signal: new AbortController().signal, remainingMs: () => 30_000, log: log as never }, warnings };
}

describe.each(sqsServers({ elasticmq: true }))('a queue URL that does not exist ($name)', ({ name }) => {
  // Deviation: SQS names a missing queue `AWS.SimpleQueueService.NonExistentQueue` in its
  // x-amzn-query-error header (so moto and fauxqs); ElasticMQ sends the JSON protocol's shape,
  // `com.amazonaws.sqs#QueueDoesNotExist`. Either is normalised to a bare name.
  const missingCode = name === 'elasticmq' ? 'QueueDoesNotExist' : 'NonExistentQueue';
  let sqs: SQSClient;
  let missingUrl = '';
  beforeAll(async () => {
    sqs = await sqsClient(name);
    const endpoint = await sqs.config.endpoint!();
    missingUrl = `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}/000000000000/obx-missing-${suffix()}`;
  });
  afterAll(() => sqs?.destroy());

  it("the sender's typed error carries SQS's own code", async () => {
    const failure = await sqsSender({ client: sqs, queueUrl: missingUrl }).send([{ id: 'a', body: 'b' }]).then(() => undefined, (e: unknown) => e);
    expect(failure).toMatchObject({ code: 'OUTBOX_SQS_QUEUE_ATTRIBUTES', retryable: false, sqsCode: missingCode, logFields: { sqsCode: missingCode } });
  });

  it("the relay's warning names SQS's code, once per sweep over all its chunks, and nothing is quarantined", async () => {
    const store = redisOutbox({ client: redis.client, prefix: `${redis.prefix}${name}:outbox:` });
    const write = handler({ use: [outbox({ events, store })], logSink: () => undefined }, async (input: unknown, ctx) => {
      const { id } = input as { id: string };
      ctx.outbox.call('HSET', `${redis.prefix}${name}:order:{${id}}`, 'status', 'paid');
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: id, payload: {} });
    });
    // Four aggregates pending: four chunks at the default parallelism, each of which would have
    // found the queue unreadable and said so.
    for (const id of ['o-1', 'o-1b', 'o-1c', 'o-1d']) await write.invoke({ id }, { deliveryId: `w-${id}-${name}` });
    const orders = outbox({ events, store, relay: { sender: sqsSender({ client: sqs, queueUrl: missingUrl }), lease: redis.lease, sweep: { graceMs: 0 } } });
    const { ctx, warnings } = relayContext();
    expect((await orders.sweep(ctx)).metrics).toMatchObject({ sent: 0, quarantined: 0 });
    expect(warnings).toEqual([
      {
        msg: 'outbox relay stopped: the queue cannot be read; pending events stay for the next flush or sweep',
        fields: { store: 'redis', cause: 'SqsQueueAttributesError', causeCode: 'OUTBOX_SQS_QUEUE_ATTRIBUTES', sqsCode: missingCode },
      },
    ]);

    // One chunk of one aggregate after another (parallel 1, chunk 1): the chunks after the first are not begun, so the
    // queue is asked once, not once per chunk.
    const counted = await sqsClient(name);
    let asked = 0;
    counted.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetQueueAttributesCommand') asked++;
        return next(args);
      },
      { step: 'initialize' },
    );
    try {
      const serial = outbox({ events, store, relay: { sender: sqsSender({ client: counted, queueUrl: missingUrl }), lease: redis.lease, sweep: { graceMs: 0, parallel: 1, chunk: 1 } } });
      const second = relayContext();
      expect((await serial.sweep(second.ctx)).metrics).toMatchObject({ sent: 0, quarantined: 0 });
      expect(second.warnings.map((w) => w.msg)).toEqual(['outbox relay stopped: the queue cannot be read; pending events stay for the next flush or sweep']);
      expect(asked, 'GetQueueAttributes calls').toBe(1);
    } finally {
      counted.destroy();
    }
  });

  it("the watchdog's failure carries SQS's code, on the error and on the handler's failure line", async () => {
    const failure = await outboxWatchdog({ client: sqs, queueUrl: missingUrl, delayMs: 0 }).arm({ outbox: 'orders' }).then(() => undefined, (e: unknown) => e);
    expect(failure).toMatchObject({ code: 'OUTBOX_SQS_WATCHDOG_UNAVAILABLE', retryable: false, sqsCode: missingCode });

    const lines: Array<Record<string, unknown>> = [];
    const store = redisOutbox({ client: redis.client, prefix: `${redis.prefix}${name}:wd:outbox:` });
    const orders = outbox({ events, store, watchdog: outboxWatchdog({ client: sqs, queueUrl: missingUrl, delayMs: 0 }) });
    const pay = handler({ use: [orders], logSink: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) }, async (_input, ctx) => {
      ctx.outbox.call('HSET', `${redis.prefix}${name}:order:{o-2}`, 'status', 'paid');
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: 'o-2', payload: {} });
    });
    await expect(pay.invoke({}, { deliveryId: `wd-${name}` })).rejects.toMatchObject({ code: 'OUTBOX_SQS_WATCHDOG_UNAVAILABLE' });
    expect(lines.filter((l) => l.code === 'OUTBOX_SQS_WATCHDOG_UNAVAILABLE')).toEqual([expect.objectContaining({ sqsCode: missingCode })]);
  });

  it('a queue deleted after the sender read its attributes: the round warns with the count and SQS\'s code', async () => {
    const queue = await createQueue(sqs);
    const store = redisOutbox({ client: redis.client, prefix: `${redis.prefix}${name}:gone:outbox:` });
    const orders = outbox({ events, store, relay: { sender: sqsSender({ client: sqs, queueUrl: queue.url, retry: { retries: 0 } }), lease: redis.lease, sweep: { graceMs: 0 } } });
    const lines: Array<Record<string, unknown>> = [];
    const pay = handler({ use: [orders], logLevel: 'info', logSink: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) }, async (input: unknown, ctx) => {
      const { id } = input as { id: string };
      ctx.outbox.call('HSET', `${redis.prefix}${name}:order:{${id}}`, 'status', 'paid');
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: id, payload: {} });
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: id, payload: {} });
    });
    await pay.invoke({ id: 'o-3' }, { deliveryId: `g1-${name}` });
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queue.url }));
    await pay.invoke({ id: 'o-4' }, { deliveryId: `g2-${name}` });
    // One message of an aggregate per SendMessageBatch (the sender's default on standard queues
    // too): the aggregate's second event is not sent behind its refused first, and says so.
    const codes = `${missingCode},OUTBOX_SQS_GROUP_BLOCKED`;
    expect(lines.filter((l) => l.level === 'warn')).toEqual([
      expect.objectContaining({ msg: 'outbox relay: some events were not sent to SQS; they stay pending for the next flush or sweep', store: 'redis', failed: 2, codes }),
    ]);
    expect(lines.find((l) => l.msg === 'outbox')).toMatchObject({ sent: 2 });
    expect(lines.findLast((l) => l.msg === 'outbox')).toMatchObject({ sent: 0, failed: 2, quarantined: 0 });

    // Three more aggregates left pending; a sweep relays the four in four chunks (one per
    // aggregate at the default parallelism) and says it once, for all of them.
    for (const id of ['o-5', 'o-6', 'o-7']) await pay.invoke({ id }, { deliveryId: `g-${id}-${name}` });
    const { ctx, warnings } = relayContext();
    expect((await orders.sweep(ctx)).metrics).toMatchObject({ sent: 0, failed: 8, quarantined: 0 });
    expect(warnings).toEqual([
      { msg: 'outbox relay: some events were not sent to SQS; they stay pending for the next flush or sweep', fields: { store: 'redis', failed: 8, codes } },
    ]);
  });
});
