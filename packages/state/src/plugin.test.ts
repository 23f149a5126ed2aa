/** The handler plugin: typed ctx members, one load for concurrent messages, failures as typed errors. */
import { handler } from '@steadyfn/handler';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { custom, defineState, state } from './index.js';

const silent = () => undefined;

describe('state plugin', () => {
  it('adds ctx.state, or the member you name, typed by the schema', async () => {
    let loads = 0;
    const cache = defineState({
      sources: { limits: custom({ load: () => (loads++, { rps: '5' }) }) },
      schema: z.object({ limits: z.object({ rps: z.coerce.number() }) }),
    });
    const main = handler({ use: [state(cache, { key: 'config' })], logSink: silent }, async (_input, ctx) => {
      expectTypeOf(ctx.config.limits.rps).toEqualTypeOf<number>();
      return ctx.config.limits.rps;
    });
    const results = await Promise.all([main.invoke({}), main.invoke({}), main.invoke({})]);
    expect(results).toEqual([5, 5, 5]);
    expect(loads).toBe(1);
  });

  it('turns a failed load into a retryable STATE_UNAVAILABLE without exposing the cause', async () => {
    const cache = defineState({
      sources: {
        flags: custom({
          load: () => {
            throw new Error('ECONNREFUSED 10.0.0.7:6379');
          },
        }),
      },
    });
    const main = handler({ use: [state(cache)], logSink: silent }, async () => 'unreachable');
    const error = (await main.invoke({}).catch((e: unknown) => e)) as Error & { code: string; retryable: boolean };
    expect(error).toMatchObject({ code: 'STATE_UNAVAILABLE', retryable: true });
    expect(error.message).not.toContain('10.0.0.7');
  });
});
