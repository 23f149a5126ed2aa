/**
 * Review of the `cacheErrors` guard (a predicate that throws or returns no boolean counts as
 * `false`), on Redis:
 * - an `async` predicate that rejects (`async (e) => e.details.kind === 'x'` on an error without
 *   `details`): its Promise was dropped without a `catch`, so the rejection was an unhandled
 *   rejection — under Node's default (`--unhandled-rejections=throw`) it ends the process, the
 *   Lambda runtime exits and every invocation in flight on the instance is lost;
 * - a predicate that throws a value whose class cannot be read (a revoked Proxy: `instanceof`
 *   throws; an Error whose `name` getter throws), or returns a revoked Proxy (`instanceof
 *   Promise` throws): the guard itself threw, so `onError` failed, the caller got `500 INTERNAL`
 *   and the key stayed held (a 409 for every retry) until its lease ended.
 * Each now answers the function's own error and releases the record; the retry runs again.
 */
import { randomUUID } from 'node:crypto';
import { handler, TerminalError, type SteadyError } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { idempotency } from '../src/index.js';
import { httpEvent, lambdaContext, useBackend } from './support.js';

/** Turns of the event loop: Node reports an unhandled rejection once the microtask queue drains. */
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

describe('review: a cacheErrors function that rejects, or throws or returns a hostile value (redis)', () => {
  const backend = useBackend('redis');

  async function twice(cacheErrors: (error: SteadyError) => boolean): Promise<{ lines: Record<string, unknown>[] }> {
    const lines: string[] = [];
    let runs = 0;
    const main = handler(
      { name: `ceh-${randomUUID()}`, logLevel: 'warn', logSink: (line) => lines.push(line), use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: false, cacheErrors })] },
      async () => {
        runs++;
        throw new TerminalError('OUT_OF_STOCK', 'Out of stock', { status: 409 });
      },
    );
    const key = randomUUID();
    for (let i = 1; i <= 2; i++) {
      const res = (await main.aws(httpEvent({ key, body: { sku: 'tea-42' } }), lambdaContext())) as { statusCode: number; headers: Record<string, string>; body: string };
      // The function's own error, not 500 INTERNAL from the hook; the record released, so the retry runs again (not a 409).
      expect({ status: res.statusCode, code: JSON.parse(res.body).code }).toEqual({ status: 409, code: 'OUT_OF_STOCK' });
      expect(res.headers['Idempotency-Replayed']).toBeUndefined();
      expect(runs).toBe(i);
    }
    return { lines: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
  }

  it('an async predicate that rejects: no unhandled rejection, the function\'s own error answered, warned once', async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      // JavaScript callers only: TypeScript refuses a function returning a Promise here.
      const rejecting = (async (e: SteadyError) => (e as unknown as { details: { kind: string } }).details.kind === 'x') as unknown as (error: SteadyError) => boolean;
      const { lines } = await twice(rejecting);
      await turns(5);
      expect(unhandled).toEqual([]);
      const warnings = lines.filter((l) => l.code === 'IDEMPOTENCY_CACHE_ERRORS_FAILED');
      // A configuration bug, the same on every call: said once per plugin instance.
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.msg).toContain('returned a Promise');
    } finally {
      process.off('unhandledRejection', listener);
    }
  });

  it('a predicate that throws a revoked Proxy, or an Error whose name getter throws: the function\'s own error, warned with the type only', async () => {
    const { lines } = await twice(() => {
      throw revoked();
    });
    expect(lines.filter((l) => l.code === 'IDEMPOTENCY_CACHE_ERRORS_FAILED').map((l) => l.cause)).toEqual(['object', 'object']);

    const hostile = new Error('secret-in-message');
    Object.defineProperty(hostile, 'name', {
      get() {
        throw new Error('name getter');
      },
    });
    const named = await twice(() => {
      throw hostile;
    });
    expect(named.lines.filter((l) => l.code === 'IDEMPOTENCY_CACHE_ERRORS_FAILED').map((l) => l.cause)).toEqual(['object', 'object']);
    expect(JSON.stringify(named.lines)).not.toContain('secret-in-message');
  });

  it('a predicate that returns a revoked Proxy: counts as false, the function\'s own error answered', async () => {
    const { lines } = await twice(() => revoked() as unknown as boolean);
    const warnings = lines.filter((l) => l.code === 'IDEMPOTENCY_CACHE_ERRORS_FAILED');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('returned object');
  });
});
