/**
 * Review finding (s53): `nonEmptyStr` made a blank (`""`/whitespace) id no id for EventBridge,
 * Kinesis, Pub/Sub, CloudEvents and SNS-in-SQS, but these sources still took a whitespace-only
 * id as a real one (`needString` refuses only `""`, `idText`/`asText` kept `"  "`), so every such
 * event shared one delivery id: Event Grid `id`, Firestore/Realtime Database/Cloud Storage `id`,
 * the SNS trigger's `MessageId`, CouchDB `id`, Cosmos DB `_lsn`, Event Hubs and Service Bus
 * sequence numbers and message ids, the Azure storage queue message id. Each now refuses the
 * blank id (MALFORMED_EVENT, the field named) or falls back the way the source documents.
 */
import { describe, expect, it } from 'vitest';
import { MalformedEventError } from '../src/errors.js';
import { couchDbItem } from '../src/events/couchdb.js';
import { cosmosItems } from '../src/events/cosmos.js';
import { eventGridItem } from '../src/events/event-grid.js';
import { eventHubsItems } from '../src/events/event-hubs.js';
import { firestoreItem, realtimeDatabaseItem } from '../src/events/firebase.js';
import { cloudStorageItem } from '../src/events/gcs.js';
import { snsItems } from '../src/events/sns.js';
import { queueMessageInvocation, serviceBusInvocations } from '../src/providers/azure-messages.js';
import type { AzureInvocationContext } from '../src/providers/azure.js';

const BLANKS = ['   ', '\t', ''];
const options = { body: 'auto' } as const;

/** The MALFORMED_EVENT `fn` throws, with the fields it names. */
function refusal(fn: () => unknown): { code: string; fields: string[] } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedEventError);
    const e = error as MalformedEventError;
    return { code: e.code, fields: (e.issues ?? []).map((i) => i.field) };
  }
  throw new Error('accepted a blank id');
}

const azure = (triggerMetadata: Record<string, unknown>, trigger?: Record<string, unknown>): AzureInvocationContext =>
  ({ invocationId: 'inv-1', triggerMetadata, ...(trigger ? { options: { trigger } } : {}) }) as unknown as AzureInvocationContext;

describe.each(BLANKS)('a blank id (%j) is refused or replaced, never a shared delivery id', (blank) => {
  it('Event Grid: MALFORMED_EVENT naming the id', () => {
    const event = { id: blank, eventType: 'Custom.Thing', subject: 's', eventTime: '2026-01-01T00:00:00Z', topic: '/t', data: {}, dataVersion: '1' };
    expect(refusal(() => eventGridItem(event, options, 0, 1, 'events.0'))).toEqual({ code: 'MALFORMED_EVENT', fields: ['events.0.id'] });
  });

  it('Firestore, Realtime Database and Cloud Storage CloudEvents: MALFORMED_EVENT naming the id', () => {
    const base = { specversion: '1.0', id: blank };
    const firestore = { ...base, type: 'google.cloud.firestore.document.v1.written', source: '//firestore.googleapis.com/projects/p/databases/(default)', document: 'users/a' };
    const rtdb = { ...base, type: 'google.firebase.database.ref.v1.written', source: '//firebasedatabase.googleapis.com/projects/_/locations/us-central1/instances/i', ref: 'a' };
    const gcs = { ...base, type: 'google.cloud.storage.object.v1.finalized', source: '//storage.googleapis.com/projects/_/buckets/b' };
    expect(refusal(() => firestoreItem(firestore, {}))).toEqual({ code: 'MALFORMED_EVENT', fields: ['id'] });
    expect(refusal(() => realtimeDatabaseItem(rtdb, { data: null, delta: {} }))).toEqual({ code: 'MALFORMED_EVENT', fields: ['id'] });
    expect(refusal(() => cloudStorageItem(gcs, { bucket: 'b', name: 'k' }))).toEqual({ code: 'MALFORMED_EVENT', fields: ['id'] });
  });

  it('SNS trigger: MALFORMED_EVENT naming the MessageId', () => {
    const record = { EventSource: 'aws:sns', Sns: { MessageId: blank, TopicArn: 'arn:aws:sns:eu-west-1:1:t', Message: 'hi', Type: 'Notification' } };
    expect(refusal(() => snsItems([record], options))).toEqual({ code: 'MALFORMED_EVENT', fields: ['Records.0.Sns.MessageId'] });
  });

  it('CouchDB change: MALFORMED_EVENT naming the id', () => {
    expect(refusal(() => couchDbItem({ id: blank, seq: '1-a', changes: [{ rev: '1-abc' }], dbname: 'd' }))).toEqual({ code: 'MALFORMED_EVENT', fields: ['id'] });
  });

  it('Cosmos DB: a blank _lsn falls back to the _etag, as a missing one does', () => {
    const doc = (rid: string, etag: string) => ({ id: 'a', _rid: rid, _lsn: blank, _etag: etag, _ts: 1 });
    const ids = cosmosItems([doc('r1', '"e1"'), doc('r1', '"e2"')], 'c', 'acct/db/c').map((i) => i.deliveryId);
    expect(ids).toEqual(['acct/db/c/r1@"e1"', 'acct/db/c/r1@"e2"']);
  });

  it('Event Hubs: a blank sequence number falls back to the system properties, else MALFORMED_EVENT', () => {
    const meta = { partitionContext: { eventHubName: 'h', partitionId: '0' }, sequenceNumber: blank, systemProperties: { sequenceNumber: 7 } };
    expect(eventHubsItems({ a: 1 }, meta, false, options)[0]!.deliveryId).toMatch(/\/7$/);
    const bare = { partitionContext: { eventHubName: 'h', partitionId: '0' }, sequenceNumber: blank };
    expect(refusal(() => eventHubsItems({ a: 1 }, bare, false, options))).toEqual({ code: 'MALFORMED_EVENT', fields: ['triggerMetadata.sequenceNumber'] });
  });

  it('Service Bus: a blank sequence number falls back to the message id; both blank is MALFORMED_EVENT', () => {
    const keyed = serviceBusInvocations({ a: 1 }, azure({ sequenceNumber: blank, messageId: 'm-1' }, { queueName: 'q' }), 'auto', undefined, undefined);
    expect(keyed.invocations[0]!.deliveryId).toBe('m-1');
    const bare = () => serviceBusInvocations({ a: 1 }, azure({ sequenceNumber: blank, messageId: blank }, { queueName: 'q' }), 'auto', undefined, undefined);
    expect(refusal(bare)).toEqual({ code: 'MALFORMED_EVENT', fields: ['triggerMetadata.sequenceNumber'] });
  });

  it('Azure storage queue: MALFORMED_EVENT naming the id (metadata and host text alike)', () => {
    expect(refusal(() => queueMessageInvocation('hi', azure({ id: blank }), 'auto', undefined, undefined))).toEqual({ code: 'MALFORMED_EVENT', fields: ['triggerMetadata.id'] });
  });
});

it('real ids are kept (the blank rule changes nothing else)', () => {
  expect(couchDbItem({ id: ' a ', seq: '1-a', changes: [{ rev: '1-abc' }], dbname: 'd' }).trigger).toMatchObject({ key: ' a ' });
  const record = { EventSource: 'aws:sns', Sns: { MessageId: 'm-1', TopicArn: 't', Message: 'hi' } };
  expect(snsItems([record], options)[0]!.deliveryId).toBe('m-1');
  expect(queueMessageInvocation('hi', azure({ id: 'q-1' }), 'auto', undefined, undefined).deliveryId).toContain('q-1');
});
