/**
 * Review s52 (handler's GCP delivery ids, seen through this plugin with its memory store):
 * - Cloud Storage, Firestore and Realtime Database CloudEvents were keyed by the bare event id,
 *   unique only within its source: an object finalized in bucket `avatars` with the id of one
 *   in `invoices` was answered with the first one's replay and never ran. The handler now keys
 *   them `<source>#<id>`.
 * - The handler now scopes a Pub/Sub message's `ctx.deliveryId` by its topic too. This plugin
 *   already keyed Pub/Sub messages `<messageId>\0<subscription or topic>`; the key is still
 *   built from the bare message id, so it is the same as before (no double scoping, and a
 *   message redelivered across the upgrade still finds its record).
 */
import { describe, expect, it } from 'vitest';
import { handler, type Context } from '@steadyfn/handler';
import { idempotency, memoryStore } from '../src/index.js';
import { resolveKey } from '../src/key.js';
import { silentSink } from './support.js';

const ID = '9182736455647382';

const storage = (bucket: string) => ({
  specversion: '1.0',
  id: ID,
  source: `//storage.googleapis.com/projects/_/buckets/${bucket}`,
  type: 'google.cloud.storage.object.v1.finalized',
  datacontenttype: 'application/json',
  data: { bucket, name: 'a.pdf', size: '3', generation: '1' },
});

const pubsub = (topic: string, messageId: string, subscription?: string) => ({
  specversion: '1.0',
  id: messageId,
  source: `//pubsub.googleapis.com/projects/p/topics/${topic}`,
  type: 'google.cloud.pubsub.topic.v1.messagePublished',
  datacontenttype: 'application/json',
  data: { message: { messageId, data: Buffer.from('{}').toString('base64') }, ...(subscription ? { subscription } : {}) },
});

describe('GCP CloudEvents of one id from two sources, through idempotency', () => {
  it('Cloud Storage: invoices and avatars, one event id → both run; a redelivery runs once', async () => {
    const runs: string[] = [];
    const main = handler({ use: [idempotency({ store: memoryStore(), ttlMs: 3_600_000 })], logSink: silentSink() }, (input: unknown) => void runs.push((input as { bucket: string }).bucket));
    await main.gcpEvent(storage('invoices'));
    await main.gcpEvent(storage('avatars'));
    await main.gcpEvent(storage('invoices'));
    expect(runs).toEqual(['invoices', 'avatars']);
  });

  it('Pub/Sub: the key is `<messageId>\\0<subscription, else topic>`, as before the handler scoped ctx.deliveryId', async () => {
    const seen: Context[] = [];
    const main = handler({ logSink: silentSink() }, (_input, ctx) => void seen.push(ctx));
    const id = '2070443601311540';
    await main.gcpEvent(pubsub('payments', id, 'projects/p/subscriptions/payments-sub'));
    await main.gcpEvent(pubsub('payments', id));
    expect(seen[0]!.deliveryId).toBe(`//pubsub.googleapis.com/projects/p/topics/payments#${id}`);
    expect(seen.map((ctx) => resolveKey(ctx, 'auto'))).toEqual([
      { kind: 'delivery', value: `${id}\0projects/p/subscriptions/payments-sub` },
      { kind: 'delivery', value: `${id}\0//pubsub.googleapis.com/projects/p/topics/payments` },
    ]);
  });
});
