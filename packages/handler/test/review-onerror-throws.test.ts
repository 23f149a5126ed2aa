/**
 * An `onError` that throws, under `handler()` and `toMiddy()` (on the real `@middy/core`).
 *
 * Before: under `handler()` the plugins before it still received the original error, under
 * `toMiddy()` the new one (middy passes `request.error` on) — the same plugins saw different
 * errors depending on the host. Now both follow the onion (Hono's and Koa's compose, middy's
 * `request.error`): the replacement flows outward, and the invocation ends with it unless a
 * plugin before it recovers (`recoveredFrom(ctx)` then names the replacement).
 *
 * Also before: under `toMiddy()` the replacement was not logged at all, where `handler()` logs
 * `plugin onError hook replaced the error` with the plugin and both codes.
 */
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { handler, httpError, recoveredFrom, type Plugin } from '../src/index.js';
import { steadyHandler, toMiddy } from '../src/middy.js';

const lambdaContext = { awsRequestId: 'req-throws', functionName: 'f', getRemainingTimeInMillis: () => 30_000 };
const down = async (): Promise<never> => {
  throw new Error('down');
};
const hosts = ['handler', 'middy'] as const;

/** `use` run once under `handler()` or as a middy chain of `toMiddy()` middlewares (outermost first). */
function run(host: (typeof hosts)[number], use: Plugin[], logSink: (line: string) => void = () => undefined): Promise<unknown> {
  if (host === 'handler') return handler({ logSink, logLevel: 'warn', use }, down).invoke(undefined);
  let chain = middy(steadyHandler(down));
  for (const plugin of use) chain = chain.use(toMiddy(plugin, { logSink, logLevel: 'warn' }));
  return chain({}, lambdaContext as never);
}

/** An inner plugin whose `onError` maps every failure to a 502 `UPSTREAM_MAPPED`. */
const mapper: Plugin = {
  name: 'mapper',
  onError: () => {
    throw httpError(502, 'UPSTREAM_MAPPED', 'upstream failed');
  },
};

describe('an onError that throws', () => {
  it.each(hosts)('under %s: the plugins before it receive the replacement, and the invocation ends with it', async (host) => {
    const seen: string[] = [];
    const outer: Plugin = { name: 'outer', onError: (_ctx, error) => void seen.push(`outer.onError:${error.code}`) };
    await expect(run(host, [outer, mapper])).rejects.toMatchObject({ code: 'UPSTREAM_MAPPED' });
    expect(seen).toEqual(['outer.onError:UPSTREAM_MAPPED']);
  });

  it.each(hosts)('under %s: a plugin before it that recovers received the replacement, and recoveredFrom(ctx) names it', async (host) => {
    const seen: string[] = [];
    const cors: Plugin = { name: 'cors', after: (ctx, result) => void seen.push(`cors.after:${String(result)}:${recoveredFrom(ctx)?.code}`) };
    const fallback: Plugin = { name: 'fallback', onError: (_ctx, error) => (seen.push(`fallback.onError:${error.code}`), { answer: 'fallback' }) };
    await expect(run(host, [cors, fallback, mapper])).resolves.toBe('fallback');
    expect(seen).toEqual(['fallback.onError:UPSTREAM_MAPPED', 'cors.after:fallback:UPSTREAM_MAPPED']);
  });

  it.each(hosts)('under %s: is logged with the plugin and both codes, never its message or a stack', async (host) => {
    const lines: string[] = [];
    const buggy: Plugin = {
      name: 'buggy',
      onError: () => {
        throw new TypeError('cannot read properties of undefined (secret=hunter2)');
      },
    };
    const mapped = run(host, [buggy, mapper], (line) => lines.push(line));
    await expect(mapped).rejects.toBeDefined();
    const replaced = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((r) => r.msg === 'plugin onError hook replaced the error');
    expect(replaced).toEqual([
      expect.objectContaining({ level: 'warn', plugin: 'mapper', code: 'UPSTREAM_MAPPED', replaced: 'INTERNAL' }),
      expect.objectContaining({ level: 'warn', plugin: 'buggy', code: 'INTERNAL', replaced: 'UPSTREAM_MAPPED' }),
    ]);
    expect(lines.join('\n')).not.toMatch(/hunter2|upstream failed|"stack"|"message"/);
  });

  it('under middy: an onError that throws after a recovered answer failed again is logged the same way', async () => {
    const lines: string[] = [];
    const outer: Plugin = { name: 'outer', onError: (_ctx, error) => void lines.push(`outer.onError:${error.code}`) };
    const broken: Plugin = {
      name: 'broken',
      after: () => {
        throw new Error('bad');
      },
      onError: () => {
        throw httpError(503, 'BROKEN_MAPPED', 'mapped');
      },
    };
    const inner: Plugin = { name: 'inner', onError: () => ({ answer: 'first' }) };
    await expect(run('middy', [outer, broken, inner], (line) => lines.push(line))).rejects.toMatchObject({ code: 'BROKEN_MAPPED' });
    const replaced = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>).filter((r) => r.msg === 'plugin onError hook replaced the error');
    expect(replaced).toEqual([expect.objectContaining({ plugin: 'broken', code: 'BROKEN_MAPPED', replaced: 'INTERNAL' })]);
    expect(lines).toContain('outer.onError:BROKEN_MAPPED');
  });
});
