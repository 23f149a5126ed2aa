/**
 * Review findings (s55):
 * 1. A `SteadyError` whose `issues` are not `{ field, … }` — zod's own `{ path, message, input }`
 *    issues passed from plain JS, a non-string `field`, `new ValidationError('msg', [])` with its
 *    arguments swapped — crashed the failure log (`issue.field.slice` of undefined), outside any
 *    try: a whole SQS batch rejected (its succeeded messages redelivered), an HTTP 502, a direct
 *    call rejected with a TypeError. zod 4's `input` (the refused value) could reach the problem body.
 * 2. A 429 or 408 was not retryable by default, so `terminalErrors: 'ack'` deleted the message.
 * 3. A status outside 400–599 was answered 500 with the title "Client Error" and the message shown.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler, SteadyError, toProblem, toSteadyError, ValidationError } from '../src/index.js';
import { lambdaContext, published } from './support/published.js';
import { sqsRecord } from './support/sqs.js';

function zodIssues(): unknown[] {
  const parsed = z.object({ qty: z.number(), card: z.string().length(16) }).safeParse({ qty: 'secret-qty', card: '4111-secret' });
  return (parsed as { error: { issues: unknown[] } }).error.issues;
}

function orderFn(input: unknown): string {
  if ((input as { k?: string }).k === 'bad') throw new SteadyError('ORDER_INVALID', 'Order is invalid', { status: 422, issues: zodIssues() as never });
  return 'ok';
}

describe('issues of a foreign shape', () => {
  it('SQS batch: only the bad message fails, and its log line names the fields', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const main = handler({ logLevel: 'warn', logSink: (l) => void lines.push(JSON.parse(l) as Record<string, unknown>) }, orderFn);
    const answer = await main.aws({ Records: [sqsRecord('m1', { k: 'good' }), sqsRecord('m2', { k: 'bad' })] }, lambdaContext() as never);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    const rejected = lines.find((l) => l.msg === 'invocation rejected');
    expect(rejected).toMatchObject({ code: 'ORDER_INVALID', issues: [{ field: 'qty', expected: 'number' }, { field: 'card', expected: 'string of exactly 16 characters' }] });
    expect(JSON.stringify(lines)).not.toContain('secret');
  });

  it('direct: rejects with ORDER_INVALID and the issues as fields', async () => {
    const main = handler({ logSink: () => undefined }, orderFn);
    await expect(main.invoke({ k: 'bad' })).rejects.toMatchObject({ code: 'ORDER_INVALID', errors: [{ field: 'qty', expected: 'number' }, { field: 'card' }] });
  });

  it('HTTP: 422 problem with { field, message, expected } only — never the refused input', async () => {
    const event = published('aws', 'apigw-rest-post.json');
    event.body = JSON.stringify({ k: 'bad' });
    event.isBase64Encoded = false;
    const res = (await handler({ logSink: () => undefined }, orderFn)(event as never, lambdaContext() as never)) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(422);
    const problem = JSON.parse(res.body) as { errors: Array<Record<string, unknown>> };
    expect(problem.errors.map((e) => Object.keys(e).sort())).toEqual([['expected', 'field', 'message'], ['expected', 'field', 'message']]);
    expect(problem.errors[0]).toMatchObject({ field: 'qty', expected: 'number' });
    expect(res.body).not.toContain('secret');
  });

  it('keeps object entries only, with a string field, message and expected; other keys dropped', () => {
    const error = new SteadyError('X', 'x', { status: 400, issues: [null, 'oops', 7, { field: 3, message: 5, expected: 9, input: 'secret' }, { field: 'a.b', message: 'bad', expected: 'number', extra: 1 }, { path: ['items', 0, { key: 'sku' }], message: 'Required' }] as never });
    expect(error.issues).toEqual([
      { field: '3', message: 'Invalid value' },
      { field: 'a.b', message: 'bad', expected: 'number' },
      { field: 'items.0.sku', message: 'Required' },
    ]);
  });

  it('a zod unrecognized-keys issue does not name the keys', () => {
    const parsed = z.strictObject({ a: z.string() }).safeParse({ a: 'x', 'ssn-123': 1 });
    const error = new SteadyError('X', 'x', { status: 400, issues: (parsed as unknown as { error: { issues: never } }).error.issues });
    expect(JSON.stringify(toProblem(error))).not.toContain('ssn-123');
  });

  it('ValidationError with its arguments swapped: no issues, no crash', async () => {
    const main = handler({ logSink: () => undefined }, () => {
      throw new ValidationError('Order is invalid' as never, [] as never);
    });
    await expect(main.invoke({})).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(new ValidationError('Order is invalid' as never).issues).toEqual([]);
  });

  it('issues that throw when read are dropped; the answer still goes out', async () => {
    const hostile = [{ get field(): string { throw new Error('boom'); }, message: 'm' }, { field: 'ok', message: 'fine' }];
    expect(new SteadyError('X', 'x', { status: 400, issues: hostile as never }).issues).toEqual([{ field: 'ok', message: 'fine' }]);
    const main = handler({ logSink: () => undefined }, (input: unknown) => {
      if ((input as { k: string }).k === 'bad') throw new SteadyError('X', 'x', { status: 400, issues: hostile as never });
      return 'ok';
    });
    expect(await main.aws({ Records: [sqsRecord('m1', { k: 'good' }), sqsRecord('m2', { k: 'bad' })] }, lambdaContext() as never)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
  });

  it('a failure log line that cannot be built (logFields that throw when listed) falls back to code and retryable', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logFields = new Proxy({}, { ownKeys: () => { throw new Error('boom'); } });
    const main = handler({ logLevel: 'warn', logSink: (l) => void lines.push(JSON.parse(l) as Record<string, unknown>) }, (input: unknown) => {
      if ((input as { k: string }).k === 'bad') throw new SteadyError('X', 'x', { status: 400, logFields });
      return 'ok';
    });
    expect(await main.aws({ Records: [sqsRecord('m1', { k: 'good' }), sqsRecord('m2', { k: 'bad' })] }, lambdaContext() as never)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(lines.find((l) => l.code === 'X')).toMatchObject({ msg: 'invocation failed', trigger: 'queue', retryable: false });
  });

  it("another copy's error: its issues are normalised too", () => {
    const otherCopy = Object.assign(new Error('bad'), { code: 'ORDER_INVALID', status: 422, retryable: false, expose: true, issues: zodIssues() });
    const error = toSteadyError(otherCopy);
    expect(error.issues?.map((i) => Object.keys(i).sort())).toEqual([['expected', 'field', 'message'], ['expected', 'field', 'message']]);
    expect(JSON.stringify(toProblem(error))).not.toContain('secret');
  });
});

describe('a rate-limited or timed-out failure under terminalErrors: ack', () => {
  it.each([429, 408, 425])('status %i is retryable by default: the message stays failed', async (status) => {
    const main = handler({ terminalErrors: 'ack', logSink: () => undefined }, () => {
      throw new SteadyError('UPSTREAM_RATE_LIMITED', 'try later', { status });
    });
    expect(new SteadyError('A', 'a', { status }).retryable).toBe(true);
    expect(await main.aws({ Records: [sqsRecord('m1', {})] }, lambdaContext() as never)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
  });

  it('(control) a 422 is acknowledged under ack', async () => {
    const main = handler({ terminalErrors: 'ack', logSink: () => undefined }, () => {
      throw new SteadyError('BAD', 'bad', { status: 422 });
    });
    expect(await main.aws({ Records: [sqsRecord('m1', {})] }, lambdaContext() as never)).toEqual({ batchItemFailures: [] });
  });
});

describe('a status outside 400–599', () => {
  it.each([
    [99, false],
    [Number.NaN, false],
    [302, false],
    [200, false],
    [600, true],
    [404.5, false],
  ])('status %s is answered 500 with the message hidden; retry follows the status chosen (%s)', (status, retryable) => {
    const error = new SteadyError('ODD', 'internal detail', { status });
    expect({ status: error.status, retryable: error.retryable, expose: error.expose, logLevel: error.logLevel }).toEqual({ status: 500, retryable, expose: false, logLevel: 'error' });
    expect(toProblem(error)).toEqual({ type: 'urn:steadyfn:error:odd', title: 'Internal Server Error', status: 500, code: 'ODD' });
  });
});
