import { Long, ObjectId, Timestamp } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { isGone, laterPosition, markGone, samePosition } from './positions.js';

describe('samePosition / laterPosition', () => {
  const base = 2n ** 53n;
  it('Long and Timestamp past 2^53: exact', () => {
    expect(samePosition(Long.fromBigInt(base + 3n), Long.fromBigInt(base + 4n))).toBe(false);
    expect(samePosition(Long.fromBigInt(base + 3n), Long.fromBigInt(base + 3n))).toBe(true);
    expect(laterPosition(Long.fromBigInt(base + 4n), Long.fromBigInt(base + 3n))).toBe(true);
    expect(laterPosition(Long.fromBigInt(base + 3n), Long.fromBigInt(base + 4n))).toBe(false);
    const ts = (i: number) => new Timestamp({ t: 1_800_000_000, i });
    expect(samePosition(ts(1), ts(2))).toBe(false);
    expect(samePosition(ts(2), ts(2))).toBe(true);
    expect(laterPosition(ts(2), ts(1))).toBe(true);
    expect(laterPosition(ts(1), ts(2))).toBe(false);
  });
  it('Dates', () => {
    expect(samePosition(new Date(5), new Date(5))).toBe(true);
    expect(laterPosition(new Date(6), new Date(5))).toBe(true);
    expect(laterPosition(new Date(5), new Date(6))).toBe(false);
  });
  it('ObjectIds: by their hex (time first), as MongoDB orders them', () => {
    const a = new ObjectId('65000000aaaaaaaaaaaaaaaa');
    const b = new ObjectId('65000001000000000000000f');
    expect(samePosition(a, new ObjectId(a.toHexString()))).toBe(true);
    expect(samePosition(a, b)).toBe(false);
    expect(laterPosition(b, a)).toBe(true);
    expect(laterPosition(a, b)).toBe(false);
    expect(laterPosition(a, new ObjectId(a.toHexString()))).toBe(false);
  });
});

describe('markGone', () => {
  it('is kept on the array, lost by a copy, and not enumerable', () => {
    const page = markGone([{ position: 1, event: 'x' }]);
    expect(isGone(page)).toBe(true);
    expect(isGone(page.map((e) => e))).toBe(false);
    expect(isGone([...page])).toBe(false);
    expect(JSON.stringify(page)).toBe('[{"position":1,"event":"x"}]');
  });
});
