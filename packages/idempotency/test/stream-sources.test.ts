/**
 * One function fed by two streams. Kinesis shard ids (`shardId-000000000000` …) repeat in
 * every stream, and sequence numbers are only unique inside a stream, so the delivery id
 * (what `key: 'auto'` keys a stream record by) must carry the stream: before, a record of the
 * second stream whose `eventID` (Kinesis) or `SequenceNumber` (DynamoDB Streams) matched one
 * of the first stream's was answered as a replay and never ran. Redeliveries of the same
 * record still run once. Published sample events through the Lambda adapter, on each real store.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { idempotency } from '../src/index.js';
import { BACKENDS, lambdaContext, silentSink, useBackend } from './support.js';

const fixture = (path: string): { Records: Array<Record<string, any>> } => JSON.parse(readFileSync(new URL(`../../handler/test/fixtures/aws/${path}`, import.meta.url), 'utf8'));

/** The first record of a published batch, as delivered by another stream of the same account. */
function fromSource(path: string, arn: string): { Records: Array<Record<string, any>> } {
  const record = structuredClone(fixture(path).Records[0]!);
  record.eventSourceARN = arn;
  return { Records: [record] };
}

const SOURCES = [
  {
    name: 'Kinesis',
    fixture: 'kinesis-batch.json',
    arns: ['arn:aws:kinesis:eu-west-1:123456789012:stream/orders', 'arn:aws:kinesis:eu-west-1:123456789012:stream/refunds'],
  },
  {
    name: 'DynamoDB Streams',
    fixture: 'dynamodb-streams-batch.json',
    arns: ['arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/2025-03-14T09:12:45.311', 'arn:aws:dynamodb:eu-west-1:123456789012:table/Refunds/stream/2025-03-14T09:12:45.311'],
  },
] as const;

describe.each(BACKENDS)('one function, two streams, on %s', (name) => {
  const backend = useBackend(name);

  it.each(SOURCES)('$name: the same record id in two streams runs twice; a redelivery runs once', async (source) => {
    const ran: string[] = [];
    const main = handler({ name: `streams-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: false })] }, (_input, ctx) => {
      ran.push(ctx.deliveryId ?? '');
    });
    const [first, second] = source.arns.map((arn) => fromSource(source.fixture, arn));
    for (const event of [first, second, first, second]) {
      expect(await main.aws(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    }
    expect(ran).toHaveLength(2);
    expect(new Set(ran).size).toBe(2);
    for (const [i, arn] of source.arns.entries()) expect(ran[i]!.startsWith(`${arn}/`)).toBe(true);
  });
});
