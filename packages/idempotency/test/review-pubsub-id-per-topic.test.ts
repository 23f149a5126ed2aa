/**
 * A Pub/Sub message id is unique only within its topic: two topics (or their subscriptions)
 * feeding one function, or two functions sharing a `namespace`, can deliver the same id for two
 * messages. Keyed by the bare id, the second message was answered with the first one's replay
 * and never ran. Now the key names the subscription (or, without one, the topic the CloudEvent
 * `source` names) that `ctx.trigger.queue` carries. A redelivery (same subscription, same id)
 * still runs once. On every real store.
 */
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { handler } from '@steadyfn/handler';
import { idempotency } from '../src/index.js';
import { BACKENDS, silentSink, useBackend } from './support.js';

/** A Pub/Sub CloudEvent (Eventarc) from `topic`, through `subscription` when given. */
function pubsubEvent(messageId: string, topic: string, subscription: string | undefined, body: unknown, attempt = 1): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: messageId,
    source: `//pubsub.googleapis.com/projects/demo/topics/${topic}`,
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    datacontenttype: 'application/json',
    time: '2026-01-01T00:00:00.000Z',
    data: {
      message: { data: Buffer.from(JSON.stringify(body)).toString('base64'), messageId, publishTime: '2026-01-01T00:00:00.000Z', attributes: {} },
      ...(subscription === undefined ? {} : { subscription: `projects/demo/subscriptions/${subscription}` }),
      deliveryAttempt: attempt,
    },
  };
}

describe.each(BACKENDS)('one Pub/Sub message id in two topics (%s)', (name) => {
  const backend = useBackend(name);

  it.each([['with a subscription', true], ['without one (the topic from the CloudEvent source)', false]] as const)('%s: both messages run; a redelivery runs once', async (_label, withSubscription) => {
    const seen: unknown[] = [];
    const main = handler({ name: `ps-${randomUUID().slice(0, 8)}`, body: 'json', logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 86_400_000, localCache: false })] }, (input) => void seen.push(input));
    const id = String(Date.now()) + String(Math.floor(Math.random() * 1e6));
    const sub = (s: string) => (withSubscription ? s : undefined);
    await main.gcpEvent(pubsubEvent(id, 'orders', sub('orders-sub'), { orderId: 'o-1' }));
    await main.gcpEvent(pubsubEvent(id, 'refunds', sub('refunds-sub'), { refundId: 'r-9' }));
    await main.gcpEvent(pubsubEvent(id, 'orders', sub('orders-sub'), { orderId: 'o-1' }, 2));
    expect(seen).toEqual([{ orderId: 'o-1' }, { refundId: 'r-9' }]);
  });
});
