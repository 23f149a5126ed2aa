/**
 * An `onError` that recovers (`{ answer }`): the core stopped at it, so the plugins before it got
 * neither `onError` nor `after` — an outer CORS-like plugin's headers were missing from the
 * recovered answer (middyjs/middy#671). Now the answer flows outward through their `after`
 * (onion order), with `recoveredFrom(ctx)` naming the error.
 */
import { expect, it } from 'vitest';
import { handler, httpResult, recoveredFrom, type Plugin } from '../src/index.js';

it('the recovered answer flows out through the outer plugins’ after, which may decorate it', async () => {
  const seen: string[] = [];
  const cors: Plugin = {
    name: 'cors',
    after: (ctx, result) => {
      seen.push(`cors.after:${recoveredFrom(ctx)?.code}`);
      const res = result as { status: number; headers: Record<string, string>; body: unknown };
      return { answer: { ...res, headers: { ...res.headers, 'access-control-allow-origin': '*' } } };
    },
    onError: () => void seen.push('cors.onError'),
  };
  const fallback: Plugin = { name: 'fallback', onError: () => (seen.push('fallback.onError'), { answer: httpResult({ status: 503, body: { retry: true } }) }) };
  const direct = handler({ logSink: () => undefined, use: [cors, fallback] }, async () => {
    throw new Error('down');
  });
  const out = await direct.invoke(undefined);
  expect(seen).toEqual(['fallback.onError', 'cors.after:INTERNAL']);
  expect(out).toMatchObject({ headers: { 'access-control-allow-origin': '*' } });
});

it('an after that throws on the recovered answer fails it again: onError runs for it and the plugins before it', async () => {
  const seen: string[] = [];
  const outer: Plugin = { name: 'outer', onError: (_ctx, error) => (seen.push(`outer.onError:${error.code}`), { answer: 'second' }) };
  const middle: Plugin = {
    name: 'middle',
    after: () => {
      throw Object.assign(new Error('bad'), { code: 'MIDDLE_BROKE' });
    },
    onError: (_ctx, error) => void seen.push(`middle.onError:${error.code}`),
  };
  const inner: Plugin = { name: 'inner', onError: () => ({ answer: 'first' }) };
  const main = handler({ logSink: () => undefined, use: [outer, middle, inner] }, async () => {
    throw new Error('down');
  });
  await expect(main.invoke(undefined)).resolves.toBe('second');
  expect(seen).toEqual(['middle.onError:INTERNAL', 'outer.onError:INTERNAL']);
});
