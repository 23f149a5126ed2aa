/**
 * Review finding (s53): the handler masks a caller-chosen key (of a `z.record()`, a `z.map()`,
 * a `.catchall()`) in a validation issue's `field` (internal/issue-mask.ts), but the outbox
 * reported an event payload its schema refused with the raw zod path: a payload keyed by email
 * address put the address into `OUTBOX_EVENT_INVALID`'s `issues[].field`, which is exposed and
 * logged. The key is now `*`, as in the handler; keys the schema declares stay.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EventInvalidError } from './errors.js';
import { prepareEvent, type EventDeclarations, type PayloadSchema } from './envelope.js';

const EMAIL = 'ann@example.com';

function refusal(declarations: EventDeclarations, payload: unknown): EventInvalidError {
  try {
    prepareEvent(declarations, { type: 'Tallied', aggregateId: 't-1', payload }, {});
  } catch (error) {
    expect(error).toBeInstanceOf(EventInvalidError);
    return error as EventInvalidError;
  }
  throw new Error('payload accepted');
}

describe('OUTBOX_EVENT_INVALID for a payload its schema refuses', () => {
  it('masks a z.record() key (the caller\'s) and keeps the declared keys around it', () => {
    const schema = z.object({ byEmail: z.record(z.string(), z.object({ qty: z.number() })) });
    const error = refusal({ Tallied: { aggregateType: 'tally', schema } }, { byEmail: { [EMAIL]: { qty: 'two' } } });
    expect(error.code).toBe('OUTBOX_EVENT_INVALID');
    expect(error.issues?.map((i) => i.field)).toEqual(['payload.byEmail.*.qty']);
    expect(JSON.stringify({ message: error.message, issues: error.issues })).not.toContain(EMAIL);
  });

  it('masks a .catchall() key, keeps an enum-keyed record\'s key (the schema names it)', () => {
    const schema = z.object({ total: z.number() }).catchall(z.number());
    expect(refusal({ Tallied: { aggregateType: 'tally', schema } }, { total: 1, [EMAIL]: 'x' }).issues?.map((i) => i.field)).toEqual(['payload.*']);
    const byPlan = z.record(z.enum(['free', 'pro']), z.number());
    expect(refusal({ Tallied: { aggregateType: 'tally', schema: byPlan } }, { free: 1, pro: 'x' }).issues?.map((i) => i.field)).toEqual(['payload.pro']);
  });

  it('a schema that is not zod 4 keeps its paths as it reports them', () => {
    const schema: PayloadSchema<unknown> = { safeParse: () => ({ success: false, error: { issues: [{ path: ['a', 0], message: 'bad' }] } }) };
    expect(refusal({ Tallied: { aggregateType: 'tally', schema } }, {}).issues?.map((i) => i.field)).toEqual(['payload.a.0']);
  });
});
