/**
 * Review s55 (rvl): the error thrown to a runtime carried each validation issue whole as an
 * enumerable `errors` property — its message too, which a refinement may write the input into.
 * A runtime logs every enumerable property of what it is thrown (Lambda's Node runtime,
 * aws-lambda-ric 4.x: `LifecycleManager.fail` → `structuredConsole.logError("Invoke Error", error)`,
 * TEXT format through `withEnumerableProperties`, JSON format through `jsonErrorReplacer`), while
 * its caller gets `errorType`, `errorMessage` and `trace` only. Now a thrown error's `errors` are
 * `{ field, expected }`, as the failure log line has them; an HTTP caller's problem details and
 * `main.invoke` (whose rejection reaches the calling code, not a runtime) keep the messages.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler } from '@steadyfn/handler';
import { lambdaContext, logs, sample, type Json } from './support/published.js';

const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`./fixtures/aws/${name}`, import.meta.url), 'utf8')) as Json;

const SECRET = '4111-secret-99';
const Order = z.object({ card: z.string().refine((v) => v.length === 16, { error: (i) => `card ${String(i.input)} is not 16 digits` }) });

/** What aws-lambda-ric 4.0.2 writes for a thrown error in the TEXT log format (`toFormatted`, `withEnumerableProperties`). */
function ricTextLine(error: unknown): string {
  return '\t' + JSON.stringify(error, (_k, v: unknown) => (v instanceof Error ? Object.assign({ errorType: v.name, errorMessage: v.message, code: (v as { code?: unknown }).code }, v) : v));
}

/** What it writes in the JSON log format (`jsonErrorReplacer`). */
function ricJsonLine(error: unknown): string {
  return JSON.stringify({ message: error }, (_k, v: unknown) => (v instanceof Error ? Object.assign({ errorType: v.constructor.name, errorMessage: v.message }, v) : v));
}

function setup() {
  const { lines, logSink } = logs();
  const main = handler({ input: Order, logSink, logLevel: 'debug' }, () => 1);
  return { main, lines };
}

/** The thrown error says which field and nothing of the input, in both of the runtime's log formats and in our own lines. */
function expectNoInput(thrown: unknown, lines: Json[]): void {
  expect(thrown).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'card' }] });
  expect((thrown as { errors: unknown[] }).errors).toEqual([{ field: 'card' }]);
  expect(ricTextLine(thrown)).not.toContain(SECRET);
  expect(ricJsonLine(thrown)).not.toContain(SECRET);
  expect(JSON.stringify(lines)).not.toContain(SECRET);
  expect(lines.find((l) => l.msg === 'invocation rejected')).toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ field: 'card' }] });
}

describe('a validation failure thrown to the runtime carries no issue message', () => {
  it('Lambda direct invocation', async () => {
    const { main, lines } = setup();
    const thrown = await Promise.resolve(main.aws({ card: SECRET }, { awsRequestId: 'req-1', functionName: 'f', getRemainingTimeInMillis: () => 30_000 })).catch((e: unknown) => e);
    expectNoInput(thrown, lines);
  });

  it('Lambda EventBridge event (thrown for the asynchronous retry)', async () => {
    const { main, lines } = setup();
    const event = { version: '0', id: 'ev-1', 'detail-type': 'Order Placed', source: 'com.example.orders', account: '123456789012', time: '2025-03-02T12:00:00Z', region: 'eu-west-1', resources: [], detail: { card: SECRET } };
    const thrown = await Promise.resolve(main.aws(event, lambdaContext())).catch((e: unknown) => e);
    expectNoInput(thrown, lines);
  });

  it('Lambda SNS notification', async () => {
    const { main, lines } = setup();
    const event = sample('aws', 'pt-sns-base.json');
    event.Records[0].Sns.Message = JSON.stringify({ card: SECRET });
    const thrown = await Promise.resolve(main.aws(event, lambdaContext())).catch((e: unknown) => e);
    expectNoInput(thrown, lines);
  });

  it('Cloud Functions CloudEvent', async () => {
    const { main, lines } = setup();
    const thrown = await main.gcpEvent({ specversion: '1.0', id: 'ce-1', type: 'com.example.order.placed', source: '//example/orders', data: { card: SECRET } }).catch((e: unknown) => e);
    expectNoInput(thrown, lines);
  });

  it('Azure storage queue message', async () => {
    const { main, lines } = setup();
    const thrown = await Promise.resolve(main.azure({ card: SECRET }, { invocationId: 'inv-1', functionName: 'orders', triggerMetadata: { id: 'm-1', dequeueCount: 1, popReceipt: 'pr-1' } })).catch((e: unknown) => e);
    expectNoInput(thrown, lines);
  });
});

describe('where the answer goes to the caller, the messages stay', () => {
  it('an HTTP caller gets each issue with its message in the problem details', async () => {
    const { main, lines } = setup();
    const event = { ...fixture('apigw-v2-post.json'), body: JSON.stringify({ card: SECRET }), isBase64Encoded: false };
    const res = (await main.aws(event, lambdaContext())) as Json;
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body as string).errors).toEqual([{ field: 'card', message: `card ${SECRET} is not 16 digits` }]);
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });

  it('main.invoke rejects to the calling code with each issue whole', async () => {
    const { main } = setup();
    await expect(main.invoke({ card: SECRET })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'card', message: `card ${SECRET} is not 16 digits` }] });
  });
});
