/** Whatever a caller passes, the checks either accept a well-formed request or throw LeaseRequestError. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LeaseRequestError } from './errors.js';
import { checkClaim, checkSettle } from './validate.js';

const anything = fc.anything({ withNullPrototype: true, withBigInt: true, withMap: true, withSet: true });
const field = fc.oneof(anything, fc.string(), fc.integer(), fc.double());
const request = fc.record({ key: field, owner: field, leaseMs: field, fence: field, data: field, keepMs: field }, { requiredKeys: [] });

describe('request checks, fuzzed', () => {
  it('accept only well-formed requests and throw nothing but LeaseRequestError', () => {
    fc.assert(
      fc.property(fc.oneof(anything, request), (input) => {
        for (const check of [checkClaim, checkSettle] as unknown as Array<(r: never) => Record<string, unknown>>) {
          try {
            const out = check(input as never);
            expect(typeof out.key === 'string' && (out.key as string).length > 0 && !(out.key as string).includes('\u0000')).toBe(true);
            expect(out.owner).toMatch(/^[!-{}~]{1,128}$/);
          } catch (error) {
            expect(error).toBeInstanceOf(LeaseRequestError);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
