/**
 * Fuzz: background functions (`main(data, context)`, the Functions Framework's `event`
 * signature and 1st-gen event triggers). Mutated published legacy events (Pub/Sub, Cloud
 * Storage, Firestore, Realtime Database), and any value at all as `data` or `context`, run as
 * the CloudEvent they stand for or fail with a typed public error — never anything else, so the
 * framework answers a status and Pub/Sub or Eventarc retries by it. A legacy Pub/Sub message
 * that runs keeps its `eventId` as the delivery id whatever else was mutated, unless `data`
 * names its own `messageId`.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler, type Context } from '../index.js';
import { scopedDeliveryId } from '../events/item.js';
import { expectPublicError, mutate, mutation } from '../../test/support/fuzz.js';

type Json = Record<string, unknown>;
const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`../../test/fixtures/gcp/published/${name}`, import.meta.url), 'utf8')) as Json;
const KNOWN_CODES = new Set(['MALFORMED_EVENT', 'VALIDATION_FAILED', 'INTERNAL', 'DEADLINE_EXCEEDED']);

/** `{ data, context }` of a published sample: some files nest them, others put the context's fields beside `data`. */
function split(doc: Json): { data: unknown; context: Json } {
  if (typeof doc.context === 'object' && doc.context !== null) return { data: doc.data, context: doc.context as Json };
  const { data, ...context } = doc;
  return { data, context };
}

describe('GCP background functions (fuzz)', () => {
  const seen: Context[] = [];
  const strict = handler({ input: z.object({ orderId: z.string() }), logSink: () => undefined }, () => undefined);
  const loose = handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx));

  for (const name of ['legacy-pubsub.json', 'legacy-storage-delete.json', 'legacy-firestore.json', 'legacy-rtdb.json']) {
    it(`a mutated ${name} runs or fails with a typed error`, async () => {
      const sample = split(fixture(name));
      const doc = { data: sample.data, context: sample.context };
      let checked = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(mutation(doc), { minLength: 1, maxLength: 3 }), async (mutations) => {
          let event: unknown = doc;
          for (const m of mutations) {
            event = mutate(event, m.path, m.replacement, m.remove);
            if (typeof event !== 'object' || event === null) break;
          }
          const { data, context } = (typeof event === 'object' && event !== null ? event : {}) as { data?: unknown; context?: unknown };
          seen.length = 0;
          for (const main of [strict, loose]) {
            try {
              await main.gcpBackground(data, context);
            } catch (thrown) {
              expectPublicError(thrown, { codes: KNOWN_CODES });
            }
          }
          const ctx = seen[0];
          const c = context as Json | undefined;
          const d = data as Json | undefined;
          const ownId = typeof d === 'object' && d !== null && !Array.isArray(d) && d.messageId !== undefined && d.messageId !== null;
          if (name === 'legacy-pubsub.json' && ctx?.trigger.kind === 'queue' && typeof c?.eventId === 'string' && c.eventId !== '' && !ownId) {
            // Scoped by the topic the resource names, when it names one (the queue then).
            const topic = ctx.trigger.queue;
            expect(ctx.deliveryId).toBe(topic === undefined ? c.eventId : scopedDeliveryId(topic, c.eventId));
            checked++;
          }
        }),
        { numRuns: 200 },
      );
      // Most mutations leave the message readable: the delivery id was checked, not skipped.
      if (name === 'legacy-pubsub.json') expect(checked).toBeGreaterThan(20);
    });
  }

  it('any data with any context runs or fails with a typed error', async () => {
    const context = split(fixture('legacy-pubsub.json')).context;
    const anything = fc.anything({ withBigInt: true, withDate: true, withMap: true, withTypedArray: true, withNullPrototype: true });
    await fc.assert(
      fc.asyncProperty(anything, fc.oneof(fc.constant<unknown>(context), anything), async (data, ctx) => {
        for (const main of [strict, loose]) {
          try {
            await main.gcpBackground(data, ctx);
          } catch (thrown) {
            expectPublicError(thrown, { codes: KNOWN_CODES });
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
