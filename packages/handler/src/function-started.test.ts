/**
 * `functionStarted(ctx)`: what `after`, `onError` and `finally` hooks read to tell a failure or
 * answer of the function from one of a plugin before it (a plugin that records the function's
 * outcome — idempotency — must not store a later plugin's 401 as the function's result).
 */
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { functionStarted, handler, TerminalError, type Plugin } from './index.js';
import { steadyHandler, toMiddy } from './middy.js';

const silent = { logSink: () => undefined };

/** A plugin that notes `functionStarted(ctx)` in each of its closing hooks. */
function observer(seen: string[]): Plugin {
  return {
    name: 'observer',
    after: (ctx) => void seen.push(`after:${functionStarted(ctx)}`),
    onError: (ctx) => void seen.push(`onError:${functionStarted(ctx)}`),
    finally: (ctx) => void seen.push(`finally:${functionStarted(ctx)}`),
  };
}

describe('functionStarted(ctx)', () => {
  it('false in onError and finally when a later plugin’s before threw', async () => {
    const seen: string[] = [];
    const refuse: Plugin = { name: 'auth', before: () => { throw new TerminalError('UNAUTHENTICATED', 'no', { status: 401 }); } };
    await expect(handler({ ...silent, use: [observer(seen), refuse] }, () => 'ran').invoke({})).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(seen).toEqual(['onError:false', 'finally:false']);
  });

  it('false in after when a later plugin answered early, or a wrap did not call next()', async () => {
    const seen: string[] = [];
    const early: Plugin = { name: 'cache', before: () => ({ answer: 'cached' }) };
    await expect(handler({ ...silent, use: [observer(seen), early] }, () => 'ran').invoke({})).resolves.toBe('cached');
    const skip: Plugin = { name: 'skip', wrap: async () => 'skipped' };
    await expect(handler({ ...silent, use: [observer(seen), skip] }, () => 'ran').invoke({})).resolves.toBe('skipped');
    expect(seen).toEqual(['after:false', 'finally:false', 'after:false', 'finally:false']);
  });

  it('true once the function was called: returned, threw, or under a wrap', async () => {
    const seen: string[] = [];
    await handler({ ...silent, use: [observer(seen)] }, () => 'ran').invoke({});
    await expect(handler({ ...silent, use: [observer(seen)] }, () => { throw new TerminalError('OUT_OF_STOCK', 'none left'); }).invoke({})).rejects.toMatchObject({ code: 'OUT_OF_STOCK' });
    const around: Plugin = { name: 'around', wrap: (_ctx, next) => next() };
    await handler({ ...silent, use: [observer(seen), around] }, () => 'ran').invoke({});
    expect(seen).toEqual(['after:true', 'finally:true', 'onError:true', 'finally:true', 'after:true', 'finally:true']);
  });

  it('true for an object the handler did not make (not known), also one made from a ctx', async () => {
    expect(functionStarted({})).toBe(true);
    let derived: boolean | undefined;
    const peek: Plugin = { name: 'peek', after: (ctx) => void (derived = functionStarted(Object.create(ctx) as object)) };
    await handler({ ...silent, use: [peek] }, () => 'ran').invoke({});
    expect(derived).toBe(true);
  });

  it('true inside a function without plugins', async () => {
    await expect(handler(silent, (_input, ctx) => functionStarted(ctx)).invoke({})).resolves.toBe(true);
  });

  it('under middy with steadyHandler: false when a wrap answered without calling next()', async () => {
    const seen: string[] = [];
    let ran = false;
    const main = middy(steadyHandler(async () => ((ran = true), 'ran')))
      .use(toMiddy(observer(seen), silent))
      .use(toMiddy({ name: 'skip', wrap: async () => 'skipped' }));
    await expect(main({}, { awsRequestId: 'r-1', functionName: 'f', getRemainingTimeInMillis: () => 30_000 } as never)).resolves.toBe('skipped');
    expect(ran).toBe(false);
    expect(seen).toEqual(['after:false', 'finally:false']);
  });
});
