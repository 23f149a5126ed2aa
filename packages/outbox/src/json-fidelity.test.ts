/**
 * Review defect D2: `change.before` / `change.after` holding values `JSON.stringify` changes (a
 * MongoDB document as written: ObjectId `_id`, Date fields) were accepted and written as hex and
 * ISO strings, so `@steadyfn/backup` restored them as strings — a second document beside the
 * snapshot's, types dropped, silently. They are refused now, naming the path and the type only.
 */
import { Binary, Decimal128, EJSON, Long, ObjectId, Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { prepareEvent, serializeEvent, type EventDeclarations, type EventChange } from './envelope.js';
import { changedByJson } from './json-fidelity.js';

const events = { OrderPlaced: { aggregateType: 'order', schema: z.object({}) } } satisfies EventDeclarations;
const add = (change: EventChange) => prepareEvent(events, { type: 'OrderPlaced', aggregateId: 'o-1', payload: {}, change }, {});

class Order {
  constructor(readonly total: number) {}
}
const SECRET = 'secret-4711';

/** Each kind, put at `after.field`, and the type name the refusal must give. */
const KINDS: Array<[string, () => unknown, string]> = [
  ['ObjectId', () => new ObjectId(), 'a BSON ObjectId'],
  ['Long', () => Long.fromNumber(4711), 'a BSON Long'],
  ['Decimal128', () => Decimal128.fromString('47.11'), 'a BSON Decimal128'],
  ['Binary', () => new Binary(Buffer.from(SECRET)), 'a BSON Binary'],
  ['Timestamp', () => new Timestamp({ t: 4711, i: 1 }), 'a BSON Timestamp'],
  ['Date', () => new Date(4711), 'a Date'],
  ['object with its own toJSON', () => ({ v: SECRET, toJSON: () => SECRET }), 'an object with toJSON()'],
  ['Map', () => new Map([['k', SECRET]]), 'a Map'],
  ['Set', () => new Set([SECRET]), 'a Set'],
  ['Uint8Array', () => new Uint8Array([4, 7]), 'a Uint8Array'],
  ['Buffer', () => Buffer.from(SECRET), 'a Buffer'],
  ['class instance', () => new Order(4711), 'an instance of Order'],
  ['RegExp', () => new RegExp(SECRET), 'a RegExp'],
  ['BigInt', () => 4711n, 'a BigInt'],
  ['NaN', () => Number.NaN, 'a non-finite number'],
  ['Infinity', () => Number.POSITIVE_INFINITY, 'a non-finite number'],
  ['function', () => () => SECRET, 'a function'],
  ['symbol', () => Symbol(SECRET), 'a symbol'],
];

function refusal(change: EventChange): { message: string; issues: Array<{ field: string; message: string; expected: string }> } {
  try {
    add(change);
  } catch (error) {
    expect(error).toMatchObject({ code: 'OUTBOX_EVENT_INVALID', retryable: false });
    return error as never;
  }
  throw new Error('accepted');
}

describe('change.before / change.after that JSON would change (D2)', () => {
  it.each(KINDS)('refuses %s in after, naming the path and the type, never the value', (_name, make, found) => {
    const error = refusal({ op: 'insert', after: { ok: 'x', field: make() } });
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ field: 'change.after.field', expected: expect.stringContaining('EJSON.serialize(doc)') });
    expect(error.issues[0]!.message).toContain(found);
    expect(error.message).toContain('"change.after.field"');
    expect(JSON.stringify(error.issues) + error.message).not.toContain(SECRET);
    expect(JSON.stringify(error.issues) + error.message).not.toContain('4711');
  });

  it.each(KINDS)('refuses %s in before, deep inside an array', (_name, make) => {
    const error = refusal({ op: 'update', before: { lines: [{ sku: 'a' }, { sku: 'b', at: make() }] }, after: { lines: [] } });
    expect(error.issues[0]!.field).toBe('change.before.lines.1.at');
  });

  it('refuses the reviewer’s case: a MongoDB document as written, at its first such field', () => {
    const error = refusal({ op: 'insert', after: { _id: new ObjectId(), placedAt: new Date() } });
    expect(error.issues[0]).toMatchObject({ field: 'change.after._id', message: expect.stringContaining('a BSON ObjectId') });
    expect(refusal({ op: 'insert', after: new Date() }).issues[0]!.field).toBe('change.after');
  });

  it('passes the same document as Extended JSON (relaxed and canonical), which serialises unchanged', () => {
    const doc = { _id: new ObjectId(), placedAt: new Date(), n: Long.fromNumber(3), price: Decimal128.fromString('1.10'), tags: ['a'], nested: { ok: true, none: null } };
    for (const relaxed of [true, false]) {
      const after = EJSON.serialize(doc, { relaxed });
      const event = add({ op: 'insert', after });
      expect(JSON.parse(serializeEvent(event, 1)).change.after).toEqual(after);
      expect(EJSON.deserialize(JSON.parse(serializeEvent(event, 1)).change.after, { relaxed: false })).toEqual(EJSON.deserialize(after, { relaxed: false }));
    }
    // Plain data, a null-prototype object and a property holding undefined pass too.
    const bare = Object.assign(Object.create(null) as object, { a: 1 });
    expect(() => add({ op: 'update', before: { a: [1, 'x', false, null, { b: undefined }] }, after: bare })).not.toThrow();
  });

  it('walks without recursion and visits each object once: deep nesting, shared and circular references end', () => {
    let deep: Record<string, unknown> = { at: new Date() };
    for (let i = 0; i < 50_000; i++) deep = { d: deep };
    expect(changedByJson(deep, 'change.after')).toMatchObject({ found: 'a Date', path: expect.stringMatching(/^change\.after\.d\.d\..*…$/) });
    const shared = { v: 1 };
    const wide = Array.from({ length: 1_000 }, () => shared);
    expect(changedByJson({ wide }, 'change.after')).toBeUndefined();
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    expect(changedByJson(cycle, 'change.after')).toBeUndefined(); // the write's JSON.stringify refuses the cycle itself
    expect(() => serializeEvent(add({ op: 'insert', after: cycle }), 1)).toThrow(expect.objectContaining({ code: 'OUTBOX_EVENT_INVALID' }));
  });

  it('calls no toJSON and no getter beyond what JSON.stringify reads; a throwing getter is left to the write', () => {
    let calls = 0;
    expect(changedByJson({ x: { toJSON: () => (calls++, 1) } }, 'change.after')).toMatchObject({ path: 'change.after.x' });
    expect(calls).toBe(0);
    const hostile = Object.defineProperty({}, 'boom', { enumerable: true, get: () => { throw new Error(SECRET); } });
    expect(changedByJson(hostile, 'change.after')).toBeUndefined();
  });
});
