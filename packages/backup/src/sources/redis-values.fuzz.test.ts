import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBytes, encodeBytes, rdbVersionOf } from './redis-values.js';

describe('Redis byte strings in JSON', () => {
  it('round-trip any bytes through JSON', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const buf = Buffer.from(bytes);
        return decodeBytes(JSON.parse(JSON.stringify(encodeBytes(buf)))).equals(buf);
      }),
    );
  });
  it('keep valid UTF-8 as text', () => {
    expect(encodeBytes(Buffer.from('héllo'))).toBe('héllo');
    expect(encodeBytes(Buffer.from([0xff]))).toEqual({ $b64: '/w==' });
  });
  it('rejects what is not an encoded string', () => {
    expect(() => decodeBytes({} as never)).toThrow(TypeError);
  });
  it('reads the RDB version from a DUMP trailer', () => {
    const payload = Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from([11, 0]), Buffer.alloc(8)]);
    expect(rdbVersionOf(payload)).toBe(11);
    expect(() => rdbVersionOf(Buffer.alloc(3))).toThrow(RangeError);
  });
});
