/**
 * Review finding: an error thrown by the function that carries a status of another library —
 * `http-errors` (`status`, `statusCode`, `expose`), `@hapi/boom` (`output.statusCode`), an AWS
 * SDK v3 service exception (`$metadata.httpStatusCode`, `$fault`) — was answered 500 INTERNAL
 * with no word of it in the docs. That is the rule now, documented (README "Errors and
 * retries", `toSteadyError` TSDoc): only steadyfn errors (any copy of the package) set the
 * status and retry; a downstream 404 must not become the function's 404, nor a downstream 4xx
 * make a queue message terminal. The README's `onError` mapping plugin is how an app maps the
 * errors it does trust; it is run here as printed there.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { SQSServiceException } from '@aws-sdk/client-sqs';
import { handler, httpError, type Plugin } from '../src/index.js';
import { lambdaContext, published } from './support/published.js';

// The real `http-errors`, as Express apps throw it (a dependency of the Functions Framework's Express).
const fromFramework = createRequire(createRequire(import.meta.url).resolve('@google-cloud/functions-framework'));
const createError = createRequire(fromFramework.resolve('express'))('http-errors') as (status: number, message: string) => Error & { status: number; statusCode: number; expose: boolean };

/** The fields `@hapi/boom` sets on the Error it returns for `Boom.notFound('no such order')`. */
function boomNotFound(): Error {
  return Object.assign(new Error('no such order'), {
    isBoom: true,
    isServer: false,
    data: null,
    output: { statusCode: 404, payload: { statusCode: 404, error: 'Not Found', message: 'no such order' }, headers: {} },
  });
}

const foreign: Array<[string, () => unknown]> = [
  ['http-errors 404', () => createError(404, 'no such order')],
  ['@hapi/boom 404', boomNotFound],
  ['AWS SDK v3 service exception, HTTP 404 from a downstream call', () => new SQSServiceException({ name: 'NoSuchThing', $fault: 'client', $metadata: { httpStatusCode: 404, requestId: 'req-1' }, message: 'no such thing' })],
  ['an Error with statusCode and expose', () => Object.assign(new Error('no such order'), { statusCode: 404, expose: true })],
  ['an Error with code and status (no retryable/expose)', () => Object.assign(new Error('no such order'), { code: 'NOT_FOUND', status: 404 })],
];

function restEvent(): Record<string, any> {
  return published('aws', 'apigw-rest-post.json');
}

async function answer(fn: () => unknown, use: Plugin[] = [], lines: string[] = []) {
  const main = handler({ use, logSink: (l) => lines.push(l), logLevel: 'warn' }, () => {
    throw fn();
  });
  return (await main(restEvent() as never, lambdaContext() as never)) as { statusCode: number; body: string };
}

describe('an error thrown with a status of another library', () => {
  it.each(foreign)('%s: HTTP 500 INTERNAL, its message hidden', async (_name, make) => {
    const res = await answer(make);
    expect(res.statusCode).toBe(500);
    const problem = JSON.parse(res.body) as Record<string, unknown>;
    expect(problem).toMatchObject({ status: 500, code: 'INTERNAL' });
    expect(res.body).not.toMatch(/no such/);
  });

  it.each(foreign)('%s: a queue message fails retryable (redelivered), not acknowledged as terminal', async (_name, make) => {
    const main = handler({ terminalErrors: 'ack', logSink: () => undefined }, () => {
      throw make();
    });
    const event = published('aws', 'sqs-fifo.json');
    event.Records = event.Records.slice(0, 1);
    const res = await main(event as never, lambdaContext() as never);
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }] });
  });

  it('(control) a SteadyError from another copy of the package keeps its status: the documented exception', async () => {
    const otherCopy = Object.assign(new Error('no such order'), { code: 'ORDER_NOT_FOUND', status: 404, retryable: false, expose: true });
    const res = await answer(() => otherCopy);
    expect(res.statusCode).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'ORDER_NOT_FOUND', detail: 'no such order' });
  });
});

describe('README: mapping the errors an app trusts in onError', () => {
  // As printed in the README ("Errors and retries").
  const httpErrors: Plugin = {
    name: 'http-errors',
    onError: (_ctx, error) => {
      const cause = error.cause;
      if (error.code !== 'INTERNAL' || !(cause instanceof Error)) return;
      const { status, expose } = cause as Error & { status?: unknown; expose?: unknown };
      if (typeof status === 'number' && status >= 400 && status < 500 && expose === true) {
        throw httpError(status, `HTTP_${status}`, cause.message);
      }
    },
  };

  it('an http-errors 404 is answered 404 with its message; the failure is logged as rejected', async () => {
    const lines: string[] = [];
    const res = await answer(() => createError(404, 'no such order'), [httpErrors], lines);
    expect(res.statusCode).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ status: 404, code: 'HTTP_404', detail: 'no such order' });
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.find((r) => r.msg === 'plugin onError hook replaced the error')).toMatchObject({ code: 'HTTP_404', replaced: 'INTERNAL' });
    expect(records.find((r) => r.msg === 'invocation rejected')).toMatchObject({ code: 'HTTP_404' });
    expect(records.find((r) => r.msg === 'invocation failed')).toBeUndefined();
  });

  it('an AWS SDK 404 and a Boom 404 are not mapped by it: still 500 INTERNAL', async () => {
    for (const make of [foreign[1]![1], foreign[2]![1]]) {
      const res = await answer(make, [httpErrors]);
      expect(res.statusCode).toBe(500);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'INTERNAL' });
    }
  });
});
