/**
 * Fuzz: `rawTriggerBodies` on a host JSON batch gives each element's own text — for any JSON
 * array, however spaced and whatever its strings hold (`,`, `]`, `}`, quotes, escapes), each
 * text parses to that element — and on any other host data gives texts that line up or none,
 * never a throw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rawTriggerBodies } from './azure-host-metadata.js';

/** JSON.stringify with random whitespace around the batch's own punctuation. */
function spaced(values: unknown[], gaps: string[]): string {
  const gap = (i: number): string => gaps[i % Math.max(gaps.length, 1)] ?? '';
  return `[${gap(0)}${values.map((v, i) => `${JSON.stringify(v)}${gap(i + 1)}`).join(`,${gap(values.length + 1)}`)}]`;
}

describe('rawTriggerBodies (host JSON batch)', () => {
  it('each element text parses to that element', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 8 }), fc.array(fc.constantFrom('', ' ', '\n', '\r\n\t '), { maxLength: 4 }), (values, gaps) => {
        const json = spaced(values, gaps);
        const bodies = rawTriggerBodies({ json }, true, values.length);
        expect(bodies).toHaveLength(values.length);
        bodies!.forEach((text, i) => expect(JSON.parse(text as string)).toEqual(JSON.parse(JSON.stringify(values[i]))));
      }),
      { numRuns: 300 },
    );
  });

  it('any other host data: texts that line up, or none, never a throw', () => {
    fc.assert(
      fc.property(fc.anything(), fc.boolean(), fc.nat(4), (data, many, count) => {
        const bodies = rawTriggerBodies(data as Record<string, unknown>, many, count);
        if (bodies !== undefined) expect(bodies).toHaveLength(count);
      }),
      { numRuns: 300 },
    );
  });
});
