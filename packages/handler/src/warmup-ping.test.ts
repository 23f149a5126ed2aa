/**
 * Brief s52-fxb, item 4 (docs): a serverless-plugin-warmup ping (`{"source":"serverless-plugin-warmup"}`)
 * as the handler README's "Warm-up pings" section describes it: a direct invocation; with an
 * `input` schema it fails validation before any plugin's `before` (so only a check ahead of
 * `handler()` answers it); without one a plugin's `before` answers it and the function never runs.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler, type Plugin } from './index.js';

const ping = { source: 'serverless-plugin-warmup' };
const lambdaContext = { awsRequestId: 'req-1', functionName: 'fn', getRemainingTimeInMillis: () => 30_000 } as never;
const isWarmUp = (event: unknown): boolean => (event as { source?: unknown } | null)?.source === 'serverless-plugin-warmup';
const warmUp: Plugin = { name: 'warm-up', before: (ctx) => (ctx.trigger.kind === 'direct' && isWarmUp(ctx.input) ? { answer: 'warmed' } : undefined) };

describe('a warm-up ping', () => {
  it('with an input schema: VALIDATION_FAILED before any before hook; a check ahead of handler() answers it', async () => {
    let ran = 0;
    let before = 0;
    const app = handler({ input: z.object({ sku: z.string() }), use: [{ name: 'seen', before: () => void before++ }] }, async () => ++ran);
    await expect(app.aws(ping, lambdaContext)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(before).toBe(0);
    const main = (event: unknown, context: never) => (isWarmUp(event) ? Promise.resolve('warmed') : app.aws(event, context));
    expect(await main(ping, lambdaContext)).toBe('warmed');
    expect(ran).toBe(0);
  });

  it('without one: a plugin before hook answers it, the function does not run', async () => {
    let ran = 0;
    const main = handler({ use: [warmUp] }, async () => ++ran);
    expect(await main.aws(ping, lambdaContext)).toBe('warmed');
    expect(await main.aws({ sku: 'a' }, lambdaContext)).toBe(1);
    expect(ran).toBe(1);
  });
});
