/**
 * Review: a validated input holding a value JSON writes as `{}` although it has a value — a
 * `RegExp` from `z.string().transform((s) => new RegExp(s))`, or a class keeping its value in
 * private fields without a `toJSON()` — was hashed as `{}`. Two different requests then had
 * one input key (`'input'`, or `'auto'` without a header): the second was answered the first
 * one's replay and its own effect never made. A `RegExp` now counts by its source and flags
 * (as a `Date`, `Map` or `Set` already counts by its value); a value that cannot be seen at
 * all is refused with a typed 500 `IDEMPOTENCY_INPUT_UNHASHABLE` naming the field, before any
 * record is claimed and before the function runs. On Redis and FerretDB.
 */
import { randomUUID } from 'node:crypto';
import { handler, httpResult } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { canonicalHash, idempotency } from '../src/index.js';
import { counting, httpEvent, lambdaContext, silentSink, useBackend, type BackendName } from './support.js';

/** An API token kept in a private field, with no `toJSON()`: JSON writes it as `{}`. */
class Token {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
}

/** What `fn` threw (or fails the test when it did not throw). */
function thrown(fn: () => unknown): Record<string, unknown> {
  try {
    fn();
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error('expected a throw');
}

describe('review: input values JSON writes as {} do not share one input key', () => {
  it('canonicalHash tells two RegExps apart (source and flags), and one RegExp equal to itself', () => {
    expect(canonicalHash({ p: /^a+$/ })).not.toBe(canonicalHash({ p: /^b+$/ }));
    expect(canonicalHash({ p: /^a+$/ })).not.toBe(canonicalHash({ p: /^a+$/i }));
    expect(canonicalHash({ p: /^a+$/ })).not.toBe(canonicalHash({ p: {} }));
    expect(canonicalHash({ p: /^a+$/ })).not.toBe(canonicalHash({ p: '/^a+$/' }));
    expect(canonicalHash({ p: /^a+$/ })).toBe(canonicalHash({ p: new RegExp('^a+$') }));
  });

  it('canonicalHash counts a boxed primitive as its value, as JSON writes it', () => {
    expect(canonicalHash({ n: Object(1) })).not.toBe(canonicalHash({ n: Object(2) }));
    expect(canonicalHash({ n: Object(1) })).toBe(canonicalHash({ n: 1 }));
    expect(canonicalHash(Object(''))).toBe(canonicalHash(''));
  });

  it('canonicalHash refuses a value it cannot see, with a typed error naming the field', () => {
    const error = thrown(() => canonicalHash({ auth: [{ token: new Token('secret-a') }] }));
    expect(error).toMatchObject({ code: 'IDEMPOTENCY_INPUT_UNHASHABLE', status: 500, retryable: false });
    expect(error.issues).toEqual([{ field: 'auth.0.token', message: expect.stringContaining('Token'), expected: expect.stringContaining('toJSON()') }]);
    // Never the value itself.
    expect(JSON.stringify(error)).not.toContain('secret-a');
    expect(String(error.message)).not.toContain('secret-a');
    expect(thrown(() => canonicalHash(new Token('x')))).toMatchObject({ code: 'IDEMPOTENCY_INPUT_UNHASHABLE', issues: [{ field: '' }] });
    // A Map's value and a Set's member are found too.
    expect(thrown(() => canonicalHash({ m: new Map([['k', new Token('x')]]) }))).toMatchObject({ issues: [{ field: 'm.k' }] });
    expect(thrown(() => canonicalHash({ s: new Set([1, new Token('x')]) }))).toMatchObject({ issues: [{ field: 's.1' }] });
  });

  it('a class instance with its own fields, or a toJSON(), still hashes as JSON writes it', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    expect(canonicalHash(new Point(1, 2))).toBe(canonicalHash({ x: 1, y: 2 }));
    expect(canonicalHash(Object.create(null))).toBe(canonicalHash({}));
  });

  for (const name of ['redis', 'mongodb'] as BackendName[]) {
    describe(name, () => {
      const backend = useBackend(name);

      it("key 'input': two patterns are two requests, each run once; a repeat replays", async () => {
        const ran: string[] = [];
        const main = handler(
          {
            name: `filters-${randomUUID()}`,
            logSink: silentSink(),
            input: z.object({ pattern: z.string().transform((s) => new RegExp(s)) }),
            use: [idempotency({ store: backend.store, ttlMs: 60_000, key: 'input', localCache: false })],
          },
          async (input) => {
            ran.push(input.pattern.source);
            return { saved: input.pattern.source };
          },
        );
        expect(await main.invoke({ pattern: '^a+$' })).toEqual({ saved: '^a+$' });
        expect(await main.invoke({ pattern: '^b+$' })).toEqual({ saved: '^b+$' });
        expect(await main.invoke({ pattern: '^a+$' })).toEqual({ saved: '^a+$' });
        expect(ran).toEqual(['^a+$', '^b+$']);
      });

      it("an input it cannot see is a terminal IDEMPOTENCY_INPUT_UNHASHABLE naming the field (key 'input', and an HTTP request's header key); nothing is claimed and nothing runs", async () => {
        const store = counting(backend.store);
        const ran: string[] = [];
        const lines: string[] = [];
        const tokens = (key?: 'input') =>
          handler(
            {
              name: `tokens-${randomUUID()}`,
              logSink: (line) => lines.push(line),
              input: z.object({ token: z.string().transform((s) => new Token(s)) }),
              use: [idempotency({ store, ttlMs: 60_000, localCache: false, ...(key ? { key } : {}) })],
            },
            async (input) => {
              ran.push(input.token.reveal());
              return httpResult({ status: 201, body: { ok: true } });
            },
          );
        const byInput = tokens('input');
        await expect(byInput.invoke({ token: 'tok-a' })).rejects.toMatchObject({ code: 'IDEMPOTENCY_INPUT_UNHASHABLE', retryable: false });
        await expect(byInput.invoke({ token: 'tok-b' })).rejects.toMatchObject({ code: 'IDEMPOTENCY_INPUT_UNHASHABLE', retryable: false });
        const res = (await tokens().aws(httpEvent({ key: randomUUID(), body: { token: 'tok-c' } }), lambdaContext())) as { statusCode: number; body: string };
        expect(res.statusCode).toBe(500);
        expect(JSON.parse(res.body)).toMatchObject({ code: 'IDEMPOTENCY_INPUT_UNHASHABLE' });
        expect(ran).toEqual([]);
        expect(store.total()).toBe(0);
        // The log names the field under the input (not under the hashed [method, path, input] array), never the value.
        const failed = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.code === 'IDEMPOTENCY_INPUT_UNHASHABLE');
        expect(failed).toHaveLength(3);
        for (const line of failed) expect(line.issues).toEqual([{ field: 'input.token', expected: expect.stringContaining('toJSON()') }]);
        expect(lines.join('\n')).not.toMatch(/tok-[abc]/);
      });
    });
  }
});
