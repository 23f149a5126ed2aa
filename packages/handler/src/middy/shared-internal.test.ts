/**
 * middy ≤ 6 builds every request with `internal: plugin.internal ?? {}` — the same object on
 * every invocation when `middy(handler, { internal: {...} })` is given (middy 7.9 copies it).
 * The steadyfn state of one request must not be found by the next one through it. Driven here
 * as middy 6.4.5 drives its middlewares (before → handler → after, then requestEnd), with one
 * shared `internal` object across two requests.
 */
import { describe, expect, it } from 'vitest';
import type { Plugin } from '../index.js';
import { middyPlugin, steadyHandler, toMiddy } from '../middy.js';

const lambdaContext = (id: string) => ({ awsRequestId: id, functionName: 'f', getRemainingTimeInMillis: () => 60_000 });

describe('toMiddy(): a shared middy `internal` object (middy ≤ 6 with the `internal` option)', () => {
  it('each request gets its own steadyfn state: extend and finally run for both', async () => {
    const seen: string[] = [];
    const conn: Plugin<{ db: object }> = {
      name: 'conn',
      extend: () => ({ db: {} }),
      before: (ctx) => void seen.push(`before:${ctx.requestId}`),
      finally: (ctx) => void seen.push(`finally:${ctx.requestId}`),
    };
    const mw = toMiddy(conn);
    const plugin = middyPlugin({ internal: { region: 'eu-west-1' } });
    const handler = steadyHandler(async (_event, _context, ctx) => ctx.requestId);
    const shared = plugin.internal;
    const answers: unknown[] = [];
    for (const id of ['r1', 'r2']) {
      const request = { event: {}, context: lambdaContext(id), response: undefined as unknown, error: undefined, internal: shared };
      try {
        await mw.before!(request as never);
        request.response = await handler(request.event as never, request.context as never);
        await mw.after!(request as never);
        answers.push(request.response);
      } catch (error) {
        answers.push((error as { code?: string }).code ?? error);
      }
      await plugin.requestEnd(request);
    }
    expect({ answers, seen }).toEqual({ answers: ['r1', 'r2'], seen: ['before:r1', 'finally:r1', 'before:r2', 'finally:r2'] });
  });
});
