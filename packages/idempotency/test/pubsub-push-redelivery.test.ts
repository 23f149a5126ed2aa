/**
 * Review finding: a Pub/Sub push subscription delivering to a Cloud Functions HTTP function
 * (the wrapped push body, https://cloud.google.com/pubsub/docs/push) was plain HTTP to the
 * handler, with no `ctx.deliveryId`: under `key: 'auto'` the plugin keyed it by the request's
 * input — the whole envelope — so a redelivery that carries another `deliveryAttempt` (a
 * subscription with a dead-letter policy) ran again. With the handler's `gcpPubSubPush` option
 * it is the Pub/Sub queue trigger, keyed by the message id: the redelivery is answered from the
 * record and acknowledged. Through the real Functions Framework server, on Redis.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { idempotency } from '../src/index.js';
import { closeServers, serve } from '../../handler/test/support/gcp-server.js';
import { openBackend, silentSink, type Backend } from './support.js';

afterAll(closeServers);

describe('Pub/Sub wrapped push to an HTTP function, redelivered', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend('redis');
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('runs once per message id with gcpPubSubPush (the redelivery carries deliveryAttempt 2)', async () => {
    const runs: string[] = [];
    const main = handler(
      { name: `push-${randomUUID()}`, gcpPubSubPush: true, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 86_400_000, localCache: false })] },
      (input) => void runs.push(String(input)),
    );
    const url = await serve('http', main);
    const message = { data: Buffer.from('order 42').toString('base64'), attributes: {}, messageId: randomUUID(), publishTime: '2021-02-26T19:13:55.749Z' };
    const push = (deliveryAttempt: number) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message, subscription: 'projects/p/subscriptions/orders', deliveryAttempt }) });
    expect((await push(1)).status).toBe(204);
    expect((await push(2)).status).toBe(204);
    expect(runs).toEqual(['order 42']);
  });
});
