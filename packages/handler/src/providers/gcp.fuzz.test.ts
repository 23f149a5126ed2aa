/**
 * Fuzz: mutated and arbitrary CloudEvents never produce an untyped error, and an HTTP
 * function on the real Functions Framework answers every request, whatever the request
 * or the function's result, with a status of its own (never the framework's crash page).
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import request from 'supertest';
import { z } from 'zod';
import { handler, httpResult } from '../index.js';
import { expectPublicError, mutate, mutation } from '../../test/support/fuzz.js';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/gcp/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

const KNOWN_CODES = new Set(['MALFORMED_EVENT', 'VALIDATION_FAILED', 'INTERNAL', 'DEADLINE_EXCEEDED']);

type Json = unknown;
describe('GCP CloudEvents (fuzz)', () => {
  const Order = z.object({ orderId: z.string(), quantity: z.number() });
  const strict = handler({ input: Order, logSink: () => undefined }, () => undefined);
  const loose = handler({ logSink: () => undefined }, () => undefined);

  for (const name of ['pubsub-message-published.json', 'storage-object-finalized.json', 'pubsub-push-raw.json']) {
    it(`a mutated ${name} is handled or fails with a typed error`, async () => {
      const doc = fixture(name);
      await fc.assert(
        fc.asyncProperty(fc.array(mutation(doc), { minLength: 1, maxLength: 3 }), async (mutations) => {
          let event: Json = doc;
          for (const m of mutations) {
            event = mutate(event, m.path, m.replacement, m.remove);
            if (typeof event !== 'object' || event === null) break;
          }
          for (const main of [strict, loose]) {
            try {
              await main.gcpEvent(event);
            } catch (thrown) {
              expectPublicError(thrown, { codes: KNOWN_CODES });
            }
          }
        }),
        { numRuns: 300 },
      );
    });
  }

  it('any value at all given as a CloudEvent is handled or fails with a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything({ withBigInt: true, withDate: true, withMap: true, withTypedArray: true }), async (event) => {
        try {
          await strict.gcpEvent(event);
        } catch (thrown) {
          expectPublicError(thrown, { codes: KNOWN_CODES });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a Pub/Sub message with arbitrary bytes as data is handled or fails with a typed error', async () => {
    const doc = fixture('pubsub-message-published.json') as { data: { message: Record<string, unknown> } };
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), async (bytes) => {
        const event = structuredClone(doc);
        event.data.message.data = Buffer.from(bytes).toString('base64');
        try {
          await strict.gcpEvent(event);
        } catch (thrown) {
          expectPublicError(thrown, { codes: KNOWN_CODES });
          expect((thrown as { code: string }).code).toBe('VALIDATION_FAILED');
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('GCP HTTP (fuzz, on the Functions Framework)', () => {
  let server: Server;
  let url: string;
  let nextResult: unknown = undefined;

  beforeAll(async () => {
    // The function answers with whatever the property chose, however unsendable.
    functions.http(
      'fuzz-http',
      handler({ logSink: () => undefined }, () => nextResult),
    );
    server = getTestServer('fuzz-http');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const headerName = fc.string({ minLength: 1, maxLength: 12 });
  const result = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constant(undefined),
    fc.record({
      status: fc.oneof(fc.integer({ min: -5, max: 1100 }), fc.constantFrom(200, 201, 302, 404, 503)),
      headers: fc.dictionary(headerName, fc.string({ maxLength: 16 }), { maxKeys: 3 }),
      body: fc.oneof(fc.string(), fc.uint8Array({ maxLength: 16 }), fc.jsonValue({ maxDepth: 1 }), fc.constant(undefined)),
    }).map((init) => httpResult(init)),
  );

  it('hands any body bytes under a binary type to the function unchanged', async () => {
    const seen: Array<{ input: unknown; rawBytes: Buffer | undefined }> = [];
    functions.http(
      'fuzz-http-bytes',
      handler({ logSink: () => undefined }, (input, ctx) => void seen.push({ input, rawBytes: ctx.trigger.kind === 'http' ? ctx.trigger.request.rawBytes : undefined })),
    );
    const bytesServer = getTestServer('fuzz-http-bytes');
    await new Promise<void>((resolve) => bytesServer.listen(0, '127.0.0.1', resolve));
    const bytesUrl = `http://127.0.0.1:${(bytesServer.address() as AddressInfo).port}`;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ minLength: 1, maxLength: 512 }),
          fc.constantFrom('application/octet-stream', 'image/png', 'application/pdf', 'application/x-protobuf'),
          fc.constantFrom('POST', 'PUT', 'PATCH'),
          async (bytes, type, method) => {
            seen.length = 0;
            const res = await request(bytesUrl)[method.toLowerCase() as 'post']('/').set('content-type', type).send(Buffer.from(bytes));
            expect(res.status).toBe(204);
            const got = seen[0]!;
            expect(Buffer.isBuffer(got.input)).toBe(true);
            expect([...(got.input as Buffer)]).toEqual([...bytes]);
            expect(got.rawBytes).toBe(got.input);
          },
        ),
        { numRuns: 100 },
      );
    } finally {
      await new Promise<void>((resolve) => bytesServer.close(() => resolve()));
    }
  });

  it('every request is answered with a status, never by the framework crash handler', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
        fc.webPath(),
        fc.constantFrom('application/json', 'application/vnd.x+json', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream'),
        fc.oneof(fc.string({ maxLength: 40 }), fc.json({ maxDepth: 2 })),
        result,
        async (method, path, type, body, chosen) => {
          nextResult = chosen;
          const target = path.startsWith('/') ? path : `/${path}`;
          let req = request(url)[method.toLowerCase() as 'get'](target);
          if (method !== 'GET') req = req.set('content-type', type).send(body);
          const res = await req;
          expect(res.status).toBeGreaterThanOrEqual(200);
          expect(res.status).toBeLessThanOrEqual(599);
          // The framework marks the answers of a function that threw with X-Google-Status: crash.
          expect(res.headers['x-google-status']).toBeUndefined();
        },
      ),
      { numRuns: 100 },
    );
  });
});
