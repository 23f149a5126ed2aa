/**
 * Fuzz: mutated sqs-s3.json events (any field replaced by random JSON or removed, and
 * random values altogether) give items or a typed MALFORMED_EVENT, never another throw.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { isRecord } from '../internal/record.js';
import { s3ChangesInBody, s3Items, s3NotificationChanges } from './s3.js';
import { expectItemsOrMalformed, mutate, mutation } from '../../test/support/fuzz.js';

const sample: unknown = JSON.parse(readFileSync(new URL('../../test/fixtures/aws/sqs-s3.json', import.meta.url), 'utf8'));
const parse = (doc: unknown) => { const records = isRecord(doc) && Array.isArray(doc.Records) ? doc.Records : []; const inner = records.flatMap((r: any) => { const c = s3ChangesInBody(r?.body, 'body'); return c ? s3Items(c.changes, 'sqs') : []; }); return [...inner, ...s3Items(s3NotificationChanges(records.filter((r: any) => r?.eventSource === 'aws:s3')), undefined)]; };

describe('s3 parser under malformed events', () => {
  it('yields items or MALFORMED_EVENT for one or two mutations of the published shape', () => {
    fc.assert(
      fc.property(fc.array(mutation(sample), { minLength: 1, maxLength: 2 }), (changes) => {
        const doc = changes.reduce<unknown>((d, m) => mutate(d, m.path, m.replacement, m.remove), sample);
        expectItemsOrMalformed(() => parse(doc));
      }),
      { numRuns: 300 },
    );
  });

  it('yields items or MALFORMED_EVENT for arbitrary values', () => {
    fc.assert(fc.property(fc.anything(), (doc) => expectItemsOrMalformed(() => parse(doc))), { numRuns: 200 });
  });
});
