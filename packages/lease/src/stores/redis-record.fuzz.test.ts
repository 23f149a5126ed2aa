/** The Redis value codec: any stored text parses or is refused, never throws; our values round-trip. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseValue } from './redis-record.js';

describe('Redis lease values, fuzzed', () => {
  it('parse anything without throwing', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const parsed = parseValue(text);
        if (parsed) expect(['h', 'd', 'f']).toContain(parsed.state);
      }),
      { numRuns: 5000 },
    );
  });

  it('read back what the scripts write, whatever the data holds', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('h', 'd', 'f'),
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 10 ** 12 }),
        fc.stringMatching(/^[!-{}~]{1,128}$/),
        fc.option(fc.string({ unit: 'binary' }), { nil: undefined }),
        (state, fence, retainMs, owner, data) => {
          const stored = `${state}|${fence}|${retainMs}|${state === 'h' ? owner : ''}|${data === undefined ? '' : `=${data}`}`;
          expect(parseValue(stored)).toEqual({ state, fence, retainMs, owner: state === 'h' ? owner : '', data });
        },
      ),
      { numRuns: 3000 },
    );
  });
});
