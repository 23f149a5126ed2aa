/**
 * Review finding (poison detection vs. a queue outage): with the queue unreadable — a queue URL
 * not created yet, access denied, SQS unreachable — `sqsSender.send()` throws (its
 * `GetQueueAttributes` fails) after the relay has begun the events' attempts and before any
 * event is judged. Each such run counted as an attempt "never finished", so the flush and two
 * sweeps quarantined every pending aggregate ("crashes: 3 relay attempts never finished"),
 * each needing a manual redrive — against the README's "the whole call fails → nothing marked;
 * retried next run". The relay now reads the queue's limit before it begins any attempt; an
 * unreadable queue stops the run with nothing counted. Real Redis and moto: the queue is
 * created only after the outage, and the events then flow.
 */
import { CreateQueueCommand, DeleteQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { outbox, redisOutbox } from '../../src/index.js';
import { sqsSender } from '../../src/sqs.js';
import { suffix } from '../sqs-servers.js';
import { drainQueue, openRedis, sqsClient, type RedisBackend } from '../support.js';

let backend: RedisBackend;
let sqs: SQSClient;
const name = `obx-outage-${suffix()}`;
let queueUrl = '';
beforeAll(async () => {
  backend = await openRedis('redis');
  sqs = await sqsClient('moto');
});
afterAll(async () => {
  if (queueUrl) await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
  sqs?.destroy();
  await backend?.close();
});

describe('a queue that cannot be read', () => {
  it('quarantines nothing however many runs fail; once the queue exists the events are sent', async () => {
    // The URL the queue will have (moto: endpoint/<account>/<name>), before it exists.
    const endpoint = await sqs.config.endpoint!();
    const futureUrl = `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}/123456789012/${name}`;
    const orders = outbox({
      events: { OrderPaid: { aggregateType: 'order', schema: z.object({}) } },
      store: redisOutbox({ client: backend.client, prefix: `${backend.prefix}outbox:` }),
      relay: { sender: sqsSender({ client: sqs, queueUrl: futureUrl }), lease: backend.lease, sweep: { graceMs: 0 } },
    });
    const pay = handler({ use: [orders], logSink: () => undefined }, async (input: unknown, ctx) => {
      const { id } = input as { id: string };
      ctx.outbox.call('HSET', `${backend.prefix}order:{${id}}`, 'status', 'paid');
      ctx.outbox.add({ type: 'OrderPaid', aggregateId: id, payload: {} });
      return 'paid';
    });
    const sweep = handler({ use: [orders], logSink: () => undefined }, async (_input, ctx) => (await orders.sweep(ctx)).metrics);
    await expect(pay.invoke({ id: 'o-1' }, { deliveryId: 'd-1' })).resolves.toBe('paid');
    for (let run = 0; run < 6; run++) {
      const metrics = await sweep.invoke({}, { deliveryId: `s-${run}` });
      expect(metrics).toMatchObject({ sent: 0, quarantined: 0 });
    }
    expect(await backend.client.hlen(`${backend.prefix}outbox:{o-1}:quarantine`)).toBe(0);

    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
    expect(queueUrl).toBe(futureUrl);
    await expect(sweep.invoke({}, { deliveryId: 's-after' })).resolves.toMatchObject({ sent: 1, quarantined: 0 });
    const received = await drainQueue(sqs, queueUrl);
    expect(received.map((m) => JSON.parse(m.Body!).aggregateId)).toEqual(['o-1']);
  });
});
