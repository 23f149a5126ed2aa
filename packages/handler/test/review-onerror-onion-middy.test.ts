/**
 * Review finding D5: `toMiddy()` is documented to give steadyfn plugins `handler()`'s onError
 * onion (types.ts `Plugin.onError`, README "Plugins"), but when an `after` threw on a recovered
 * answer (`recoverOutward`, middy/middleware.ts) the adapter ran every `finally` and threw the
 * raw error to middy: no `onError` for that plugin and those before it, where `handler()` gives
 * them one (and lets them recover again). The same chains as review-onerror-onion.test.ts, on the
 * real `@middy/core`.
 */
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { handler, recoveredFrom, type Plugin } from '../src/index.js';
import { steadyHandler, toMiddy } from '../src/middy.js';

const silent = { logSink: () => undefined };
const lambdaContext = { awsRequestId: 'req-d5', functionName: 'f', getRemainingTimeInMillis: () => 30_000 };
const down = async (): Promise<never> => {
  throw new Error('down');
};

/** `use` as a middy chain of `toMiddy()` middlewares (outermost first, as `handler()`'s `use`). */
function onMiddy(use: Plugin[]) {
  let chain = middy(steadyHandler(down));
  for (const plugin of use) chain = chain.use(toMiddy(plugin, silent));
  return (event: unknown) => chain(event, lambdaContext as never);
}

describe('an after that throws on a recovered answer, under toMiddy()', () => {
  it('fails it again: onError runs for it and the plugins before it, which may recover (as under handler())', async () => {
    for (const run of ['handler', 'middy'] as const) {
      const seen: string[] = [];
      const outer: Plugin = { name: 'outer', onError: (_c, e) => (seen.push(`outer.onError:${e.code}`), { answer: 'second' }) };
      const middle: Plugin = {
        name: 'middle',
        after: () => {
          throw new Error('bad');
        },
        onError: (_c, e) => void seen.push(`middle.onError:${e.code}`),
      };
      const inner: Plugin = { name: 'inner', onError: () => ({ answer: 'first' }) };
      const use = [outer, middle, inner];
      const result = run === 'handler' ? handler({ ...silent, use }, down).invoke(undefined) : onMiddy(use)({});
      await expect(result).resolves.toBe('second');
      expect([run, seen]).toEqual([run, ['middle.onError:INTERNAL', 'outer.onError:INTERNAL']]);
    }
  });

  it('a second recovery flows on through the afters before it; finally sees the final outcome', async () => {
    const seen: string[] = [];
    const cors: Plugin = {
      name: 'cors',
      after: (ctx, result) => (seen.push(`cors.after:${String(result)}:${recoveredFrom(ctx)?.code}`), { answer: `${String(result)}+cors` }),
      finally: (_c, outcome) => void seen.push(`cors.finally:${outcome.ok}:${String(outcome.ok && outcome.value)}`),
    };
    const fallback: Plugin = { name: 'fallback', onError: (_c, e) => (seen.push(`fallback.onError:${e.code}`), { answer: 'second' }) };
    const broken: Plugin = {
      name: 'broken',
      after: () => {
        throw new Error('bad');
      },
    };
    const inner: Plugin = { name: 'inner', onError: () => ({ answer: 'first' }) };
    await expect(onMiddy([cors, fallback, broken, inner])({})).resolves.toBe('second+cors');
    expect(seen).toEqual(['fallback.onError:INTERNAL', 'cors.after:second:INTERNAL', 'cors.finally:true:second+cors']);
  });

  it('none recovering: every onError before it has run, finally sees the failure, and middy throws the error the after threw', async () => {
    const seen: string[] = [];
    const outer: Plugin = {
      name: 'outer',
      onError: (_c, e) => void seen.push(`outer.onError:${e.code}`),
      finally: (_c, outcome) => void seen.push(`outer.finally:${outcome.ok}`),
    };
    const middle: Plugin = {
      name: 'middle',
      after: () => {
        throw new Error('bad');
      },
      onError: (_c, e) => void seen.push(`middle.onError:${e.code}`),
    };
    const inner: Plugin = { name: 'inner', onError: () => ({ answer: 'first' }) };
    await expect(onMiddy([outer, middle, inner])({})).rejects.toThrow('bad');
    expect(seen).toEqual(['middle.onError:INTERNAL', 'outer.onError:INTERNAL', 'outer.finally:false']);
  });
});
