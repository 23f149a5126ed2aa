import { Decimal128, Double, MaxKey } from 'bson';
import { describe, expect, it } from 'vitest';
import { ferretdbProblem, parseDocument } from './records.js';

describe('what FerretDB cannot store', () => {
  it('finds NaN, Decimal128, MaxKey, nested arrays and bad keys; accepts the rest', () => {
    expect(ferretdbProblem({ a: NaN })).toBe('a: NaN');
    expect(ferretdbProblem({ a: new Double(NaN) })).toBe('a: NaN');
    expect(ferretdbProblem({ a: { b: Decimal128.fromString('1') } })).toBe('a.b: Decimal128');
    expect(ferretdbProblem({ m: new MaxKey() })).toBe('m: MaxKey');
    expect(ferretdbProblem({ a: [1, [2]] })).toBe('a.1: nested array');
    expect(ferretdbProblem({ 'a.b': 1 })).toBe("a.b: key contains '.'");
    expect(ferretdbProblem({ x: { $y: 1 } })).toBe("x.$y: key starts with '$'");
    expect(ferretdbProblem(parseDocument('{"_id":{"$oid":"65a1b2c3d4e5f60718293a4b"},"d":{"$date":{"$numberLong":"0"}},"l":[{"x":1}]}'))).toBeUndefined();
  });
});
