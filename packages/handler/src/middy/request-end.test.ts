/**
 * A plain middy middleware (not a steadyfn one) listed after the `toMiddy()` ones can end the
 * request where no steadyfn hook runs any more: its `before` answers early (middy skips the
 * handler and every `after`), its `after` answers early, its `onError` recovers or throws first.
 * Then the steadyfn `finally` hooks never ran and the deadline watch stayed ref'd until the
 * deadline. `middyPlugin()` (middy's `requestEnd` hook) ends such a request: every `finally` once,
 * with the final outcome, and the deadline released — never a second time on the usual paths.
 * On the real `@middy/core`.
 */
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import type { Outcome, Plugin } from '../index.js';
import { middyPlugin, steadyHandler, toMiddy } from '../middy.js';

const lambdaContext = (id: string) => ({ awsRequestId: id, functionName: 'f', getRemainingTimeInMillis: () => 60_000 });

/** Ref'd timers of this process: the deadline watch is one while an invocation holds it. */
const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

/** A steadyfn plugin that reads `ctx.signal` (the deadline watch then holds the process) and records its finally. */
function watched(outcomes: Outcome[]): Plugin {
  return {
    name: 'watched',
    before: (ctx) => void ctx.signal,
    finally: (_ctx, outcome) => void outcomes.push(outcome),
  };
}

const plain = {
  answersEarly: { before: async () => ({ statusCode: 503, body: 'maintenance' }) },
  throwsInBefore: { before: async () => Promise.reject(new Error('unauthorised')) },
  recovers: { onError: async () => ({ statusCode: 401, body: 'no' }) },
  rethrows: {
    onError: async () => {
      throw new Error('replaced by a plain onError');
    },
  },
  answersFromAfter: { after: async () => ({ statusCode: 200, body: 'from after' }) },
};

/** Runs `main` once and says what the process still holds and what the steadyfn finally saw. */
async function run(main: (event: unknown, context: never) => Promise<unknown>, id: string, outcomes: Outcome[]) {
  const before = timers();
  const settled = await main({}, lambdaContext(id) as never).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  return { settled, held: timers() - before, outcomes };
}

describe('middyPlugin(): a request a plain middleware ended still ends for steadyfn', () => {
  it("a plain before answering early after toMiddy's: finally once with the answer; the deadline watch released", async () => {
    const outcomes: Outcome[] = [];
    let ran = 0;
    const main = middy(
      steadyHandler(async () => ++ran),
      middyPlugin(),
    )
      .use(toMiddy(watched(outcomes)))
      .use(plain.answersEarly);
    const { settled, held } = await run(main, 'e1', outcomes);
    expect(settled).toEqual({ ok: true, value: { statusCode: 503, body: 'maintenance' } });
    expect(ran).toBe(0);
    expect(outcomes).toEqual([{ ok: true, value: { statusCode: 503, body: 'maintenance' } }]);
    expect(held).toBe(0);
  });

  it('a plain after answering early inside toMiddy: finally once with its answer', async () => {
    const outcomes: Outcome[] = [];
    const main = middy(async () => ({ statusCode: 201, body: 'created' }), middyPlugin())
      .use(toMiddy(watched(outcomes)))
      .use(plain.answersFromAfter);
    const { settled, held } = await run(main, 'e2', outcomes);
    expect(settled).toEqual({ ok: true, value: { statusCode: 200, body: 'from after' } });
    expect(outcomes).toEqual([{ ok: true, value: { statusCode: 200, body: 'from after' } }]);
    expect(held).toBe(0);
  });

  it('a plain onError inside toMiddy recovering: finally once with the recovered answer', async () => {
    const outcomes: Outcome[] = [];
    const main = middy(async () => Promise.reject(new Error('down')), middyPlugin())
      .use(toMiddy(watched(outcomes)))
      .use(plain.recovers);
    const { settled, held } = await run(main, 'e3', outcomes);
    expect(settled).toEqual({ ok: true, value: { statusCode: 401, body: 'no' } });
    expect(outcomes).toEqual([{ ok: true, value: { statusCode: 401, body: 'no' } }]);
    expect(held).toBe(0);
  });

  it('a plain onError inside toMiddy throwing: finally once with the error middy throws', async () => {
    const outcomes: Outcome[] = [];
    const main = middy(async () => Promise.reject(new Error('down')), middyPlugin())
      .use(toMiddy(watched(outcomes)))
      .use(plain.rethrows);
    const { settled, held } = await run(main, 'e4', outcomes);
    expect(settled).toMatchObject({ ok: false, error: { message: 'replaced by a plain onError' } });
    expect(outcomes).toEqual([expect.objectContaining({ ok: false })]);
    expect(held).toBe(0);
  });

  it("a plain before throwing after toMiddy's: toMiddy's onError runs finally, once (with or without the plugin)", async () => {
    for (const config of [middyPlugin(), undefined]) {
      const outcomes: Outcome[] = [];
      const main = middy(async () => 'never', config).use(toMiddy(watched(outcomes))).use(plain.throwsInBefore);
      const { settled, held } = await run(main, 'e5', outcomes);
      expect(settled).toMatchObject({ ok: false, error: { message: 'unauthorised' } });
      expect(outcomes).toEqual([expect.objectContaining({ ok: false })]);
      expect(held).toBe(0);
    }
  });

  it("middy's early timeout: toMiddy's onError runs finally, once", async () => {
    const outcomes: Outcome[] = [];
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    // middy answers (TimeoutError) 59_990 ms before the end, long before steadyfn's deadline.
    const main = middy(
      steadyHandler(async () => hold),
      middyPlugin({ timeoutEarlyInMillis: 59_990 }),
    ).use(toMiddy(watched(outcomes)));
    const { settled } = await run(main, 'e6', outcomes);
    release();
    expect(settled).toMatchObject({ ok: false, error: { name: 'TimeoutError' } });
    expect(outcomes).toEqual([expect.objectContaining({ ok: false })]);
  });

  it('the usual paths: finally once, and the plugin keeps the middy options and hooks it is given', async () => {
    const outcomes: Outcome[] = [];
    const ends: unknown[] = [];
    const main = middy(
      steadyHandler(async () => ({ statusCode: 200, body: 'ok' })),
      middyPlugin({ requestEnd: (request) => void ends.push(request.response) }),
    ).use(toMiddy(watched(outcomes)));
    const { settled, held } = await run(main, 'e7', outcomes);
    expect(settled).toEqual({ ok: true, value: { statusCode: 200, body: 'ok' } });
    expect(outcomes).toEqual([{ ok: true, value: { statusCode: 200, body: 'ok' } }]);
    expect(ends).toEqual([{ statusCode: 200, body: 'ok' }]);
    expect(held).toBe(0);

    const failing = middy(async () => Promise.reject(new Error('down')), middyPlugin()).use(toMiddy(watched(outcomes)));
    await expect(failing({}, lambdaContext('e8') as never)).rejects.toThrow('down');
    expect(outcomes).toHaveLength(2);
  });

  it('refuses what is not a middy plugin object', () => {
    expect(() => middyPlugin('x' as never)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => middyPlugin({ requestEnd: 'x' } as never)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
