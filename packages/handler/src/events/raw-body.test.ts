/**
 * `ctx.trigger.rawBody`: a message's payload exactly as the provider delivered it, before the
 * `body` option read it — through the real adapters, from the published sample events in
 * test/fixtures (see their SOURCES.md). Only the payload (an SNS → SQS envelope's `Message`,
 * not the envelope); undefined where the runtime already parsed the message; kept out of the
 * trigger's enumerable fields, so logs and serialised triggers never carry it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { trigger as azureTrigger } from '@azure/functions';
import { invocationContext } from '../../test/support/azure.js';
import { aggregatedBytes, deaggregateSync, kinesisRecord } from '../../test/support/kinesis-aggregation.js';
import { handler, type Context } from '../index.js';
import type { Trigger } from '../types.js';

type Json = Record<string, any>;
const fixture = (path: string): Json => JSON.parse(readFileSync(new URL(`../../test/fixtures/${path}`, import.meta.url), 'utf8')) as Json;
const lambdaContext = { awsRequestId: 'req-1', functionName: 'fn', getRemainingTimeInMillis: () => 30_000 };

function recorder(body: 'auto' | 'json' = 'json') {
  const triggers: Trigger[] = [];
  const main = handler({ body }, (_input: unknown, ctx: Context) => {
    triggers.push(ctx.trigger);
  });
  return { triggers, main };
}

const rawOf = (trigger: Trigger): unknown => (trigger as { rawBody?: unknown }).rawBody;

describe('ctx.trigger.rawBody', () => {
  it('SQS: each body as sent (aws/published/sqs-no-attributes.json); the parsed input may differ from it', async () => {
    const event = fixture('aws/published/sqs-no-attributes.json');
    const { triggers } = recorder();
    const main = handler({ body: 'text' }, (_input: unknown, ctx: Context) => void triggers.push(ctx.trigger));
    await main.aws(structuredClone(event), lambdaContext);
    expect(triggers.map(rawOf)).toEqual(event.Records.map((r: Json) => r.body));
  });

  it('SNS → SQS: the envelope’s Message, not the envelope (aws/published/sqs-sns-envelope.json)', async () => {
    const event = fixture('aws/published/sqs-sns-envelope.json');
    const { triggers, main } = recorder();
    await main.aws(structuredClone(event), lambdaContext);
    expect(rawOf(triggers[0]!)).toBe((JSON.parse(event.Records[0].body) as Json).Message);
  });

  it('SNS: the Message (aws/published/sns.json)', async () => {
    const event = fixture('aws/published/sns.json');
    const { triggers } = recorder();
    const main = handler({ body: 'text' }, (_input: unknown, ctx: Context) => void triggers.push(ctx.trigger));
    await main.aws(structuredClone(event), lambdaContext);
    expect(rawOf(triggers[0]!)).toBe(event.Records[0].Sns.Message);
  });

  it('Kinesis and Kafka: the decoded bytes; a Kafka tombstone has none (aws/published/kinesis.json, msk.json)', async () => {
    const kinesis = fixture('aws/published/kinesis.json');
    const k = recorder();
    const main = handler({ body: 'bytes' }, (_input: unknown, ctx: Context) => void k.triggers.push(ctx.trigger));
    await main.aws(structuredClone(kinesis), lambdaContext);
    expect(k.triggers.map(rawOf)).toEqual(kinesis.Records.map((r: Json) => Buffer.from(r.kinesis.data as string, 'base64')));
    const msk = fixture('aws/published/msk.json');
    const m = recorder();
    const kafka = handler({ body: 'bytes' }, (_input: unknown, ctx: Context) => void m.triggers.push(ctx.trigger));
    await kafka.aws(structuredClone(msk), lambdaContext);
    const values = Object.values(msk.records as Record<string, Json[]>).flat().map((r) => (r.value === null ? undefined : Buffer.from(r.value as string, 'base64')));
    expect(m.triggers.map(rawOf)).toEqual(values);
    expect(values).toContain(undefined);
  });

  it('Kinesis KPL aggregated record: each user record has its own data, not the aggregated record (aws-kinesis-agg encoder)', async () => {
    const users = [Buffer.from('{"id":9007199254740993}'), Buffer.from('{"id":9007199254740992}'), Buffer.from([0xff, 0x00])];
    const aggregated = await aggregatedBytes(users.map((data, i) => ({ partitionKey: `k-${i}`, data })));
    const event = { Records: [kinesisRecord(aggregated.data, aggregated.partitionKey, '49590338271490256608559692538361571095921575989136588898')] };
    const triggers: Trigger[] = [];
    const main = handler({ kinesisDeaggregate: deaggregateSync }, (_input: unknown, ctx: Context) => void triggers.push(ctx.trigger));
    expect(await main.aws(event, lambdaContext)).toEqual({ batchItemFailures: [] });
    expect(triggers.map(rawOf)).toEqual(users);
  });

  it('Pub/Sub: the decoded message data (gcp/published/pubsub-structured.json)', async () => {
    const event = fixture('gcp/published/pubsub-structured.json');
    const { triggers } = recorder();
    const main = handler({ body: 'text' }, (_input: unknown, ctx: Context) => void triggers.push(ctx.trigger));
    await main.gcpEvent(structuredClone(event));
    expect(rawOf(triggers[0]!)).toEqual(Buffer.from(event.data.message.data as string, 'base64'));
  });

  it('Event Hubs: a text event has its text; events the Azure worker already parsed have none (azure/event-hubs-batch.json)', async () => {
    const f = fixture('azure/event-hubs-batch.json');
    const { triggers, main } = recorder('auto');
    await main(structuredClone(f.events), invocationContext(f.context, azureTrigger.eventHub({ eventHubName: 'readings', connection: 'EventHubConnection', cardinality: 'many' })));
    expect(triggers.map(rawOf)).toEqual([undefined, 'plain text reading', undefined]);
  });

  it('OpenWhisk Kafka feed: a text value as the feed passed it, base64 values (isBinaryValue bound) as their bytes, a value the feed parsed (isJSONData) none; kept when the activation has a transaction id (openwhisk/published/kafka-feed.json)', async () => {
    const feed = fixture('openwhisk/published/kafka-feed.json');
    const text = recorder('auto');
    const bytes = Buffer.from([0x00, 0xff, 0x7b]);
    const binary = recorder('auto');
    // The runtime sets __OW_TRANSACTION_ID for every activation: the trigger then carries it too.
    vi.stubEnv('__OW_TRANSACTION_ID', 'tx-7Gq2');
    try {
      await text.main.openwhisk(structuredClone(feed));
      await binary.main.openwhisk({ isBinaryValue: true, messages: [{ ...feed.messages[1], value: bytes.toString('base64') }] });
    } finally {
      vi.unstubAllEnvs();
    }
    expect(text.triggers.map(rawOf)).toEqual([undefined, 'plain text']);
    expect(text.triggers.map((t) => (t as { transactionId?: string }).transactionId)).toEqual(['tx-7Gq2', 'tx-7Gq2']);
    expect(binary.triggers.map(rawOf)).toEqual([bytes]);
    expect(Object.keys(text.triggers[1]!)).not.toContain('rawBody');
  });

  it('is not enumerable: not in Object.keys, JSON or a spread copy; read again, the same value', async () => {
    const event = fixture('aws/published/sqs-no-attributes.json');
    const { triggers, main } = recorder();
    await main.aws(structuredClone(event), lambdaContext);
    const trigger = triggers[1]!;
    expect(Object.keys(trigger)).not.toContain('rawBody');
    expect(JSON.stringify(trigger)).not.toContain(JSON.stringify(event.Records[1].body).slice(1, -1));
    expect({ ...trigger }).not.toHaveProperty('rawBody');
    expect(rawOf(trigger)).toBe(rawOf(trigger));
    expect(rawOf(trigger)).toBe(event.Records[1].body);
  });
});
