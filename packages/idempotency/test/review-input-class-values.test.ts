/**
 * Review: a validated input holding a value object — a `URL` from `z.string().url().transform((s) =>
 * new URL(s))`, a class keeping its value in private fields with a `toJSON()` (a Money or
 * Temporal-style type) — was hashed by its own enumerable fields, which such objects do not
 * have: every `URL` hashed as `{}`. Two different requests then had one input key (`'auto'`
 * without a header, `'input'`) and the second was answered the first one's replay, its own
 * effect never made; one `Idempotency-Key` reused with another URL was replayed instead of the
 * documented 422. The same value JSON gives such an object (its `toJSON()`) now counts, as the
 * stored result already does. On Redis and FerretDB.
 */
import { randomUUID } from 'node:crypto';
import { handler, httpResult } from '@steadyfn/handler';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { canonicalHash, idempotency } from '../src/index.js';
import { httpEvent, lambdaContext, silentSink, useBackend, type BackendName } from './support.js';

/** A value object whose value lives in a private field: no own enumerable properties. */
class Money {
  readonly #cents: number;
  constructor(cents: number) {
    this.#cents = cents;
  }
  toJSON(): number {
    return this.#cents;
  }
}

describe('review: value objects in the validated input count at their JSON value', () => {
  it('canonicalHash tells two URLs, and two private-field values with toJSON, apart', () => {
    expect(canonicalHash({ u: new URL('https://a.example/hook') })).not.toBe(canonicalHash({ u: new URL('https://b.example/hook') }));
    expect(canonicalHash(new Money(1))).not.toBe(canonicalHash(new Money(2)));
    // The same value is the same hash.
    expect(canonicalHash({ u: new URL('https://a.example/hook') })).toBe(canonicalHash({ u: new URL('https://a.example/hook') }));
  });

  for (const name of ['redis', 'mongodb'] as BackendName[]) {
    describe(name, () => {
      const backend = useBackend(name);

      const webhooks = () => {
        const made: string[] = [];
        const main = handler(
          {
            name: `webhooks-${randomUUID()}`,
            logSink: silentSink(),
            input: z.object({ callback: z.string().url().transform((s) => new URL(s)) }),
            use: [idempotency({ store: backend.store, ttlMs: 60_000, localCache: false })],
          },
          async (input) => {
            made.push(input.callback.href);
            return httpResult({ status: 201, body: { registered: input.callback.href } });
          },
        );
        return { main, made };
      };

      it("'auto' without a header: two callbacks are two requests, each run once", async () => {
        const { main, made } = webhooks();
        const post = async (callback: string) => (await main.aws(httpEvent({ body: { callback } }), lambdaContext())) as { statusCode: number; body: string };
        expect(JSON.parse((await post('https://a.example/hook')).body)).toEqual({ registered: 'https://a.example/hook' });
        expect(JSON.parse((await post('https://b.example/hook')).body)).toEqual({ registered: 'https://b.example/hook' });
        expect(made).toEqual(['https://a.example/hook', 'https://b.example/hook']);
        // A repeat of the first replays it.
        expect(JSON.parse((await post('https://a.example/hook')).body)).toEqual({ registered: 'https://a.example/hook' });
        expect(made).toHaveLength(2);
      });

      it('one Idempotency-Key with another callback: 422 IDEMPOTENCY_KEY_REUSED, not the first one\'s replay', async () => {
        const { main, made } = webhooks();
        const key = randomUUID();
        const first = (await main.aws(httpEvent({ key, body: { callback: 'https://a.example/hook' } }), lambdaContext())) as { statusCode: number };
        expect(first.statusCode).toBe(201);
        const second = (await main.aws(httpEvent({ key, body: { callback: 'https://mallory.example/hook' } }), lambdaContext())) as { statusCode: number; body: string };
        expect(second.statusCode).toBe(422);
        expect(JSON.parse(second.body)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
        expect(made).toEqual(['https://a.example/hook']);
      });

      it("main.invoke() with key 'input': two amounts held in private fields are two requests", async () => {
        const charged: unknown[] = [];
        const main = handler(
          {
            name: `charges-${randomUUID()}`,
            logSink: silentSink(),
            input: z.object({ cents: z.number().int().transform((c) => new Money(c)) }),
            use: [idempotency({ store: backend.store, ttlMs: 60_000, key: 'input', localCache: false })],
          },
          async (input) => {
            charged.push(input.cents.toJSON());
            return { charged: input.cents };
          },
        );
        expect(await main.invoke({ cents: 100 })).toEqual({ charged: 100 });
        expect(await main.invoke({ cents: 100_000 })).toEqual({ charged: 100_000 });
        expect(charged).toEqual([100, 100_000]);
      });
    });
  }
});
