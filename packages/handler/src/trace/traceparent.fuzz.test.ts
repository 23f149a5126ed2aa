/**
 * Trace context arrives from any caller: the parsers never throw, accept exactly the
 * grammar's strings and give back what they accepted in canonical form.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTraceparent, parseTraceparent, parseTracestate } from './traceparent.js';
import { xrayToTraceparent } from './xray.js';

const hex = (length: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${length}}$`));

describe('trace context parsers on any input', () => {
  it('never throw, and whatever they accept is canonical', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.anything()), (value) => {
        const tp = parseTraceparent(value);
        if (tp) {
          expect(tp.text).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);
          expect(parseTraceparent(tp.text)).toEqual(tp);
        }
        const ts = parseTracestate(value);
        if (ts !== undefined) expect(parseTracestate(ts)).toBe(ts);
        const xray = xrayToTraceparent(value);
        if (xray) expect(parseTraceparent(xray)?.text).toBe(xray);
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts every well-formed version-00 traceparent whose ids are not all zero', () => {
    fc.assert(
      fc.property(hex(32), hex(16), fc.integer({ min: 0, max: 255 }), (traceId, parentId, flags) => {
        const text = formatTraceparent(traceId, parentId, flags);
        const parsed = parseTraceparent(text);
        if (/^0+$/.test(traceId) || /^0+$/.test(parentId)) expect(parsed).toBeUndefined();
        else expect(parsed).toEqual({ traceId, parentId, flags, text });
      }),
    );
  });

  it('refuses a valid traceparent with any one character changed to a non-hex one', () => {
    const valid = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    fc.assert(
      fc.property(fc.integer({ min: 0, max: valid.length - 1 }), fc.constantFrom('g', 'G', 'A', 'z', ' ', '-', '_', 'é'), (at, ch) => {
        if (valid[at] === ch) return;
        const changed = valid.slice(0, at) + ch + valid.slice(at + 1);
        // A space at either end is optional whitespace; everything else breaks the grammar.
        if (ch === ' ' && (at === 0 || at === valid.length - 1)) return;
        expect(parseTraceparent(changed)).toBeUndefined();
      }),
    );
  });
});
