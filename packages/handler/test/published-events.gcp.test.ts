/**
 * Google Cloud events shaped like the published samples (googleapis/google-cloudevents
 * examples and schemas; the Functions Framework's legacy-event tests; see
 * test/fixtures/gcp/published/SOURCES.md), sent over HTTP to the real Functions Framework:
 * once to a CloudEvent function (`functions.cloudEvent`, binary and structured content modes,
 * and legacy events the framework converts) and once to a background function (the `event`
 * signature, `main(data, context)`), through the auto-detecting root and `@steadyfn/handler/gcp`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { handler, type Context } from '../src/index.js';
import { handler as gcpHandler } from '../src/gcp.js';
import { closeServers, serve, serveBackground } from './support/gcp-server.js';
import { failWhenAsked, published, recorder, type Json } from './support/published.js';

afterAll(closeServers);

/** How a fixture goes over the wire: binary mode (`headers` + `body`), or a JSON body (structured CloudEvent or legacy event). */
function request(fixture: Json): { headers: Record<string, string>; body: string } {
  if (fixture.headers && fixture.body) return { headers: fixture.headers as Record<string, string>, body: JSON.stringify(fixture.body) };
  const structured = typeof fixture.specversion === 'string';
  return { headers: { 'content-type': structured ? 'application/cloudevents+json' : 'application/json' }, body: JSON.stringify(fixture) };
}

type Seen = ReturnType<typeof recorder>['seen'];

/** Sends the fixture to a CloudEvent function and to a background function, each wrapped by both entries. */
async function everyWay(fixture: Json, result: (input: unknown, ctx: Context) => unknown = () => undefined, droppedByConversion: string[] = []) {
  const runs: Array<{ how: string; seen: Seen; status: number }> = [];
  for (const entry of ['root', 'gcp'] as const) {
    for (const signature of ['cloudEvent', 'event'] as const) {
      const { seen, fn } = recorder(result);
      const main = entry === 'root' ? handler({ logSink: () => undefined }, fn) : gcpHandler({ logSink: () => undefined }, fn);
      const url = signature === 'cloudEvent' ? await serve('cloudEvent', main) : await serveBackground(main);
      const { headers, body } = request(fixture);
      const res = await fetch(url, { method: 'POST', headers, body });
      await res.arrayBuffer();
      runs.push({ how: `${entry}/${signature}`, seen, status: res.status });
    }
  }
  const [first, ...others] = runs;
  // What the framework's CloudEvent → background conversion does not carry (e.g. the Pub/Sub subscription).
  const view = (seen: Seen, background: boolean) =>
    seen.map((s) => [s.input, Object.fromEntries(Object.entries(s.ctx.trigger).filter(([k]) => !background || !droppedByConversion.includes(k))), s.ctx.deliveryId, s.ctx.provider]);
  for (const other of others) {
    const background = other.how.endsWith('/event');
    expect({ how: other.how, seen: view(other.seen, background) }).toEqual({ how: other.how, seen: view(first!.seen, background) });
    expect({ how: other.how, status: other.status }).toEqual({ how: other.how, status: first!.status });
  }
  return first!;
}

describe('Pub/Sub', () => {
  it('a structured CloudEvent: text kept exact, ids, attempt, attributes and subscription', async () => {
    const { seen, status } = await everyWay(published('gcp', 'pubsub-structured.json'));
    expect(status).toBe(204);
    expect(seen[0]!.input).toBe('89e7073266');
    expect(seen[0]!.ctx.provider).toBe('gcp');
    expect(seen[0]!.ctx.trigger).toEqual({
      kind: 'queue',
      source: 'pubsub',
      queue: 'projects/demo-proj/subscriptions/eventarc-europe-west1-orders-sub-001',
      messageId: '11047523872344113',
      attempt: 2,
      attributes: { tenant: 'acme' },
      batchIndex: 0,
      batchSize: 1,
    });
    expect(seen[0]!.ctx.deliveryId).toBe('//pubsub.googleapis.com/projects/demo-proj/topics/orders#11047523872344113');
  });

  it('a binary-mode CloudEvent whose data is not UTF-8: the bytes', async () => {
    // The framework hands a background function the message without its subscription.
    const { seen } = await everyWay(published('gcp', 'pubsub-binary.json'), undefined, ['queue']);
    expect(seen[0]!.input).toEqual(Buffer.from([0xff, 0xfe, 0x00, 0x80]));
    expect(seen[0]!.ctx.deliveryId).toBe('//pubsub.googleapis.com/projects/demo-proj/topics/orders#11047523872344114');
  });

  it('a legacy (background) Pub/Sub event: the message id is the event id', async () => {
    const { seen } = await everyWay(published('gcp', 'legacy-pubsub.json'));
    expect(seen[0]!.input).toEqual({ orderId: 'o-9' });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'queue', source: 'pubsub', messageId: '1215011316659232', attributes: { tenant: 'acme' } });
    expect(seen[0]!.ctx.deliveryId).toBe('//pubsub.googleapis.com/projects/demo-proj/topics/orders#1215011316659232');
  });

  it('a failure answers non-2xx so Pub/Sub redelivers, on both signatures', async () => {
    const fixture = published('gcp', 'pubsub-structured.json');
    fixture.data.message.data = Buffer.from('{"fail":true}').toString('base64');
    const { seen, status } = await everyWay(fixture, failWhenAsked);
    expect(seen).toHaveLength(1);
    expect(status).toBe(500);
  });

  it('Cloud Scheduler through Pub/Sub is a queue message carrying the job payload', async () => {
    const { seen } = await everyWay(published('gcp', 'scheduler-pubsub.json'));
    expect(seen[0]!.input).toEqual({ job: 'nightly' });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'queue', queue: 'projects/demo-proj/subscriptions/nightly-sub' });
  });
});

describe('Cloud Storage', () => {
  it('a finalized object: the name as sent (no decoding), size as a number, generation as versionId', async () => {
    const { seen } = await everyWay(published('gcp', 'storage-binary.json'));
    expect(seen[0]!.input).toEqual({
      op: 'created',
      bucket: 'media-in',
      key: 'folder/My File+1.txt',
      size: 352,
      etag: 'CKDh6Lv4xYQDEAE=',
      contentType: 'text/plain',
      versionId: '1740928200000000',
      time: '2025-03-02T15:10:00.000Z',
    });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'storage', source: 'cloud-storage', eventType: 'google.cloud.storage.object.v1.finalized' });
    expect(seen[0]!.ctx.deliveryId).toBe('//storage.googleapis.com/projects/_/buckets/media-in#7b9f2e4a1c3d5e6f-1');
  });

  it('a legacy object.change for an object that no longer exists is a deletion', async () => {
    const { seen } = await everyWay(published('gcp', 'legacy-storage-delete.json'));
    expect(seen[0]!.input).toMatchObject({ op: 'deleted', bucket: 'media-in', key: 'old/report.pdf', size: 1024, versionId: '1740929000000000' });
    expect(seen[0]!.ctx.deliveryId).toBe('//storage.googleapis.com/projects/_/buckets/media-in#1147091835525187');
  });
});

describe('Firestore and Realtime Database', () => {
  it('a JSON-encoded Firestore write: values decoded, the big integer of the old value kept as text', async () => {
    const { seen } = await everyWay(published('gcp', 'firestore-json.json'));
    expect(seen[0]!.input).toEqual({ visits: 42, tags: ['x'], at: '2025-03-02T15:20:00Z', nested: { ok: true }, nothing: null });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'change', source: 'firestore', collection: 'users', key: 'users/ada', op: 'update', before: { visits: '9007199254740993' }, encoding: 'json' });
    expect(seen[0]!.ctx.deliveryId).toBe('//firestore.googleapis.com/projects/demo-proj/databases/(default)#d6e0f5a3-2b1c-4d8e-9f7a-6b5c4d3e2f1a');
  });

  it('a legacy Firestore write of a new document (oldValue {}) is an insert without a before image', async () => {
    const { seen } = await everyWay(published('gcp', 'legacy-firestore.json'));
    expect(seen[0]!.input).toEqual({ total: 12.5, sku: 'lamp-04' });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'change', source: 'firestore', key: 'orders/o-77', collection: 'orders', op: 'insert' });
    expect(seen[0]!.ctx.trigger).not.toHaveProperty('before');
  });

  it('a legacy Realtime Database write: delta applied to data', async () => {
    const { seen } = await everyWay(published('gcp', 'legacy-rtdb.json'));
    expect(seen[0]!.input).toEqual({ name: 'Ada', age: 37, city: 'London' });
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'change', source: 'firebase-rtdb', key: 'users/u1', collection: 'users', op: 'update', before: { name: 'Ada', age: 36 } });
    expect(seen[0]!.ctx.deliveryId).toBe('//firebasedatabase.googleapis.com/projects/_/instances/demo-rtdb#/SnHth9OSlzK1Puj85kk4tDbF90=');
  });
});

describe('other CloudEvents', () => {
  it('an Audit Log entry is a generic event with its data', async () => {
    const fixture = published('gcp', 'audit-log.json');
    const { seen } = await everyWay(fixture);
    expect(seen[0]!.ctx.trigger).toMatchObject({ kind: 'event', source: 'cloudevent', type: 'google.cloud.audit.log.v1.written', id: fixture.id });
    expect(seen[0]!.ctx.deliveryId).toBe(`${fixture.source}#${fixture.id}`);
    expect(seen[0]!.input).toEqual(fixture.data);
  });
});
