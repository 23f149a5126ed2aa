/**
 * Review finding (fresh-eyes review, obx): the request key that makes a write exactly-once
 * fell back to the bare delivery id (`delivery:<id>`) or `Idempotency-Key` header
 * (`http:<key>`), shared by every function that writes through one outbox store. A delivery
 * id is not unique per function: one EventBridge event sent to two targets (the handler's
 * delivery id is the event's `id`), two targets of one schedule tick (`<schedule>@<time>`), a
 * Pub/Sub message read through two subscriptions (one `messageId`). When two such functions
 * wrote the same partition, the second found the first's marker, wrote nothing — its state
 * and its events — and answered success. The idempotency plugin scopes its records by function
 * (`namespace` or the function name); the outbox's fallback keys now do too. Redis, with the
 * EventBridge event shape Lambda hands two functions (aws-lambda-go events/testdata
 * cloudwatch-event.json).
 */
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { outbox, redisOutbox } from '@steadyfn/outbox';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { lambdaContext, useRedis } from './support.js';

const redis = useRedis('redis');

describe('one delivery id seen by two functions writing one outbox', () => {
  it('both write; a redelivery to either is still a duplicate', async () => {
    const prefix = `${redis.prefix}outbox:`;
    const orders = outbox({
      events: { Noted: { aggregateType: 'order', schema: z.object({ by: z.string() }) } },
      store: redisOutbox({ client: redis.client, prefix }),
    });
    const noteBy = (by: string) =>
      handler({ use: [orders], logSink: () => undefined }, async (_input, ctx) => {
        ctx.outbox.call('HINCRBY', `${redis.prefix}order:{o-1}`, by, '1');
        ctx.outbox.add({ type: 'Noted', aggregateId: 'o-1', payload: { by } });
      });
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Order Placed',
      source: 'shop.orders',
      account: '123456789012',
      time: '2026-12-02T08:00:00Z',
      region: 'us-east-1',
      resources: [],
      detail: { orderId: 'o-1' },
    };
    const notify = noteBy('notify');
    const audit = noteBy('audit');
    await notify.aws(event, lambdaContext('notify'));
    await audit.aws(event, lambdaContext('audit'));
    // EventBridge retries a target: the same function, the same event — written once.
    await notify.aws(event, lambdaContext('notify'));

    expect(await redis.client.hgetall(`${redis.prefix}order:{o-1}`)).toEqual({ notify: '1', audit: '1' });
    const entries = await redis.client.xrange(`${prefix}{o-1}:events`, '-', '+');
    expect(entries.map(([, fields]) => (JSON.parse(fields[fields.indexOf('e') + 1]!) as { payload: { by: string } }).payload.by)).toEqual(['notify', 'audit']);
  });
});
