import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toFieldIssues } from './issues.js';

function issuesOf(schema: z.ZodType, value: unknown, prefix?: string) {
  const parsed = schema.safeParse(value);
  if (parsed.success) throw new Error('expected the value to fail the schema');
  return toFieldIssues(parsed.error.issues, prefix);
}

describe('toFieldIssues: expected, in the schema’s words', () => {
  it.each([
    ['a type', z.number(), 'x', 'number'],
    ['an enum', z.enum(['paid', 'shipped']), 'lost', '"paid" | "shipped"'],
    ['a literal', z.literal(3), 4, '3'],
    ['a number bound, inclusive', z.number().int().min(1), 0, 'number >= 1'],
    ['a number bound, exclusive', z.number().gt(0), 0, 'number > 0'],
    ['a number upper bound', z.number().lt(10), 10, 'number < 10'],
    ['a bigint bound', z.bigint().min(10n), 3n, 'bigint >= 10n'],
    ['a string length', z.string().max(4), 'abcdef', 'string of at most 4 characters'],
    ['an exact array length', z.array(z.string()).length(2), ['x'], 'array of exactly 2 items'],
    ['a date bound', z.date().min(new Date(0)), new Date(-5), 'date >= 1970-01-01T00:00:00.000Z'],
    ['a string format', z.string().email(), 'no', 'string in email format'],
    ['a regex', z.string().regex(/^[a-z]+$/), 'A1', 'string matching /^[a-z]+$/'],
    ['a prefix', z.string().startsWith('ab'), 'zz', 'string starting with "ab"'],
    ['a multiple', z.number().multipleOf(5), 7, 'multiple of 5'],
  ])('%s', (_what, schema, value, expected) => {
    expect(issuesOf(schema, value)).toEqual([expect.objectContaining({ field: '', expected })]);
  });

  it('a discriminated union names the discriminator and its values', () => {
    const schema = z.object({ u: z.discriminatedUnion('type', [z.object({ type: z.literal('a') }), z.object({ type: z.literal('b') })]) });
    expect(issuesOf(schema, { u: { type: 'c' } })).toEqual([expect.objectContaining({ field: 'u.type', expected: '"a" | "b"' })]);
  });

  it('a long enum is cut after 20 values', () => {
    const values = Array.from({ length: 30 }, (_, i) => `v${i}`) as [string, ...string[]];
    const [issue] = issuesOf(z.enum(values), 'x');
    expect(issue!.expected!.split(' | ')).toHaveLength(21);
    expect(issue!.expected!.endsWith(' | …')).toBe(true);
  });

  it('never quotes the value that failed, and leaves expected out where the schema names nothing', () => {
    const secret = 'hunter2-secret-value';
    const schema = z.object({ a: z.enum(['x']), b: z.string().refine(() => false, 'no'), c: z.number() }).strict();
    const issues = issuesOf(schema, { a: secret, b: secret, c: secret, [secret]: 1 });
    expect(issues.map((i) => i.expected ?? '').join(' ')).not.toContain('hunter2');
    expect(issues.map((i) => i.message).join(' ')).not.toContain('hunter2');
    expect(issues.find((i) => i.field === 'b')).toEqual({ field: 'b', message: 'no' });
  });

  it('an unrecognized key is counted, never named, in the message and expected (review s52)', () => {
    const schema = z.object({ name: z.string() }).strict();
    expect(issuesOf(schema, { name: 'n', 'ssn-123-45-6789': 1 })).toEqual([{ field: '', message: 'Unrecognized key(s): 1', expected: 'no other keys' }]);
    const nested = issuesOf(z.object({ a: z.strictObject({}) }), { a: { 'ssn-123-45-6789': 1, 'card-4111111111111111': 2 } }, 'payload');
    expect(nested).toEqual([{ field: 'payload.a', message: 'Unrecognized key(s): 2', expected: 'no other keys' }]);
    expect(JSON.stringify(nested)).not.toMatch(/ssn|4111/);
  });

  it('through handler(): the public error never names an unrecognized key', async () => {
    const { handler } = await import('../index.js');
    const main = handler({ input: z.object({ name: z.string() }).strict(), logSink: () => undefined }, () => 'ok');
    const thrown = (await main.invoke({ name: 'n', 'ssn-123-45-6789': 1 }).then(() => undefined, (e: unknown) => e)) as { code: string; message: string; errors: unknown };
    expect(thrown.code).toBe('VALIDATION_FAILED');
    expect(thrown.errors).toEqual([{ field: '', message: 'Unrecognized key(s): 1', expected: 'no other keys' }]);
    expect(thrown.message + JSON.stringify(thrown.errors)).not.toContain('ssn');
  });

  it('puts a prefix before every field', () => {
    expect(issuesOf(z.object({ qty: z.number() }), { qty: 'x' }, 'payload')).toEqual([expect.objectContaining({ field: 'payload.qty', expected: 'number' })]);
    expect(issuesOf(z.number(), 'x', 'payload')).toEqual([expect.objectContaining({ field: 'payload' })]);
  });
});
