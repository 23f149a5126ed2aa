/**
 * Review finding (s53, left alone in s52): an EventBridge event with `id: ""` invoking Lambda
 * directly kept the empty id (`str(event.id) ?? awsRequestId`), so every such event had the same
 * `ctx.deliveryId` — one idempotency key, and the second was answered as a duplicate of the
 * first. The same held for a blank (`"  "`) id there and wherever else an event's own id feeds a
 * delivery id: an EventBridge event in an SQS body, a Kinesis `eventID` (also in an EventBridge
 * Pipe), a Pub/Sub `messageId`, a CloudEvent `id`, an SNS envelope's `MessageId` in an SQS body.
 * An empty or blank id is now none everywhere (`nonEmptyStr`, internal/record.ts): the event
 * is keyed as one without an id is.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { handler, type Context } from '../src/index.js';
import { MalformedEventError } from '../src/errors.js';
import { cloudEventInvocation } from '../src/providers/gcp.js';
import { lambdaContext, runOnAwsEntries, sample } from './support/published.js';
import { sqsRecord } from './support/sqs.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/aws/${name}`, import.meta.url), 'utf8')) as Record<string, any>;
const M1 = '11111111-1111-4111-8111-111111111111';
const M2 = '22222222-2222-4222-8222-222222222222';
const BLANKS = ['', '   ', '\t'];

/** Runs `event` once per Lambda request id: the delivery ids the function saw. */
async function deliveryIds(event: unknown, requestIds: string[]): Promise<Array<string | undefined>> {
  const seen: Context[] = [];
  const main = handler({ logSink: () => {} }, (_input: unknown, ctx: Context) => void seen.push(ctx));
  for (const id of requestIds) await main(structuredClone(event), lambdaContext(id));
  return seen.map((ctx) => ctx.deliveryId);
}

describe('an empty or blank event id is no id', () => {
  it.each(BLANKS)('EventBridge → Lambda directly, id %j: each event its own delivery (the request id), never the blank id', async (blank) => {
    const event = { ...fixture('eventbridge-custom-event.json'), id: blank };
    expect(await deliveryIds(event, ['req-1', 'req-2'])).toEqual(['req-1', 'req-2']);
    const run = await runOnAwsEntries(event);
    expect(run.seen[0]!.ctx.trigger).toMatchObject({ kind: 'event', id: lambdaContext().awsRequestId });
  });

  it('a live event with an id keeps it (the blank rule changes nothing else)', async () => {
    const event = fixture('eventbridge-custom-event.json');
    expect(await deliveryIds(event, ['req-1', 'req-2'])).toEqual([event.id, event.id]);
  });

  it.each(BLANKS)('an EventBridge event in an SQS body with id %j: keyed by its SQS message id, not read as an event', async (blank) => {
    const event = { ...fixture('eventbridge-custom-event.json'), id: blank };
    const run = await runOnAwsEntries({ Records: [sqsRecord(M1, event), sqsRecord(M2, event)] });
    expect(run.seen.map((s) => s.ctx.deliveryId)).toEqual([M1, M2]);
    expect(run.seen.map((s) => (s.ctx.trigger as { eventBridge?: unknown }).eventBridge)).toEqual([undefined, undefined]);
  });

  it('Kinesis records with a blank eventID: keyed by their position, not the bare stream ARN', async () => {
    const event = fixture('kinesis-batch.json');
    event.Records = event.Records.slice(0, 2).map((r: Record<string, unknown>) => ({ ...r, eventID: '  ' }));
    const run = await runOnAwsEntries(event);
    const ids = run.seen.map((s) => s.ctx.deliveryId);
    expect(ids).toEqual(event.Records.map((r: any) => `${r.eventSourceARN}/:${r.kinesis.sequenceNumber}`));
  });

  it('an EventBridge Pipe of Kinesis records with a blank eventID: a failure is named by its sequence number', async () => {
    const records = sample('aws', 'ebpipes-kinesis.json') as unknown as Array<Record<string, any>>;
    for (const r of records) r.eventID = ' ';
    const run = await runOnAwsEntries(records, (_input, ctx) => {
      if (ctx.trigger.kind === 'stream' && ctx.trigger.batchIndex === 1) throw new Error('asked to fail');
    });
    expect(new Set(run.seen.map((s) => s.ctx.deliveryId)).size).toBe(2);
    expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: records[1]!.sequenceNumber }] });
  });

  const pubsub = (message: Record<string, unknown>) => ({
    specversion: '1.0',
    id: 'ce-1',
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    source: '//pubsub.googleapis.com/projects/p/topics/orders',
    data: { message: { data: Buffer.from('{}').toString('base64'), ...message }, subscription: 'projects/p/subscriptions/s' },
  });

  it('Pub/Sub: a blank messageId gives way to message_id, then to the CloudEvent id; never keys by the blank', () => {
    const topic = '//pubsub.googleapis.com/projects/p/topics/orders';
    expect(cloudEventInvocation(pubsub({ messageId: '', message_id: 'm-7' })).deliveryId).toBe(`${topic}#m-7`);
    expect(cloudEventInvocation(pubsub({ messageId: '  ' })).deliveryId).toBe(`${topic}#ce-1`);
  });

  it.each(BLANKS)('a CloudEvent with id %j is malformed (the field named), not keyed <source>#<blank>', (blank) => {
    const event = { specversion: '1.0', id: blank, type: 'com.example.order.placed', source: '//example/orders', data: {} };
    expect(() => cloudEventInvocation(event)).toThrow(MalformedEventError);
    try {
      cloudEventInvocation(event);
    } catch (thrown) {
      expect((thrown as MalformedEventError).issues?.map((i) => i.field)).toEqual(['id']);
    }
  });

  it('an SNS envelope with a blank MessageId in an SQS body fails that message (typed), as an empty one does', async () => {
    const envelope = {
      Type: 'Notification',
      MessageId: '   ',
      TopicArn: 'arn:aws:sns:eu-west-1:123456789012:orders',
      Message: '{"orderId":"o-1"}',
      Timestamp: '2025-03-02T12:00:00.000Z',
      SignatureVersion: '1',
      Signature: 'c2ln',
      SigningCertURL: 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000.pem',
      UnsubscribeURL: 'https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe',
    };
    const run = await runOnAwsEntries({ Records: [sqsRecord(M1, envelope)] });
    expect(run.seen).toHaveLength(0);
    expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: M1 }] });
  });
});
