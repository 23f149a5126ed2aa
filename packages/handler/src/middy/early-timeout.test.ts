/**
 * middy's own early timeout (`timeoutEarlyInMillis`) answers while `steadyHandler`'s function
 * still runs. The steadyfn hooks used to take that for the function's outcome: with a
 * `timeoutEarlyResponse` that answers, `functionReturned(ctx)` held middy's answer (idempotency
 * stored it as the function's result while the function went on); with the default one (a
 * thrown `TimeoutError`), `onError` saw an error of no steadyfn kind, so idempotency released the
 * record for a retry to run beside the function still running. Now it is as at steadyfn's own
 * deadline: `DEADLINE_EXCEEDED` for the hooks, `ctx.signal` aborted. On the real `@middy/core`.
 */
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { functionReturned, functionStarted, recoveredFrom, type Plugin } from '../index.js';
import { steadyHandler, toMiddy } from '../middy.js';

const lambdaContext = (id: string) => ({ awsRequestId: id, functionName: 'f', getRemainingTimeInMillis: () => 60_000 });

/** A function that runs until the test releases it. */
function held(): { fn: () => Promise<string>; release: () => void } {
  let release!: () => void;
  const hold = new Promise<void>((resolve) => (release = resolve));
  return { fn: async () => (await hold, 'fn'), release };
}

describe("middy's early timeout while steadyHandler's function runs", () => {
  it('a timeoutEarlyResponse that answers: a recovery from DEADLINE_EXCEEDED for the after hooks, not the function’s return', async () => {
    const seen: unknown[] = [];
    const watcher: Plugin = {
      name: 'watcher',
      before: (ctx) => void ctx.signal,
      after: (ctx, result) =>
        void seen.push({ started: functionStarted(ctx), returned: functionReturned(ctx), recovered: recoveredFrom(ctx)?.code, aborted: ctx.signal.aborted, result }),
    };
    const { fn, release } = held();
    // middy answers 59_990 ms before the end (10 ms in), long before steadyfn's deadline.
    const main = middy(steadyHandler(fn), { timeoutEarlyInMillis: 59_990, timeoutEarlyResponse: () => ({ statusCode: 202, body: 'accepted' }) }).use(toMiddy(watcher));
    await expect(main({}, lambdaContext('t1') as never)).resolves.toEqual({ statusCode: 202, body: 'accepted' });
    release();
    expect(seen).toEqual([{ started: true, returned: undefined, recovered: 'DEADLINE_EXCEEDED', aborted: true, result: { statusCode: 202, body: 'accepted' } }]);
  });

  it('the default timeoutEarlyResponse (a thrown TimeoutError): onError gets DEADLINE_EXCEEDED; middy still throws its own error', async () => {
    const codes: string[] = [];
    const watcher: Plugin = { name: 'watcher', onError: (ctx, error) => void codes.push(`${error.code}:${ctx.signal.aborted}`), finally: (_ctx, outcome) => void codes.push(`finally:${outcome.ok ? 'ok' : outcome.error.code}`) };
    const { fn, release } = held();
    const main = middy(steadyHandler(fn), { timeoutEarlyInMillis: 59_990 }).use(toMiddy(watcher)).use(toMiddy({ name: 'inner', onError: () => undefined }));
    await expect(main({}, lambdaContext('t2') as never)).rejects.toMatchObject({ name: 'TimeoutError' });
    release();
    expect(codes).toEqual(['DEADLINE_EXCEEDED:true', 'finally:DEADLINE_EXCEEDED']);
  });

  it('a function that answers first is its own result, as before', async () => {
    const seen: unknown[] = [];
    const watcher: Plugin = { name: 'watcher', after: (ctx) => void seen.push(functionReturned(ctx)?.value, recoveredFrom(ctx)) };
    const main = middy(steadyHandler(async () => 'fn'), { timeoutEarlyInMillis: 5 }).use(toMiddy(watcher));
    await expect(main({}, lambdaContext('t3') as never)).resolves.toBe('fn');
    expect(seen).toEqual(['fn', undefined]);
  });
});
