/**
 * The Functions Framework conformance suite's event inputs
 * (GoogleCloudPlatform/functions-framework-conformance `events/generate/data/*-input.json`,
 * unchanged in test/fixtures/samples/gcp/ffc-*.json; paths and commits in SOURCES.md there),
 * sent as the suite sends them — a structured CloudEvent, or a legacy event the framework
 * converts — to a CloudEvent function and to a background function (the `event` signature) of
 * the real Functions Framework, through the root entry and `@steadyfn/handler/gcp`. Every way
 * must give the same trigger, input and delivery id.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeServers } from './support/gcp-server.js';
import { CONFORMANCE_ID as ID, CONFORMANCE_RTDB as rtdb, everyWay } from './support/conformance.js';

afterAll(closeServers);

describe('Functions Framework conformance inputs: Realtime Database', () => {
  it('firebase-db1-legacy-input.json (legacy ref.write, converted by the framework): an insert of the delta', async () => {
    const { input, ctx } = await everyWay('ffc-firebase-db1-legacy-input.json');
    expect(input).toEqual({ grandchild: 'other' });
    expect(ctx.trigger).toEqual({ ...rtdb, op: 'insert', time: '2020-09-29T11:32:00.000Z' });
    expect(ctx.deliveryId).toBe(`//firebasedatabase.googleapis.com/projects/_/instances/my-project-id#${ID}`);
  });

  it('firebase-db2-cloudevent-input.json (document.v1.written): an update, the old value as before', async () => {
    const { input, ctx } = await everyWay('ffc-firebase-db2-cloudevent-input.json');
    expect(input).toEqual({ grandchild: 'other changed' });
    expect(ctx.trigger).toEqual({ ...rtdb, op: 'update', before: { grandchild: 'other' }, time: '2020-09-29T11:32:00.000Z' });
  });

  it('firebase-db5-cloudevent-input.json: the delta merged into the nested value, siblings kept', async () => {
    const { input, ctx } = await everyWay('ffc-firebase-db5-cloudevent-input.json');
    expect(input).toEqual({ deeply: { abc: 'def', nested: { text: 'This is deeply nested', text2: 'Second value' } }, grandchild: 'other changed' });
    expect(ctx.trigger).toMatchObject({ ...rtdb, op: 'update' });
  });

  it('firebase-db8-cloudevent-input.json (ref.v1.written): a delta several levels down', async () => {
    const { input, ctx } = await everyWay('ffc-firebase-db8-cloudevent-input.json');
    expect(input).toEqual({ 'gcf-test': { abc: 10, child1: 'value1', xyz: { deeply: { abc: 12 }, grandchild: 'other changed' } }, 'not-gcf-test': 'Foo' });
    expect(ctx.trigger).toMatchObject({ ...rtdb, op: 'update' });
  });

  it.each(['ffc-firebase-dbdelete1-cloudevent-input.json', 'ffc-firebase-dbdelete1-legacy-input.json'])('%s: a delete, the value as it was', async (file) => {
    const { input, ctx } = await everyWay(file);
    expect(input).toEqual({ grandchild: 'other changed' });
    expect(ctx.trigger).toMatchObject({ ...rtdb, op: 'delete', before: { grandchild: 'other changed' } });
    expect(ctx.deliveryId).toBe(`//firebasedatabase.googleapis.com/projects/_/instances/my-project-id#${ID}`);
  });

  it('firebase-dbdelete2-cloudevent-input.json: a deleted number is the input', async () => {
    const { input, ctx } = await everyWay('ffc-firebase-dbdelete2-cloudevent-input.json');
    expect(input).toBe(10);
    expect(ctx.trigger).toMatchObject({ ...rtdb, op: 'delete', before: 10 });
  });
});

describe('Functions Framework conformance inputs: Pub/Sub and Cloud Storage', () => {
  it('legacy_pubsub-cloudevent-input.json: text data decoded, attributes, the subscription as the queue', async () => {
    const { input, ctx } = await everyWay('ffc-legacy_pubsub-cloudevent-input.json');
    expect(input).toBe('This is a sample message');
    expect(ctx.trigger).toMatchObject({ kind: 'queue', source: 'pubsub', messageId: ID, attributes: { attribute1: 'value1' } });
    expect(ctx.deliveryId).toBe(`//pubsub.googleapis.com/projects/sample-project/topics/gcf-test#${ID}`);
  });

  it('pubsub_binary-cloudevent-input.json: the exact bytes in rawBody', async () => {
    const { ctx } = await everyWay('ffc-pubsub_binary-cloudevent-input.json');
    expect(ctx.trigger).toMatchObject({ kind: 'queue', source: 'pubsub', messageId: ID });
    expect((ctx.trigger as { rawBody?: unknown }).rawBody).toEqual(Buffer.from([1, 2, 3, 4]));
  });

  it('legacy_storage_change-legacy-input.json (object.change of a deleted object): a deletion', async () => {
    const { input, ctx } = await everyWay('ffc-legacy_storage_change-legacy-input.json');
    expect(input).toEqual({ op: 'deleted', bucket: 'sample-bucket', key: 'MyFile', size: 0, etag: 'COu8mb3Dn+kCEAE=', versionId: '1588778055917163', time: '2020-09-29T11:32:00.000Z' });
    expect(ctx.trigger).toMatchObject({ kind: 'storage', source: 'cloud-storage', op: 'deleted', bucket: 'sample-bucket', key: 'MyFile' });
    expect(ctx.deliveryId).toBe(`//storage.googleapis.com/projects/_/buckets/sample-bucket#${ID}`);
  });
});
