import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContentHash } from './content-hash.js';

describe('order-independent content hash', () => {
  it('is the same in any order, and differs when a record repeats', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 30 }), fc.integer(), (records, seed) => {
        const a = new ContentHash();
        for (const r of records) a.addRecord(r);
        const shuffled = [...records].sort((x, y) => ((x.length * 31 + seed) % 7) - ((y.length * 31 + seed) % 7));
        const b = new ContentHash();
        for (const r of shuffled) b.addRecord(r);
        const c = new ContentHash();
        for (const r of [...records, records[0]!]) c.addRecord(r);
        return a.toHex() === b.toHex() && a.toHex() !== c.toHex();
      }),
    );
  });
  it('merges partial sums and reads back its hex', () => {
    const whole = new ContentHash().addRecord('a').addRecord('b');
    const merged = new ContentHash().addRecord('a').merge(new ContentHash().addRecord('b'));
    expect(merged.toHex()).toBe(whole.toHex());
    expect(ContentHash.fromHex(whole.toHex()).toHex()).toBe(whole.toHex());
    expect(() => ContentHash.fromHex('xyz')).toThrow(TypeError);
  });
});
