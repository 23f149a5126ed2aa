/**
 * s55-fxo (review rvm2): a non-web OpenWhisk activation answered a validation failure with
 * `{ error: toErrorSummary(error) }` — each issue whole, its message too, which a refinement
 * may write the input into. OpenWhisk stores that result in the activation record
 * (`wsk activation get`, `wsk activation result`), for a trigger's or feed's activations too,
 * which no caller reads. Now its `errors` are `{ field, expected }`, as a thrown error's are on
 * the other providers (review-thrown-issue-messages.test.ts); a web action's caller still gets
 * the problem details with each issue's message.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler } from '@steadyfn/handler';
import { logs, type Json } from './support/published.js';

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`./fixtures/openwhisk/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

const SECRET = '4111-secret-99';
const Order = z.object({ card: z.string().refine((v) => v.length === 16, { error: (i) => `card ${String(i.input)} is not 16 digits` }) });

function setup() {
  const { lines, logSink } = logs();
  const handled = handler({ input: Order, logSink, logLevel: 'debug' }, () => 1);
  // The action result: `main.openwhisk` is typed `unknown` (the runtime reads any JSON object).
  const main = { openwhisk: async (params: unknown) => (await handled.openwhisk(params)) as Record<string, unknown> };
  return { main, lines };
}

/** The activation's `error` names the field and nothing of the input; so do the adapter's lines. */
function expectNoInput(result: Record<string, unknown>, lines: Json[]): void {
  expect(result.error).toMatchObject({ code: 'VALIDATION_FAILED', retryable: false, errors: [{ field: 'card' }] });
  expect((result.error as { errors: unknown[] }).errors).toEqual([{ field: 'card' }]);
  expect(JSON.stringify(result)).not.toContain(SECRET);
  expect(JSON.stringify(lines)).not.toContain(SECRET);
}

describe('OpenWhisk: a non-web activation result carries no issue message', () => {
  beforeEach(() => {
    process.env.__OW_ACTIVATION_ID = 'act-1';
  });
  afterEach(() => {
    delete process.env.__OW_ACTIVATION_ID;
  });

  it('plain activation (wsk action invoke): the brief repro', async () => {
    const { main, lines } = setup();
    expectNoInput(await main.openwhisk({ card: SECRET }), lines);
  });

  it('alarm tick', async () => {
    const { main, lines } = setup();
    expectNoInput(await main.openwhisk({ ...fixture('alarm-tick.json'), card: SECRET }), lines);
  });

  it('Cloudant changes feed', async () => {
    const { main, lines } = setup();
    const change = fixture('cloudant-change.json');
    expectNoInput(await main.openwhisk({ ...change, doc: { ...(change.doc as object), card: SECRET } }), lines);
  });

  it('Kafka feed batch: the first failure, its counts and failed deliveries', async () => {
    const { main, lines } = setup();
    const batch = fixture('kafka-json.json');
    const [message] = batch.messages as Array<Record<string, unknown>>;
    const result = await main.openwhisk({ messages: [{ ...message, value: { card: SECRET } }] });
    expectNoInput(result, lines);
    expect(result.error).toMatchObject({ processed: 0, failed: [{ deliveryId: 'mytopic/0/421760', code: 'VALIDATION_FAILED', retryable: false }] });
  });

  it('a web action still answers its caller problem details with each message', async () => {
    const { main } = setup();
    const result = await main.openwhisk({ ...fixture('web-json.json'), card: SECRET });
    expect(result).toMatchObject({ statusCode: 400 });
    expect(JSON.stringify(result.body)).toContain(`card ${SECRET} is not 16 digits`);
  });
});
