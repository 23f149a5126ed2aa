/**
 * Fuzz with the real `@azure/functions` v4 objects: mutated and arbitrary trigger inputs
 * and metadata never produce an untyped error, and every HTTP call returns an answer the
 * host's `HttpResponse` accepts, whatever the request or the function's result.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpRequest, HttpResponse, InvocationContext, trigger, type FunctionTrigger, type HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { handler, httpResult } from '../index.js';
import { expectPublicError, mutate, mutation } from '../../test/support/fuzz.js';
import { expectBytesArrived, type SeenBody } from '../../test/support/bytes.js';

const fixture = (name: string): Record<string, any> =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/azure/${name}`, import.meta.url), 'utf8')) as Record<string, any>;

const KNOWN_CODES = new Set(['MALFORMED_EVENT', 'VALIDATION_FAILED', 'INTERNAL', 'DEADLINE_EXCEEDED']);

const silent = { logSink: () => undefined };
const strict = handler({ input: z.object({ orderId: z.string() }), ...silent }, () => 'ok');
const loose = handler({ ...silent }, () => 'ok');

const cases: Array<{ name: string; input: string; options: () => FunctionTrigger }> = [
  { name: 'storage-queue-message.json', input: 'message', options: () => trigger.storageQueue({ queueName: 'orders', connection: 'c' }) },
  { name: 'service-bus-message.json', input: 'message', options: () => trigger.serviceBusQueue({ queueName: 'payments', connection: 'c' }) },
  { name: 'service-bus-batch.json', input: 'messages', options: () => trigger.serviceBusQueue({ queueName: 'payments', connection: 'c', cardinality: 'many' }) },
  { name: 'timer.json', input: 'timer', options: () => trigger.timer({ schedule: '0 */5 * * * *' }) },
];

describe('Azure triggers (fuzz)', () => {
  for (const c of cases) {
    it(`a mutated ${c.name} (input and metadata) is handled or fails with a typed error`, async () => {
      const doc = fixture(c.name);
      const target = { input: doc[c.input], context: doc.context };
      await fc.assert(
        fc.asyncProperty(
          fc.array(mutation(target), { minLength: 1, maxLength: 3 }),
          fc.boolean(),
          async (mutations, withOptions) => {
            let mutated: unknown = target;
            for (const m of mutations) mutated = mutate(mutated, m.path, m.replacement, m.remove);
            const { input, context } = (typeof mutated === 'object' && mutated !== null ? mutated : {}) as { input?: unknown; context?: Record<string, unknown> };
            const init = typeof context === 'object' && context !== null ? context : {};
            const ctx = new InvocationContext({
              invocationId: typeof init.invocationId === 'string' ? init.invocationId : undefined,
              functionName: typeof init.functionName === 'string' ? init.functionName : undefined,
              triggerMetadata: typeof init.triggerMetadata === 'object' && init.triggerMetadata !== null ? (init.triggerMetadata as Record<string, unknown>) : undefined,
              ...(withOptions ? { options: { trigger: c.options() } } : {}),
              logHandler: () => undefined,
            });
            for (const main of [strict, loose]) {
              try {
                await main.azure(input, ctx);
              } catch (thrown) {
                expectPublicError(thrown, { codes: KNOWN_CODES });
              }
            }
          },
        ),
        { numRuns: 250 },
      );
    });
  }

  it('any trigger value with any metadata, under any trigger type, is handled or fails with a typed error', async () => {
    const type = fc.constantFrom('queueTrigger', 'serviceBusTrigger', 'timerTrigger', 'httpTrigger', 'blobTrigger', 'unknown');
    await fc.assert(
      fc.asyncProperty(fc.anything({ withBigInt: true, withDate: true, withTypedArray: true }), fc.dictionary(fc.string(), fc.anything({ maxDepth: 2 })), type, async (value, meta, t) => {
        const ctx = new InvocationContext({ invocationId: 'fuzz', functionName: 'fuzz', triggerMetadata: meta, options: { trigger: { type: t, name: 'x' } }, logHandler: () => undefined });
        try {
          const out = await strict.azure(value, ctx);
          // An HTTP trigger always answers with a response, even when the value is not a request.
          if (t === 'httpTrigger') expect(() => new HttpResponse(out as HttpResponseInit)).not.toThrow();
        } catch (thrown) {
          expectPublicError(thrown, { codes: KNOWN_CODES });
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('Azure HTTP (fuzz)', () => {
  let nextResult: unknown;
  const main = handler({ ...silent }, () => nextResult);
  const httpContext = (): InvocationContext =>
    new InvocationContext({ invocationId: 'fuzz-http', functionName: 'fuzz', options: { trigger: trigger.http({}) }, logHandler: () => undefined });

  const result = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constant(undefined),
    fc
      .record({
        status: fc.oneof(fc.integer({ min: -5, max: 1100 }), fc.double(), fc.constantFrom(200, 204, 304, 404, 503)),
        headers: fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 16 }), { maxKeys: 3 }),
        body: fc.oneof(fc.string(), fc.uint8Array({ maxLength: 16 }), fc.jsonValue({ maxDepth: 1 }), fc.constant(undefined)),
      })
      .map((init) => httpResult(init)),
  );

  it('hands any body bytes under a binary type to the function unchanged', async () => {
    let seen: SeenBody | undefined;
    const capture = handler({ ...silent }, (input, ctx) => {
      seen = { input, rawBytes: ctx.trigger.kind === 'http' ? ctx.trigger.request.rawBytes : undefined };
    });
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 512 }),
        fc.constantFrom('application/octet-stream', 'image/png', 'application/pdf', 'application/x-protobuf'),
        fc.constantFrom('POST', 'PUT', 'PATCH'),
        async (bytes, type, method) => {
          seen = undefined;
          const req = new HttpRequest({ method, url: 'https://fuzz.example/api/upload', headers: { 'content-type': type }, body: { bytes } });
          const out = (await capture.azure(req, httpContext())) as { status: number };
          expect(out.status).toBe(204);
          expectBytesArrived(seen, bytes);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('every request gets an answer the host accepts, with a status between 200 and 599', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
        fc.webUrl({ withQueryParameters: true, withFragments: true }),
        fc.dictionary(fc.constantFrom('content-type', 'x-a', 'accept', 'cookie'), fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', '', 'a=b')),
        fc.oneof(fc.string({ maxLength: 40 }), fc.json({ maxDepth: 2 })),
        result,
        async (method, url, headers, body, chosen) => {
          nextResult = chosen;
          // GET requests carry no body (the library drops it with a warning).
          const req = new HttpRequest({ method, url, headers, ...(method === 'GET' ? {} : { body: { string: body } }) });
          const out = await main.azure(req, httpContext());
          const res = new HttpResponse(out as HttpResponseInit);
          expect(res.status).toBeGreaterThanOrEqual(200);
          expect(res.status).toBeLessThanOrEqual(599);
          await res.arrayBuffer();
        },
      ),
      { numRuns: 150 },
    );
  });
});
