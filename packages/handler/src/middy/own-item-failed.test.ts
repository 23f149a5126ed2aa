/**
 * Under middy, a value that reports the invocation's own message failed — a partial batch
 * response naming it, or the `Promise.allSettled` array `@middy/sqs-partial-batch-failure` reads,
 * its entry rejected — is not the function's returned result for the plugins
 * (`functionReturned(ctx)` stays undefined, as after a throw), with `steadyHandler(fn)` and with a
 * plain middy handler; `ownItemFailed` (`@steadyfn/handler/internal`) says which values those are.
 * Any other value, and the same value from an event that reads no partial batch response, is.
 */
import { readFileSync } from 'node:fs';
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { functionReturned, type Context, type Plugin } from '../index.js';
import { ownItemFailed } from '../internal.js';
import { steadyHandler, toMiddy } from '../middy.js';

const lambdaContext = () => ({ awsRequestId: 'req-1', functionName: 'f', getRemainingTimeInMillis: () => 60_000 });
const fixture = (name: string): Record<string, any> => JSON.parse(readFileSync(new URL(`../../test/fixtures/aws/${name}`, import.meta.url), 'utf8'));

/** `fixture`'s first record alone, as a one-message event. */
const oneRecord = (name: string) => {
  const event = fixture(name);
  return { ...event, Records: [event.Records[0]] };
};
const oneKafkaRecord = () => {
  const event = fixture('msk-batch.json');
  const [key, records] = Object.entries(event.records as Record<string, unknown[]>)[0]!;
  return { ...event, records: { [key]: [records[0]] } };
};

/** What a probe plugin saw in its `after` and `finally`: `functionReturned(ctx)` and `ownItemFailed(ctx, result)`. */
function probe() {
  const seen: { returned: unknown[]; failed?: boolean } = { returned: [] };
  const plugin: Plugin = {
    name: 'probe',
    after: (ctx: Context, result: unknown) => {
      seen.failed = ownItemFailed(ctx, result);
      seen.returned.push(functionReturned(ctx));
    },
    finally: (ctx: Context) => void seen.returned.push(functionReturned(ctx)),
  };
  return { plugin, seen };
}

async function run(event: unknown, value: unknown, plain = false) {
  const { plugin, seen } = probe();
  const fn = async () => value;
  const main = middy()
    .use(toMiddy(plugin))
    .handler(plain ? fn : steadyHandler(fn));
  const answer = await main(event as never, lambdaContext() as never);
  return { answer, ...seen };
}

const sqs = () => oneRecord('sqs-standard-batch.json');
const failure = (event: { Records: Array<{ messageId: string }> }) => ({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] });

describe('a one-message event whose handler reports that message failed', () => {
  it.each([false, true])('SQS { batchItemFailures: [its id] } (plain handler: %s): answered, not recorded as returned', async (plain) => {
    const event = sqs();
    const got = await run(event, failure(event), plain);
    expect(got.answer).toEqual(failure(event));
    expect(got.failed).toBe(true);
    expect(got.returned).toEqual([undefined, undefined]);
  });

  it.each([
    ['Kinesis', () => oneRecord('kinesis-batch.json'), (e: any) => e.Records[0].kinesis.sequenceNumber],
    ['DynamoDB Streams', () => oneRecord('dynamodb-streams-batch.json'), (e: any) => e.Records[0].dynamodb.SequenceNumber],
    ['Kafka', oneKafkaRecord, () => ({ partition: 'orders-0', offset: 0 })],
  ] as const)('%s: a failure naming the record is not recorded', async (_name, make, id) => {
    const event = make();
    const got = await run(event, { batchItemFailures: [{ itemIdentifier: id(event) }] });
    expect(got.failed).toBe(true);
    expect(got.returned).toEqual([undefined, undefined]);
  });

  it('a Promise.allSettled array whose entry is rejected is not recorded; a fulfilled one is', async () => {
    const rejected = [{ status: 'rejected', reason: new Error('down') }];
    expect((await run(sqs(), rejected)).returned).toEqual([undefined, undefined]);
    const fulfilled = [{ status: 'fulfilled', value: 1 }];
    const got = await run(sqs(), fulfilled);
    expect(got.failed).toBe(false);
    expect(got.returned).toEqual([{ value: fulfilled, rendered: true }, { value: fulfilled, rendered: true }]);
  });
});

describe('values that report no failure of this invocation are its result', () => {
  it.each([
    ['{ batchItemFailures: [] }', sqs, { batchItemFailures: [] }],
    ['{ batchItemFailures: null }', sqs, { batchItemFailures: null }],
    ['a failure list from an SNS event (Lambda reads no partial batch response)', () => oneRecord('sns-notification.json'), { batchItemFailures: [{ itemIdentifier: 'x' }] }],
    ['a failure list from a several-message event (one direct invocation, no per-message key)', () => fixture('sqs-standard-batch.json'), { batchItemFailures: [{ itemIdentifier: 'x' }] }],
    ['a failure list answering a direct call', () => ({ orderId: 'o-1' }), { batchItemFailures: [{ itemIdentifier: 'x' }] }],
    ['a domain result whose first entry has status "rejected" (not a settled promise; review rvm3)', sqs, [{ id: 1, status: 'rejected' }]],
    ['a domain result { status: "rejected", reason, more } (not a settled promise)', sqs, [{ status: 'rejected', reason: 'credit score', applicant: 'a-1' }]],
  ] as const)('%s', async (_name, make, value) => {
    const got = await run(make(), value);
    expect(got.failed).toBe(false);
    expect(got.returned).toEqual([{ value, rendered: true }, { value, rendered: true }]);
  });

  it('never throws on a hostile value', async () => {
    const hostile = new Proxy({}, { get: () => { throw new Error('trap'); } });
    expect(ownItemFailed({ trigger: { kind: 'queue' }, raw: hostile }, { batchItemFailures: [1] })).toBe(false);
    expect(ownItemFailed({ trigger: { kind: 'queue' }, raw: {} }, hostile)).toBe(false);
  });
});
