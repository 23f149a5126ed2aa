/**
 * Review s55 (fxg): on the middy path a `SteadyError` keeps its class, so one with `issues` (a
 * validation error a plugin or steadyfn throws) reached middy — and the Lambda runtime, which logs
 * every enumerable property of what it is thrown (aws-lambda-ric "Invoke Error") — with each
 * issue's message, which a zod refinement may write the input into. Now what middy throws on has
 * `issues` as `{ field, expected }` (class, code, status kept); the steadyfn hooks still get the
 * messages. On the real @middy/core 7.9, with and without `middyPlugin()`.
 */
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ValidationError, type Plugin } from '../index.js';
import { toFieldIssues } from '../internal.js';
import { middyPlugin, toMiddy } from '../middy.js';

const SECRET = '4111-secret-99';
const Order = z.object({ card: z.string().refine((v) => v.length === 16, { error: (i) => `card ${String(i.input)} is not 16 digits` }) });

/** What aws-lambda-ric 4.0.2 writes for a thrown error in the TEXT log format (`withEnumerableProperties`). */
function ricTextLine(error: unknown): string {
  return '\t' + JSON.stringify(error, (_k, v: unknown) => (v instanceof Error ? Object.assign({ errorType: v.name, errorMessage: v.message, code: (v as { code?: unknown }).code }, v) : v));
}

/** A steadyfn plugin validating the event in its `before`, and one recording what its onError saw. */
const validate: Plugin = {
  name: 'validate',
  before: (ctx) => {
    const parsed = Order.safeParse(ctx.input);
    if (!parsed.success) throw new ValidationError(toFieldIssues(parsed.error.issues));
  },
};
const context = () => ({ awsRequestId: 'r1', functionName: 'f', getRemainingTimeInMillis: () => 60_000 });

function expectNoInput(thrown: unknown): void {
  expect(thrown).toBeInstanceOf(ValidationError);
  expect(thrown).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
  // Still readable whole by code that holds the error; only hidden from enumeration (the log).
  expect((thrown as ValidationError).issues).toEqual([expect.objectContaining({ field: 'card', message: `card ${SECRET} is not 16 digits` })]);
  expect(Object.keys(thrown as object)).not.toContain('issues');
  expect(ricTextLine(thrown)).not.toContain(SECRET);
}

describe('a validation error thrown to middy and the runtime carries no issue message', () => {
  it('toMiddy alone; the steadyfn onError still saw the message', async () => {
    const seen: string[] = [];
    const watcher: Plugin = { name: 'watcher', onError: (_ctx, error) => void seen.push(error.issues?.[0]?.message ?? '') };
    const main = middy(async () => 'fn').use(toMiddy(watcher)).use(toMiddy(validate));
    const thrown = await main({ card: SECRET }, context() as never).catch((e: unknown) => e);
    expectNoInput(thrown);
    expect(seen).toEqual([`card ${SECRET} is not 16 digits`]);
  });

  it('under middyPlugin(): a plain onError inside the toMiddy one rethrows it (no steadyfn onError runs; requestEnd ends it)', async () => {
    const seen: string[] = [];
    const watcher: Plugin = { name: 'watcher', finally: (_ctx, outcome) => void seen.push(outcome.ok ? 'ok' : (outcome.error.issues?.[0]?.message ?? '')) };
    const rethrow = { onError: async (request: { error: unknown }) => { throw request.error; } };
    const main = middy(async () => 'fn', middyPlugin()).use(toMiddy(watcher)).use(toMiddy(validate)).use(rethrow);
    const thrown = await main({ card: SECRET }, context() as never).catch((e: unknown) => e);
    expectNoInput(thrown);
    expect(seen).toEqual([`card ${SECRET} is not 16 digits`]);
  });

  it('a plain onError listed first (run last) logs it without the messages', async () => {
    const plainSaw: string[] = [];
    const plain = { onError: async (request: { error: unknown }) => void plainSaw.push(ricTextLine(request.error)) };
    const main = middy(async () => 'fn').use(plain).use(toMiddy(validate));
    const thrown = await main({ card: SECRET }, context() as never).catch((e: unknown) => e);
    expectNoInput(thrown);
    expect(plainSaw).toHaveLength(1);
    expect(plainSaw.join()).not.toContain(SECRET);
  });

  it('a frozen error: what middy throws is a copy of its class whose issues the log does not show', async () => {
    const frozen: Plugin = { name: 'frozen', before: () => { throw Object.freeze(new ValidationError([{ field: 'card', message: `card ${SECRET} is not 16 digits` }])); } };
    const main = middy(async () => 'fn').use(toMiddy(frozen));
    const thrown = await main({}, context() as never).catch((e: unknown) => e);
    expectNoInput(thrown);
  });

  it("a user's own thrown ValidationError keeps its issue messages (review rvm3)", async () => {
    const mine = new ValidationError([{ field: 'sku', message: 'sku must be 8 characters', expected: 'string' }]);
    const main = middy(async () => { throw mine; }).use(toMiddy({ name: 'p' }));
    const thrown = await main({ sku: 'x' }, context() as never).catch((e: unknown) => e);
    expect(thrown).toBe(mine);
    expect(mine.issues![0]!.message).toBe('sku must be 8 characters');
  });

  it('a plain middy onError outside toMiddy renders the issue messages (review rvm3)', async () => {
    const render = { onError: async (request: { error?: unknown; response?: unknown }) => {
      const e = request.error as ValidationError;
      request.response = { statusCode: e.status, body: JSON.stringify({ errors: e.issues!.map((i) => i.message) }) };
    } };
    const main = middy(async () => { throw new ValidationError([{ field: 'sku', message: 'sku must be 8 characters' }]); }).use(render).use(toMiddy({ name: 'p' }));
    expect(await main({ sku: 'x' }, context() as never)).toEqual({ statusCode: 400, body: JSON.stringify({ errors: ['sku must be 8 characters'] }) });
  });
});
