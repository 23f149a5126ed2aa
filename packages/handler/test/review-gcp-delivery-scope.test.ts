/**
 * Review finding (s52, rvw): Cloud Storage, Firestore and Realtime Database CloudEvents, and
 * Pub/Sub messages, were keyed by their bare id. CloudEvents makes only `source` + `id` unique,
 * and on Eventarc `ce-id` is a Pub/Sub message id, unique only within its topic: two buckets,
 * two Firestore databases or two topics feeding one function can send one id, and the
 * idempotency plugin then replayed the second event, the outbox skipped its write. Each is now
 * keyed `<source>#<id>` (a Pub/Sub message: `<topic source>#<messageId>`; a push, which names
 * no topic: `<subscription>#<messageId>`), as other CloudEvents already were; a redelivery
 * keeps its id, and a background (1st gen) function gets the same id as a CloudEvent function.
 */
import { describe, expect, it } from 'vitest';
import { handler, type Context } from '../src/index.js';

const ID = '9182736455647382';

function recorder() {
  const seen: Context[] = [];
  const main = handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx));
  return { seen, main };
}

const storage = (bucket: string, id = ID) => ({
  specversion: '1.0',
  id,
  source: `//storage.googleapis.com/projects/_/buckets/${bucket}`,
  type: 'google.cloud.storage.object.v1.finalized',
  subject: 'objects/a.pdf',
  datacontenttype: 'application/json',
  data: { bucket, name: 'a.pdf', size: '3', generation: '1' },
});

const firestore = (database: string) => ({
  specversion: '1.0',
  id: ID,
  source: `//firestore.googleapis.com/projects/p/databases/${database}`,
  type: 'google.cloud.firestore.document.v1.created',
  subject: 'documents/orders/o-1',
  datacontenttype: 'application/json',
  data: { value: { name: `projects/p/databases/${database}/documents/orders/o-1`, fields: { total: { integerValue: '5' } } } },
});

const rtdb = (instance: string, location = 'europe-west1') => ({
  specversion: '1.0',
  id: ID,
  source: `//firebasedatabase.googleapis.com/projects/_/locations/${location}/instances/${instance}`,
  type: 'google.firebase.database.ref.v1.created',
  ref: 'users/u1',
  data: { data: null, delta: { name: 'Ada' } },
});

const pubsub = (topic: string, messageId: string, subscription?: string) => ({
  specversion: '1.0',
  id: messageId,
  source: `//pubsub.googleapis.com/projects/p/topics/${topic}`,
  type: 'google.cloud.pubsub.topic.v1.messagePublished',
  datacontenttype: 'application/json',
  data: {
    message: { messageId, data: Buffer.from('{"aggregateId":"a-1"}').toString('base64'), attributes: {} },
    ...(subscription ? { subscription: `projects/p/subscriptions/${subscription}` } : {}),
  },
});

describe('GCP CloudEvents of one id from two sources are two deliveries', () => {
  it('Cloud Storage: two buckets, one id → two delivery ids, each `<source>#<id>`; a redelivery keeps its own', async () => {
    const { seen, main } = recorder();
    await main.gcpEvent(storage('invoices'));
    await main.gcpEvent(storage('avatars'));
    await main.gcpEvent(storage('invoices'));
    expect(seen.map((ctx) => ctx.deliveryId)).toEqual([
      `//storage.googleapis.com/projects/_/buckets/invoices#${ID}`,
      `//storage.googleapis.com/projects/_/buckets/avatars#${ID}`,
      `//storage.googleapis.com/projects/_/buckets/invoices#${ID}`,
    ]);
  });

  it('Firestore: the (default) database and tenant-b, one id → two delivery ids', async () => {
    const { seen, main } = recorder();
    await main.gcpEvent(firestore('(default)'));
    await main.gcpEvent(firestore('tenant-b'));
    expect(seen.map((ctx) => ctx.deliveryId)).toEqual([`//firestore.googleapis.com/projects/p/databases/(default)#${ID}`, `//firestore.googleapis.com/projects/p/databases/tenant-b#${ID}`]);
  });

  it('Realtime Database: two instances, one id → two delivery ids (named without the location)', async () => {
    const { seen, main } = recorder();
    await main.gcpEvent(rtdb('shop-eu'));
    await main.gcpEvent(rtdb('shop-us', 'us-central1'));
    expect(seen.map((ctx) => ctx.deliveryId)).toEqual([`//firebasedatabase.googleapis.com/projects/_/instances/shop-eu#${ID}`, `//firebasedatabase.googleapis.com/projects/_/instances/shop-us#${ID}`]);
  });

  it('background (1st gen) events: two buckets, two databases, two instances → two ids each, as under the CloudEvent signature', async () => {
    const { seen, main } = recorder();
    const object = { bucket: 'x', name: 'a.pdf', size: '3' };
    const legacy = (eventType: string, resource: string, data: unknown) => main.gcpBackground(data, { eventId: ID, eventType, resource, timestamp: '2026-12-07T10:00:00.000Z' });
    await legacy('google.storage.object.finalize', 'projects/_/buckets/invoices/objects/a.pdf', object);
    await legacy('google.storage.object.finalize', 'projects/_/buckets/avatars/objects/a.pdf', object);
    await legacy('providers/cloud.firestore/eventTypes/document.create', 'projects/p/databases/(default)/documents/orders/o-1', { value: { fields: {} } });
    await legacy('providers/cloud.firestore/eventTypes/document.create', 'projects/p/databases/tenant-b/documents/orders/o-1', { value: { fields: {} } });
    await legacy('providers/google.firebase.database/eventTypes/ref.create', 'projects/_/instances/shop-eu/refs/users/u1', { data: null, delta: 1 });
    await main.gcpEvent(rtdb('shop-eu'));
    expect(seen.map((ctx) => ctx.deliveryId)).toEqual([
      `//storage.googleapis.com/projects/_/buckets/invoices#${ID}`,
      `//storage.googleapis.com/projects/_/buckets/avatars#${ID}`,
      `//firestore.googleapis.com/projects/p/databases/(default)#${ID}`,
      `//firestore.googleapis.com/projects/p/databases/tenant-b#${ID}`,
      `//firebasedatabase.googleapis.com/projects/_/instances/shop-eu#${ID}`,
      `//firebasedatabase.googleapis.com/projects/_/instances/shop-eu#${ID}`,
    ]);
  });

  it('Pub/Sub: topics payments and shipments, one message id → two delivery ids, scoped by the topic whatever the subscription', async () => {
    const { seen, main } = recorder();
    const id = '2070443601311540';
    await main.gcpEvent(pubsub('payments', id, 'payments-sub'));
    await main.gcpEvent(pubsub('shipments', id, 'shipments-sub'));
    await main.gcpEvent(pubsub('payments', id));
    expect(seen.map((ctx) => ctx.deliveryId)).toEqual([`//pubsub.googleapis.com/projects/p/topics/payments#${id}`, `//pubsub.googleapis.com/projects/p/topics/shipments#${id}`, `//pubsub.googleapis.com/projects/p/topics/payments#${id}`]);
    // The trigger still carries the message id as sent.
    expect(seen.map((ctx) => (ctx.trigger.kind === 'queue' ? ctx.trigger.messageId : undefined))).toEqual([id, id, id]);
  });

  it('an id holding `#` is escaped, so no two (source, id) pairs share a delivery id', async () => {
    const { seen, main } = recorder();
    await main.gcpEvent(storage('a', 'b#1'));
    await main.gcpEvent({ ...storage('a#b', '1'), data: { bucket: 'a', name: 'a.pdf' } });
    expect(new Set(seen.map((ctx) => ctx.deliveryId)).size).toBe(2);
  });
});
