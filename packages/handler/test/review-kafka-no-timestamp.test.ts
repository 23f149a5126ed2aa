/**
 * Review finding (rvh): a Kafka record without a timestamp — Kafka's `NO_TIMESTAMP` (-1) with
 * `timestampType: 'NO_TIMESTAMP_TYPE'` (the name of Kafka's `TimestampType` value, as Lambda
 * sends `CREATE_TIME` / `LOG_APPEND_TIME`), written by a pre-0.10 producer or message format —
 * got `ctx.trigger.time` 1969-12-31T23:59:59.999Z. It has no time: `time` is left out. The
 * event is Powertools for AWS Lambda (Python)'s published MSK sample (ptpy-kafka-msk.json, see
 * test/fixtures/samples/SOURCES.md) with the record's timestamp changed to none. Idempotency
 * keys such a record by its delivery id alone (packages/idempotency/src/stream-position.ts,
 * `positionKey`), the same on every redelivery.
 */
import { describe, expect, it } from 'vitest';
import { runOnAwsEntries, sample } from './support/published.js';

function withTimestamp(timestamp: number, timestampType: string) {
  const event = sample('aws', 'ptpy-kafka-msk.json');
  const record = event.records['mytopic-0'][0];
  record.timestamp = timestamp;
  record.timestampType = timestampType;
  return event;
}

describe('Kafka on Lambda: a record without a timestamp has no time', () => {
  it('timestamp -1 with NO_TIMESTAMP_TYPE: no ctx.trigger.time', async () => {
    const run = await runOnAwsEntries(withTimestamp(-1, 'NO_TIMESTAMP_TYPE'));
    // Only the first record lost its timestamp; the others keep theirs.
    expect(run.seen.slice(1).every((s) => typeof s.ctx.trigger.kind === 'string' && 'time' in s.ctx.trigger)).toBe(true);
    expect(run.seen[0]!.ctx.trigger).toMatchObject({ kind: 'stream', source: 'kafka', stream: 'mytopic', partition: '0', sequence: '15' });
    expect(run.seen[0]!.ctx.trigger).not.toHaveProperty('time');
  });

  it('any negative timestamp, or NO_TIMESTAMP_TYPE whatever the number: no time', async () => {
    for (const event of [withTimestamp(-5, 'CREATE_TIME'), withTimestamp(1545084650987, 'NO_TIMESTAMP_TYPE')]) {
      const run = await runOnAwsEntries(event);
      expect(run.seen[0]!.ctx.trigger).not.toHaveProperty('time');
    }
  });

  it('the published sample keeps its time', async () => {
    const run = await runOnAwsEntries(sample('aws', 'ptpy-kafka-msk.json'));
    expect(run.seen[0]!.ctx.trigger).toMatchObject({ time: '2018-12-17T22:10:50.987Z' });
  });
});
