/**
 * Review finding (s51 MEDIUM): an EventBridge event delivered twice into SQS got two delivery
 * ids. EventBridge retries a target for up to 24 hours and 185 times ("Event retry policy and
 * using dead-letter queues"), and a `SendMessage` that succeeded but timed out is sent again:
 * SQS gives the copy a new message id, so `@steadyfn/idempotency` ran the event twice. The same
 * event invoking Lambda directly is keyed by its `id`. A body that is a whole EventBridge event
 * is now keyed by the event id (a scheduled tick by `<schedule>@<time>`, a replay scoped by its
 * `replay-name`); the SQS message id stays on the trigger and in `batchItemFailures`. The
 * idempotency plugin's view: packages/idempotency/test/review-delivery-keys.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { handler } from '../src/index.js';
import { lambdaContext, runOnAwsEntries } from './support/published.js';
import { sqsRecord } from './support/sqs.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/aws/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
const custom = fixture('eventbridge-custom-event.json');
const M1 = '11111111-1111-4111-8111-111111111111';
const M2 = '22222222-2222-4222-8222-222222222222';

describe('EventBridge → SQS: one event is one delivery, however many SQS copies', () => {
  it('two SQS copies of one event get the event id as deliveryId; messageId and batchItemFailures stay the SQS ids', async () => {
    const run = await runOnAwsEntries({ Records: [sqsRecord(M1, custom), sqsRecord(M2, custom)] }, (_input, ctx) => {
      if (ctx.trigger.kind === 'queue' && ctx.trigger.batchIndex === 1) throw new Error('asked to fail');
    });
    expect(run.seen.map((s) => s.ctx.deliveryId)).toEqual([custom.id, custom.id]);
    expect(run.seen.map((s) => s.ctx.trigger)).toMatchObject([
      { kind: 'queue', source: 'sqs', messageId: M1, eventBridge: { id: custom.id, source: 'com.example.checkout', detailType: 'OrderPlaced', time: '2025-03-14T09:41:07Z' } },
      { kind: 'queue', source: 'sqs', messageId: M2, eventBridge: { id: custom.id } },
    ]);
    // The input is still the body as it came: the whole event.
    expect(run.seen[0]!.input).toEqual(custom);
    expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: M2 }] });
  });

  it('a scheduled rule tick: <rule ARN>@<time>, as when it invokes Lambda directly', async () => {
    const tick = fixture('eventbridge-scheduled-rule.json');
    const run = await runOnAwsEntries({ Records: [sqsRecord(M1, tick)] });
    expect(run.seen[0]!.ctx.deliveryId).toBe('arn:aws:events:eu-west-1:123456789012:rule/nightly-report@2025-03-14T10:00:00Z');
  });

  it('an archive replay (replay-name) is its own delivery, so it runs again', async () => {
    const run = await runOnAwsEntries({ Records: [sqsRecord(M1, { ...custom, 'replay-name': 'fix-2025-03' })] });
    expect(run.seen[0]!.ctx.deliveryId).toBe(`replay/fix-2025-03#${custom.id as string}`);
    expect(run.seen[0]!.ctx.trigger).toMatchObject({ eventBridge: { id: custom.id, replayName: 'fix-2025-03' } });
  });

  it('a body of its own with an id and a detail, or a partial event, is keyed by the SQS message id', async () => {
    const { resources: _r, ...noResources } = custom;
    const run = await runOnAwsEntries({ Records: [sqsRecord(M1, { id: 'x', 'detail-type': 'T', detail: {} }), sqsRecord(M2, noResources)] });
    expect(run.seen.map((s) => s.ctx.deliveryId)).toEqual([M1, M2]);
    expect(run.seen.map((s) => s.ctx.trigger)).not.toContainEqual(expect.objectContaining({ eventBridge: expect.anything() }));
  });

  it("eventBridgeEnvelope: 'keep' keys each copy by its SQS message id, as before", async () => {
    const seen: Array<string | undefined> = [];
    const main = handler({ eventBridgeEnvelope: 'keep', logSink: () => undefined }, (_input, ctx) => {
      seen.push(ctx.deliveryId);
      expect(ctx.trigger).not.toHaveProperty('eventBridge');
    });
    await main({ Records: [sqsRecord(M1, custom), sqsRecord(M2, custom)] }, lambdaContext());
    expect(seen.sort()).toEqual([M1, M2]);
    expect(() => handler({ eventBridgeEnvelope: 'unwrap' as never }, () => undefined)).toThrow(/eventBridgeEnvelope/);
  });
});
