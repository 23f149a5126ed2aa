/**
 * Review finding (s52, rvw): without an idempotency plugin, the key that makes a write
 * exactly-once is the delivery id (`request-key.ts`), and a Pub/Sub message's delivery id was
 * its bare message id — unique only within its topic. Messages from topics `payments` and
 * `shipments` with one id, about one aggregate: the second found the first's marker, wrote
 * nothing (its state and its events) and answered success. The handler now scopes a Pub/Sub
 * message's `ctx.deliveryId` by its topic (`<topic source>#<messageId>`), so both write; a
 * redelivery is still a duplicate. Redis, through `@steadyfn/handler/gcp`.
 */
import { handler } from '@steadyfn/handler/gcp';
import { outbox, redisOutbox } from '@steadyfn/outbox';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { useRedis } from './support.js';

const redis = useRedis('redis');

const published = (topic: string, messageId: string, body: unknown) => ({
  specversion: '1.0',
  id: messageId,
  source: `//pubsub.googleapis.com/projects/p/topics/${topic}`,
  type: 'google.cloud.pubsub.topic.v1.messagePublished',
  datacontenttype: 'application/json',
  data: { message: { messageId, data: Buffer.from(JSON.stringify(body)).toString('base64'), attributes: {} }, subscription: `projects/p/subscriptions/${topic}-sub` },
});

describe('one Pub/Sub message id in two topics, one outbox', () => {
  it('both messages write; a redelivery of either does not write again', async () => {
    const prefix = `${redis.prefix}outbox:`;
    const orders = outbox({
      events: { Noted: { aggregateType: 'order', schema: z.object({ from: z.string() }) } },
      store: redisOutbox({ client: redis.client, prefix }),
    });
    const main = handler({ use: [orders], body: 'json', logSink: () => undefined }, async (input: unknown, ctx) => {
      const { from } = input as { from: string };
      ctx.outbox.call('HSET', `${redis.prefix}order:{o-1}`, from, '1');
      ctx.outbox.add({ type: 'Noted', aggregateId: 'o-1', payload: { from } });
    });
    const id = '2070443601311540';
    await main(published('payments', id, { from: 'payments' }));
    await main(published('shipments', id, { from: 'shipments' }));
    await main(published('payments', id, { from: 'payments' }));

    expect(await redis.client.hgetall(`${redis.prefix}order:{o-1}`)).toEqual({ payments: '1', shipments: '1' });
    const entries = await redis.client.xrange(`${prefix}{o-1}:events`, '-', '+');
    expect(entries.map(([, fields]) => (JSON.parse(fields[fields.indexOf('e') + 1]!) as { payload: { from: string } }).payload.from)).toEqual(['payments', 'shipments']);
  });
});
