import { describe, expect, it } from 'vitest';
import { indexConflicts, indexDifferences } from './mongo-indexes.js';

const where = { a: 'A', b: 'B' };

describe('index definitions compared', () => {
  it('compares key order and direction by value, not by encoding', () => {
    expect(indexDifferences({ name: 'i', key: { a: 1, b: -1 }, options: {} }, { name: 'i', key: { a: { $numberInt: '1' }, b: -1.0 }, options: {} }, where)).toEqual([]);
    expect(indexDifferences({ name: 'i', key: { a: 1, b: 1 }, options: {} }, { name: 'i', key: { b: 1, a: 1 }, options: {} }, where)).toEqual(['key {"a":1,"b":1} in A, {"b":1,"a":1} in B']);
  });

  it('treats unique: false as no option and compares TTL seconds by value', () => {
    expect(indexDifferences({ name: 'i', key: { a: 1 }, options: { unique: false } }, { name: 'i', key: { a: 1 }, options: {} }, where)).toEqual([]);
    expect(indexDifferences({ name: 'i', key: { a: 1 }, options: { expireAfterSeconds: { $numberInt: '60' } } }, { name: 'i', key: { a: 1 }, options: { expireAfterSeconds: 60 } }, where)).toEqual([]);
    expect(indexDifferences({ name: 'i', key: { a: 1 }, options: { expireAfterSeconds: 60 } }, { name: 'i', key: { a: 1 }, options: {} }, where)).toEqual(['expireAfterSeconds 60 in A, not set in B']);
  });

  it('leaves out the options a server cannot keep', () => {
    expect(indexDifferences({ name: 'i', key: { a: 1 }, options: {} }, { name: 'i', key: { a: 1 }, options: { sparse: true } }, where, ['sparse'])).toEqual([]);
  });

  it('finds clashes: name, key under another name, an extra unique index; ignores _id_ and harmless extras', () => {
    const wanted = [{ name: 'by_a', key: { a: 1 }, options: {} }];
    expect(indexConflicts([{ name: '_id_', key: { _id: 1 }, options: {} }, { name: 'x', key: { x: 1 }, options: {} }], wanted)).toEqual([]);
    expect(indexConflicts([{ name: 'a_1', key: { a: 1 }, options: {} }], wanted).map((c) => c.index)).toEqual(['a_1']);
    expect(indexConflicts([{ name: 'u', key: { u: 1 }, options: { unique: true } }], wanted).map((c) => c.index)).toEqual(['u']);
  });
});
