import { describe, expect, it } from 'vitest';
import { LeaseRequestError } from './errors.js';
import { checkBatch, checkClaim, checkSettle } from './validate.js';

describe('request checks', () => {
  it('pass well-formed requests through; keepMs is needed only with data', () => {
    const claim = { key: 'k', owner: 'o-1', leaseMs: 5 };
    expect(checkClaim(claim)).toBe(claim);
    expect(checkSettle({ key: 'k', owner: 'o', fence: 3 })).toEqual({ key: 'k', owner: 'o', fence: 3 });
    expect(checkSettle({ key: 'k', owner: 'o', fence: 3, data: '', keepMs: 9 })).toEqual({ key: 'k', owner: 'o', fence: 3, data: '', keepMs: 9 });
    expect(() => checkSettle({ key: 'k', owner: 'o', fence: 3, data: '' })).toThrow(expect.objectContaining({ field: 'request.keepMs' }));
  });

  it('name the field and what it must be', () => {
    const error = (() => {
      try {
        checkClaim({ key: 'k', owner: 'o', leaseMs: -1 });
      } catch (e) {
        return e;
      }
    })() as LeaseRequestError;
    expect(error).toBeInstanceOf(LeaseRequestError);
    expect(error).toMatchObject({ code: 'LEASE_REQUEST_INVALID', field: 'request.leaseMs', retryable: false, expose: false });
    expect(error.message).toBe('lease request field "request.leaseMs" must be a whole number of milliseconds from 1 to 1000000000000');
    expect(error.issues).toEqual([{ field: 'request.leaseMs', message: 'must be a whole number of milliseconds from 1 to 1000000000000', expected: 'a whole number of milliseconds from 1 to 1000000000000' }]);
  });

  it('refuse a batch with a key twice, naming the second', () => {
    expect(() => checkBatch([{ key: 'a', owner: 'o', leaseMs: 1 }, { key: 'b', owner: 'o', leaseMs: 1 }, { key: 'a', owner: 'p', leaseMs: 1 }], checkClaim)).toThrow(
      expect.objectContaining({ field: 'requests[2].key' }),
    );
    expect(() => checkBatch('x' as never, checkClaim)).toThrow(expect.objectContaining({ field: 'requests' }));
  });

  it('accept owners of printable ASCII without space or bar, up to 128 characters', () => {
    expect(checkClaim({ key: 'k', owner: 'x'.repeat(128), leaseMs: 1 }).owner).toHaveLength(128);
    for (const owner of ['', 'x'.repeat(129), 'a b', 'a|b', 'é', 'a\nb']) expect(() => checkClaim({ key: 'k', owner, leaseMs: 1 })).toThrow(LeaseRequestError);
  });
});
