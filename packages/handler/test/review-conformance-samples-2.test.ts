/**
 * More of the Functions Framework conformance suite's event inputs
 * (GoogleCloudPlatform/functions-framework-conformance `events/generate/data/*-input.json`,
 * unchanged in test/fixtures/samples/gcp/ffc-*.json; paths and commits in SOURCES.md there):
 * legacy Realtime Database `ref.write` events whose delta the change must be read from — a
 * value written where there was none, a subtree added beside a sibling, a subtree removed by a
 * `null` in the delta, a leaf overwritten. Each is sent as the suite sends it, to a CloudEvent
 * function and to a background function of the real Functions Framework, through the root
 * entry and `@steadyfn/handler/gcp`; every way must give the same trigger, input and delivery id.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeServers } from './support/gcp-server.js';
import { CONFORMANCE_ID as ID, CONFORMANCE_RTDB as rtdb, everyWay } from './support/conformance.js';
import { FIRESTORE_COMPLEX_DOCUMENT } from './support/published.js';

afterAll(closeServers);

describe('Functions Framework conformance inputs: legacy Realtime Database writes', () => {
  it('firebase-db3-legacy-input.json: a number written where there was nothing is an insert of that number', async () => {
    const { input, ctx } = await everyWay('ffc-firebase-db3-legacy-input.json');
    expect(input).toBe(10);
    expect(ctx.trigger).toEqual({ ...rtdb, op: 'insert', time: '2020-09-29T11:32:00.000Z' });
    expect(ctx.deliveryId).toBe(`//firebasedatabase.googleapis.com/projects/_/instances/my-project-id#${ID}`);
  });

  it('firebase-db4-legacy-input.json: a subtree added beside a sibling is an update; the value holds both', async () => {
    const { input, ctx } = await everyWay('ffc-firebase-db4-legacy-input.json');
    expect(input).toEqual({ grandchild: 'other changed', deeply: { nested: { text: 'This is deeply nested', text2: 'Second value' } } });
    expect(ctx.trigger).toEqual({ ...rtdb, op: 'update', before: { grandchild: 'other changed' }, time: '2020-09-29T11:32:00.000Z' });
  });

  // Without a `domain` the framework (5.x) cannot convert the event for a CloudEvent function: it
  // answers 500 "Unable convert to firebasedatabase.googleapis.com CloudEvent: invalid domain"
  // before any function runs. A background function receives it as sent.
  it('firebase-db6-legacy-input.json (no domain, to a background function): a null in the delta removes that child; the rest stays', async () => {
    const { input, ctx } = await everyWay('ffc-firebase-db6-legacy-input.json', ['event']);
    expect(input).toEqual({ deeply: { abc: 'def' }, grandchild: 'other changed' });
    expect(ctx.trigger).toEqual({
      ...rtdb,
      op: 'update',
      before: { deeply: { abc: 'def', nested: { text: 'This is deeply nested', text2: 'Second value' } }, grandchild: 'other changed' },
      time: '2020-09-29T11:32:00.000Z',
    });
  });

  it('firebase-db7-legacy-input.json: a leaf overwritten deep down; milliseconds of the time kept', async () => {
    const { input, ctx } = await everyWay('ffc-firebase-db7-legacy-input.json');
    expect(input).toEqual({ deeply: { abc: 10 }, grandchild: 'other changed' });
    expect(ctx.trigger).toEqual({ ...rtdb, op: 'update', before: { deeply: { abc: 'def' }, grandchild: 'other changed' }, time: '2020-09-29T11:32:00.123Z' });
  });
});

describe('Functions Framework conformance inputs: legacy Storage, Pub/Sub and Firestore events', () => {
  it('storage-legacy-input.json ({ context, data } with a resource object): object finalize is a creation of folder/Test.cs, its size a number', async () => {
    const { input, ctx } = await everyWay('ffc-storage-legacy-input.json');
    expect(input).toMatchObject({ op: 'created', bucket: 'some-bucket', key: 'folder/Test.cs', size: 352, etag: 'CNHZkbuF/ugCEAE=', contentType: 'text/plain' });
    expect(ctx.trigger).toMatchObject({ kind: 'storage', source: 'cloud-storage', op: 'created', bucket: 'some-bucket', key: 'folder/Test.cs' });
    expect(ctx.deliveryId).toBe(`//storage.googleapis.com/projects/_/buckets/some-bucket#${ID}`);
  });

  it('legacy_pubsub-legacy-input.json (topic.publish): the text message, its attributes, keyed by the event id', async () => {
    const { input, ctx } = await everyWay('ffc-legacy_pubsub-legacy-input.json');
    expect(input).toBe('This is a sample message');
    expect(ctx.trigger).toMatchObject({ kind: 'queue', source: 'pubsub', messageId: ID, attributes: { attribute1: 'value1' } });
    expect(ctx.deliveryId).toBe(`//pubsub.googleapis.com/projects/sample-project/topics/gcf-test#${ID}`);
  });

  it('firestore_simple-legacy-input.json (document.write of an existing document): an update of gcf-test/2Vm2mI1d0wIaK2Waj5to, the fields decoded, the old ones as before', async () => {
    const { input, ctx } = await everyWay('ffc-firestore_simple-legacy-input.json');
    // integerValue text as a number when exact (README: integers as numbers when exact, else their text).
    expect(input).toEqual({ 'another test': 'asd', count: 4, foo: 'bar' });
    expect(ctx.trigger).toMatchObject({ kind: 'change', source: 'firestore', collection: 'gcf-test', key: 'gcf-test/2Vm2mI1d0wIaK2Waj5to', op: 'update', before: { 'another test': 'asd', count: 3, foo: 'bar' }, time: '2020-09-29T11:32:00.123Z' });
    expect(ctx.deliveryId).toBe(`//firestore.googleapis.com/projects/project-id/databases/(default)#${ID}`);
  });

  it('firestore_complex-legacy-input.json (document.write, oldValue {}): an insert — no document before — with every Firestore value type decoded', async () => {
    const { input, ctx } = await everyWay('ffc-firestore_complex-legacy-input.json');
    expect(input).toEqual(FIRESTORE_COMPLEX_DOCUMENT);
    expect(ctx.trigger).toMatchObject({ kind: 'change', source: 'firestore', collection: 'gcf-test', key: 'gcf-test/IH75dRdeYJKd4uuQiqch', op: 'insert', time: '2020-09-29T11:32:00.000Z' });
    expect((ctx.trigger as { before?: unknown }).before).toBeUndefined();
    expect(ctx.deliveryId).toBe(`//firestore.googleapis.com/projects/project-id/databases/(default)#${ID}`);
  });

  it('storage-cloudevent-input.json (object.v1.finalized): a creation of folder/Test.cs, its size a number', async () => {
    const { input, ctx } = await everyWay('ffc-storage-cloudevent-input.json');
    expect(input).toMatchObject({ op: 'created', bucket: 'some-bucket', key: 'folder/Test.cs', size: 352, etag: 'CNHZkbuF/ugCEAE=', contentType: 'text/plain' });
    expect(ctx.trigger).toMatchObject({ kind: 'storage', source: 'cloud-storage', op: 'created', bucket: 'some-bucket', key: 'folder/Test.cs' });
    expect(ctx.deliveryId).toBe(`//storage.googleapis.com/projects/_/buckets/some-bucket/objects/folder/Test.cs#${ID}`);
  });

  it('legacy_storage_change-cloudevent-input.json (finalized, but resourceState not_exists and a timeDeleted): the deletion the legacy form of the same event is', async () => {
    const { input, ctx } = await everyWay('ffc-legacy_storage_change-cloudevent-input.json');
    expect(input).toMatchObject({ op: 'deleted', bucket: 'sample-bucket', key: 'MyFile' });
    expect(ctx.trigger).toMatchObject({ kind: 'storage', source: 'cloud-storage', op: 'deleted', bucket: 'sample-bucket', key: 'MyFile' });
    expect(ctx.deliveryId).toBe(`//storage.googleapis.com/projects/_/buckets/sample-bucket/objects/MyFile#1588778055917163#${ID}`);
  });

  it('pubsub_text-cloudevent-input.json: the text message, its attributes, the subscription as the queue, keyed by messageId', async () => {
    const { input, ctx } = await everyWay('ffc-pubsub_text-cloudevent-input.json');
    expect(input).toBe('test message 3');
    expect(ctx.trigger).toMatchObject({ kind: 'queue', source: 'pubsub', messageId: ID, attributes: { attr1: 'attr1-value' } });
    expect(ctx.deliveryId).toBe(`//pubsub.googleapis.com/projects/sample-project/topics/gcf-test#${ID}`);
  });
});
