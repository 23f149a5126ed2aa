/**
 * middy's early timeout (`timeoutEarlyInMillis`) while a plain handler (not `steadyHandler`)
 * still runs, under `middyPlugin()`: it wraps `timeoutEarlyResponse` (yours or middy's default)
 * to see the timeout fire, and the steadyfn hooks take it as steadyfn's deadline. They used to
 * see middy's `TimeoutError` as a plain failure (and a `timeoutEarlyResponse` answer as the
 * function's result). On the real `@middy/core`.
 */
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { functionReturned, recoveredFrom, type Plugin } from '../index.js';
import { middyPlugin, toMiddy } from '../middy.js';

const lambdaContext = (id: string, remainingMs = 60_000) => {
  const end = Date.now() + remainingMs;
  return { awsRequestId: id, functionName: 'f', getRemainingTimeInMillis: () => end - Date.now() };
};

/** A plain handler that runs until the test releases it. */
function held(): { fn: () => Promise<string>; release: () => void } {
  let release!: () => void;
  const hold = new Promise<void>((resolve) => (release = resolve));
  return { fn: async () => (await hold, 'fn'), release };
}

describe("middy's early timeout while a plain handler runs, under middyPlugin()", () => {
  it("middy's default TimeoutError: onError and finally get DEADLINE_EXCEEDED, ctx.signal aborted; middy still throws its own", async () => {
    const codes: string[] = [];
    const watcher: Plugin = { name: 'watcher', onError: (ctx, error) => void codes.push(`${error.code}:${ctx.signal.aborted}`), finally: (_ctx, outcome) => void codes.push(`finally:${outcome.ok ? 'ok' : outcome.error.code}`) };
    const { fn, release } = held();
    const main = middy(fn, middyPlugin({ timeoutEarlyInMillis: 59_990 })).use(toMiddy(watcher));
    await expect(main({}, lambdaContext('p1') as never)).rejects.toMatchObject({ name: 'TimeoutError', cause: { package: '@middy/core' } });
    release();
    expect(codes).toEqual(['DEADLINE_EXCEEDED:true', 'finally:DEADLINE_EXCEEDED']);
  });

  it('your timeoutEarlyResponse and requestStart are still called; its answer is a recovery from DEADLINE_EXCEEDED, not the function’s result', async () => {
    const seen: unknown[] = [];
    const calls: string[] = [];
    const watcher: Plugin = { name: 'watcher', after: (ctx, result) => void seen.push({ returned: functionReturned(ctx), recovered: recoveredFrom(ctx)?.code, result }) };
    const { fn, release } = held();
    const config = { timeoutEarlyInMillis: 59_990, requestStart: () => void calls.push('start'), timeoutEarlyResponse: () => (calls.push('timeout'), { statusCode: 202 }) };
    const main = middy(fn, middyPlugin(config)).use(toMiddy(watcher));
    await expect(main({}, lambdaContext('p2') as never)).resolves.toEqual({ statusCode: 202 });
    release();
    expect({ seen, calls }).toEqual({ seen: [{ returned: undefined, recovered: 'DEADLINE_EXCEEDED', result: { statusCode: 202 } }], calls: ['start', 'timeout'] });
  });

  it('two requests open at once: only the one whose early timeout fired is cut off', async () => {
    const outcomes: string[] = [];
    const watcher: Plugin = { name: 'watcher', finally: (ctx, outcome) => void outcomes.push(`${ctx.requestId}:${outcome.ok ? (recoveredFrom(ctx)?.code ?? 'ok') : outcome.error.code}`) };
    const slow = held();
    let releaseFast!: () => void;
    const fastHold = new Promise<void>((resolve) => (releaseFast = resolve));
    const main = middy(async (event: { slow?: boolean }) => (event.slow ? slow.fn() : (await fastHold, 'fast')), middyPlugin({ timeoutEarlyInMillis: 59_990 })).use(toMiddy(watcher));
    // The first has a long way to its early timeout; the second fires it 10 ms in.
    const long = main({}, lambdaContext('long', 600_000) as never);
    await expect(main({ slow: true }, lambdaContext('short') as never)).rejects.toMatchObject({ name: 'TimeoutError' });
    releaseFast();
    await expect(long).resolves.toBe('fast');
    slow.release();
    expect(outcomes).toEqual(['short:DEADLINE_EXCEEDED', 'long:ok']);
  });

  it('a plain async before listed first, requests overlapping: the one timing out is cut off, not the one still far from its timeout', async () => {
    const outcomes: string[] = [];
    const watcher: Plugin = { name: 'watcher', finally: (ctx, outcome) => void outcomes.push(`${ctx.requestId}:${outcome.ok ? (recoveredFrom(ctx)?.code ?? 'ok') : outcome.error.code}`) };
    let openAuth!: () => void;
    const authHold = new Promise<void>((resolve) => (openAuth = resolve));
    const slow = held();
    let releaseLong!: () => void;
    const longHold = new Promise<void>((resolve) => (releaseLong = resolve));
    let longRunning = false;
    // The short one waits in this plain before (entered by no steadyfn middleware yet) while the long one starts.
    const auth = { before: async (request: { event: { slow?: boolean } }) => (request.event.slow ? authHold : undefined) };
    const main = middy(async (event: { slow?: boolean }) => (event.slow ? slow.fn() : ((longRunning = true), await longHold, 'long')), middyPlugin({ timeoutEarlyInMillis: 59_990 }))
      .use(auth)
      .use(toMiddy(watcher));
    const short = main({ slow: true }, lambdaContext('short') as never).catch((error: Error) => error.name);
    await new Promise((resolve) => setImmediate(resolve));
    const long = main({}, lambdaContext('long', 600_000) as never);
    while (!longRunning) await new Promise((resolve) => setImmediate(resolve));
    openAuth();
    expect(await short).toBe('TimeoutError');
    releaseLong();
    await expect(long).resolves.toBe('long');
    slow.release();
    expect(outcomes).toEqual(['short:DEADLINE_EXCEEDED', 'long:ok']);
  });

  it('a context whose clock does not move (a stub returning 60 s): the early timeout still cuts the request off', async () => {
    const codes: string[] = [];
    const watcher: Plugin = { name: 'watcher', onError: (ctx, error) => void codes.push(`${error.code}:${ctx.signal.aborted}`) };
    const { fn, release } = held();
    const main = middy(fn, middyPlugin({ timeoutEarlyInMillis: 59_990 })).use(toMiddy(watcher));
    const frozen = { awsRequestId: 'frozen', functionName: 'f', getRemainingTimeInMillis: () => 60_000 };
    await expect(main({}, frozen as never)).rejects.toMatchObject({ name: 'TimeoutError' });
    release();
    expect(codes).toEqual(['DEADLINE_EXCEEDED:true']);
  });

  it('a handler that answers first is its own result, as before', async () => {
    const seen: unknown[] = [];
    const watcher: Plugin = { name: 'watcher', after: (ctx) => void seen.push(recoveredFrom(ctx)) };
    const main = middy(async () => 'fn', middyPlugin({ timeoutEarlyInMillis: 5 })).use(toMiddy(watcher));
    await expect(main({}, lambdaContext('p3') as never)).resolves.toBe('fn');
    expect(seen).toEqual([undefined]);
  });

  it('a timeoutEarlyResponse that is not a function is refused (CONFIG_INVALID)', () => {
    expect(() => middyPlugin({ timeoutEarlyResponse: 202 } as never)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
