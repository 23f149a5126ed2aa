/**
 * Review s55 (rvl): what the adapters' own log lines say about the cold start.
 * `adapterLogger` was never given the call's cold start: its lines (`event not recognised`,
 * `unreadable event acknowledged`, `malformed event`, OpenWhisk's) said `coldStart: false` and
 * had no `fn`, while the function's lines of the same call said `coldStart: true` with `fn`. A
 * cold GCP instance whose first event was unreadable never used its cold start up: its next
 * invocation said cold. Now each call takes the cold start once, as the adapter starts on it.
 *
 * The cold start is module state (one per process): each test loads the package afresh.
 */
import middy from '@middy/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext, logs, NOT_RECOGNISED, sample, type Json } from './support/published.js';

async function fresh(): Promise<typeof import('@steadyfn/handler')> {
  vi.resetModules();
  return import('@steadyfn/handler');
}

afterEach(() => {
  vi.unstubAllEnvs();
});

/** A Secrets Manager rotation call: a known AWS shape the wrapper has no trigger for. */
const rotation = { SecretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf', ClientRequestToken: 't-1', Step: 'createSecret' };

/** `[msg, fn, coldStart]` of every line: what an operator filtering on `coldStart` or `fn` sees. */
const facts = (lines: Json[]) => lines.map((l) => [l.msg, l.fn, l.coldStart]);

describe("an adapter's own lines carry the call's coldStart and fn", () => {
  it('Lambda: `event not recognised` of a cold first call says coldStart true and fn, as the function does; the next call is warm', async () => {
    const { handler } = await fresh();
    const { lines, logSink } = logs();
    const main = handler({ logSink, logLevel: 'info' }, (_input, ctx) => ctx.log.info('ran'));
    await main.aws(rotation, lambdaContext('req-1'));
    await main.aws(rotation, lambdaContext('req-2'));
    expect(facts(lines)).toEqual([
      [NOT_RECOGNISED, 'published-events', true],
      ['ran', 'published-events', true],
      [NOT_RECOGNISED, 'published-events', false],
      ['ran', 'published-events', false],
    ]);
  });

  it('middy: the line written before the request takes the cold start says the one it takes; ctx agrees', async () => {
    await fresh();
    const { steadyHandler, toMiddy } = await import('@steadyfn/handler/middy');
    const { lines, logSink } = logs();
    const main = middy(steadyHandler((_event, _context, ctx) => ctx.log.info('ran'))).use(toMiddy({ name: 'p' }, { logSink, logLevel: 'info' }));
    await main(rotation, lambdaContext('req-1') as never);
    await main(rotation, lambdaContext('req-2') as never);
    expect(facts(lines)).toEqual([
      [NOT_RECOGNISED, 'published-events', true],
      ['ran', 'published-events', true],
      [NOT_RECOGNISED, 'published-events', false],
      ['ran', 'published-events', false],
    ]);
  });

  it("Lambda: an unreadable event acknowledged on a cold instance says coldStart true, and uses the cold start up", async () => {
    const { handler } = await fresh();
    const { lines, logSink } = logs();
    const seen: boolean[] = [];
    const main = handler({ logSink, logLevel: 'info', name: 'orders', terminalErrors: 'ack' }, (_input, ctx) => void seen.push(ctx.coldStart));
    const kinesis = sample('aws', 'pt-kinesis-stream-one-record.json');
    delete kinesis.Records[0].kinesis.sequenceNumber;
    expect(await main.aws(kinesis, lambdaContext('req-1'))).toEqual({ batchItemFailures: [] });
    await main.aws({ orderId: 'o-1' }, lambdaContext('req-2'));
    expect(facts(lines)).toEqual([['unreadable event acknowledged', 'orders', true]]);
    expect(seen).toEqual([false]);
  });

  it('Cloud Functions: a malformed first event says coldStart true with fn, and the next invocation is warm (it used to say cold)', async () => {
    vi.stubEnv('FUNCTION_TARGET', 'orders');
    const { handler } = await fresh();
    const { lines, logSink } = logs();
    const seen: boolean[] = [];
    const main = handler({ logSink, logLevel: 'warn' }, (_input, ctx) => void seen.push(ctx.coldStart));
    await expect(main.gcpEvent({ specversion: '1.0', id: 'ce-1', data: {} })).rejects.toMatchObject({ code: 'MALFORMED_EVENT' });
    await main.gcpEvent({ specversion: '1.0', id: 'ce-2', type: 'com.example.order.placed', source: '//example/orders', data: { orderId: 'o-1' } });
    expect(facts(lines)).toEqual([['malformed event', 'orders', true]]);
    expect(seen).toEqual([false]);
  });

  it('Azure: `malformed event` and `event not recognised` say the call\'s coldStart and fn', async () => {
    const { handler } = await fresh();
    const { lines, logSink } = logs();
    const seen: boolean[] = [];
    const main = handler({ logSink, logLevel: 'warn' }, (_input, ctx) => void seen.push(ctx.coldStart));
    // A storage queue message without an id: unreadable, thrown.
    await expect(main.azure('x', { invocationId: 'inv-1', functionName: 'orders', triggerMetadata: { dequeueCount: 1, popReceipt: 'pr-1' } })).rejects.toMatchObject({ code: 'MALFORMED_EVENT' });
    await main.azure({ a: 1 }, { invocationId: 'inv-2', functionName: 'orders', options: { trigger: { type: 'daprTopicTrigger', name: 'event' } } });
    expect(facts(lines)).toEqual([
      ['malformed event', 'orders', true],
      [NOT_RECOGNISED, 'orders', false],
    ]);
    expect(seen).toEqual([false]);
  });

  it("OpenWhisk: the adapter's line about an activation says its coldStart, fn and transactionId, as the invocation's lines do", async () => {
    vi.stubEnv('__OW_ACTION_NAME', '/guest/orders');
    vi.stubEnv('__OW_ACTIVATION_ID', 'a1b2c3d4e5f60718293a4b5c6d7e8f90');
    vi.stubEnv('__OW_TRANSACTION_ID', 'sid_1');
    const { handler } = await fresh();
    const { lines, logSink } = logs();
    const main = handler({ logSink, logLevel: 'info' }, (_input, ctx) => ctx.log.info('ran'));
    // A Cloudant change without `changes[].rev`: run as a direct activation, named in a warn line.
    await main.openwhisk({ dbname: 'orders', id: 'o-1', seq: '1-g1', changes: [{}] });
    expect(lines.map((l) => [l.msg, l.fn, l.coldStart, l.transactionId])).toEqual([
      [NOT_RECOGNISED, '/guest/orders', true, 'sid_1'],
      ['ran', '/guest/orders', true, 'sid_1'],
    ]);
  });
});
