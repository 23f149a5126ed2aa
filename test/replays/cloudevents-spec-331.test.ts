/**
 * cloudevents/spec#331 ("Clarify scope of eventID's uniqueness", settled by PR #391) and the
 * Knative Eventing data-plane spec (knative/specs PR #24: "Event recipients MUST use the
 * `source` and `id` attributes to determine duplicate events")
 * https://github.com/cloudevents/spec/issues/331
 *
 * A CloudEvent's `id` is unique only within its `source`: producers number their events as they
 * like, and two of them may both send id `1`. A consumer that takes the id alone for the event's
 * identity drops the second producer's event as a duplicate of the first's.
 *
 * steadyfn did exactly that: a CloudEvent of a type with no trigger kind of its own (an Audit
 * Log entry, a custom Eventarc event) had `ctx.deliveryId = id`, the key `@steadyfn/idempotency`
 * uses by default, so the second producer's event was answered with the first one's stored
 * result and never ran. Fixed: the delivery id is `<source>#<id>`. Replayed on the Functions
 * Framework's test server with idempotency on Redis: events `1` from two shops both run; the
 * redelivery of one of them (same source and id) replays without running; a `#` inside a source
 * or an id does not make two (source, id) pairs one key.
 */
import { randomUUID } from 'node:crypto';
import { handler } from '../../packages/handler/src/index.js';
import { idempotency } from '../../packages/idempotency/src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServers, serve } from '../../packages/handler/test/support/gcp-server.js';
import { openBackend, silentSink, type Backend } from '../../packages/idempotency/test/support.js';

async function post(url: string, source: string, id: string, data: unknown): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': id, 'ce-type': 'com.example.order.created', 'ce-source': source, 'ce-time': '2025-03-14T10:02:11.512Z' },
    body: JSON.stringify(data),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('cloudevents/spec#331: a CloudEvent is one delivery per (source, id), not per id', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend('redis');
  });
  afterAll(async () => {
    await closeServers();
    await backend?.close();
  });

  const serveOrders = (ran: unknown[]) =>
    serve('cloudEvent', handler({ name: `orders-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] }, (input) => {
      ran.push(input);
    }));

  it('event 1 of two producers runs twice; the redelivery of one replays', async () => {
    const ran: unknown[] = [];
    const url = await serveOrders(ran);
    expect(await post(url, '//shop-a.example.com/orders', '1', { order: 'a-1' })).toBeLessThan(300);
    expect(await post(url, '//shop-b.example.com/orders', '1', { order: 'b-1' })).toBeLessThan(300);
    expect(await post(url, '//shop-a.example.com/orders', '1', { order: 'a-1' })).toBeLessThan(300);
    expect(ran).toEqual([{ order: 'a-1' }, { order: 'b-1' }]);
  });

  it('a # in the source or the id does not join two pairs into one key', async () => {
    const ran: unknown[] = [];
    const url = await serveOrders(ran);
    expect(await post(url, '//shop.example.com/orders#eu', '7', { order: 'eu-7' })).toBeLessThan(300);
    expect(await post(url, '//shop.example.com/orders', 'eu#7', { order: 'x-7' })).toBeLessThan(300);
    expect(await post(url, '//shop.example.com/orders', 'eu%237', { order: 'y-7' })).toBeLessThan(300);
    expect(ran).toEqual([{ order: 'eu-7' }, { order: 'x-7' }, { order: 'y-7' }]);
  });
});
