/**
 * Review finding (s52): a Kinesis record whose `eventID` is empty was keyed by
 * `<eventSourceARN>/` — the same delivery id for every such record of the stream, so
 * `@steadyfn/idempotency` answered the second record with the first's result and never ran it.
 * An empty `eventID` is now read as none: the record is keyed by its position,
 * `<eventSourceARN>/:<sequenceNumber>`, as a record without one already was, and an EventBridge
 * Pipe's failure names it by its sequence number (as for a record without an `eventID`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runOnAwsEntries, sample } from './support/published.js';

const batch = () => JSON.parse(readFileSync(new URL('./fixtures/aws/kinesis-batch.json', import.meta.url), 'utf8')) as { Records: Array<Record<string, any>> };
const ARN = 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders';

describe('Kinesis: a record with an empty eventID', () => {
  it('two records with empty eventIDs and different sequence numbers get different delivery ids, never the bare ARN', async () => {
    const event = batch();
    event.Records = event.Records.slice(0, 2).map((r) => ({ ...r, eventID: '' }));
    const [a, b] = event.Records.map((r) => r.kinesis.sequenceNumber as string);
    const run = await runOnAwsEntries(event);
    expect(run.seen.map((s) => s.ctx.deliveryId)).toEqual([`${ARN}/:${a}`, `${ARN}/:${b}`]);
    expect(run.seen.map((s) => s.ctx.deliveryId)).not.toContain(`${ARN}/`);
    // The same as a record without an eventID at all.
    const absent = batch();
    absent.Records = absent.Records.slice(0, 1).map(({ eventID: _id, ...r }) => r);
    expect((await runOnAwsEntries(absent)).seen[0]!.ctx.deliveryId).toBe(`${ARN}/:${a}`);
  });

  it('in an EventBridge Pipe array, records with an empty eventID get distinct delivery ids and a failure is named by its sequence number', async () => {
    const records = sample('aws', 'ebpipes-kinesis.json') as unknown as Array<Record<string, any>>;
    for (const r of records) r.eventID = '';
    const run = await runOnAwsEntries(records, (_input, ctx) => {
      if (ctx.trigger.kind === 'stream' && ctx.trigger.batchIndex === 1) throw new Error('asked to fail');
    });
    const ids = run.seen.map((s) => s.ctx.deliveryId);
    expect(new Set(ids).size).toBe(2);
    expect(run.answer).toEqual({ batchItemFailures: [{ itemIdentifier: records[1]!.sequenceNumber }] });
  });
});
