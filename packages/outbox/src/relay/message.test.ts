import { describe, expect, it } from 'vitest';
import { ATTRIBUTES, toMessage } from './message.js';
import type { StoredEvent } from './types.js';

const event: StoredEvent = { ref: '1-0', id: '0190a0b0-0000-7000-8000-000000000001', aggregate: 'order/o-1', aggregateId: 'o-1', type: 'OrderPaid', seq: 7, body: '{}', committedAt: 1, started: 2, finished: 1, unjudged: 0 };

describe('toMessage', () => {
  // The attribute names are written out in toMessage (not computed from ATTRIBUTES): they must stay the same names.
  it('names its attributes as ATTRIBUTES does, with the event id, type, aggregate, seq and attempt', () => {
    expect(toMessage(event)).toEqual({
      id: event.id,
      groupKey: 'order/o-1',
      body: '{}',
      attributes: { [ATTRIBUTES.eventId]: event.id, [ATTRIBUTES.type]: 'OrderPaid', [ATTRIBUTES.aggregate]: 'order/o-1', [ATTRIBUTES.seq]: '7', [ATTRIBUTES.attempt]: '2' },
    });
  });

  it('adds the traceparent attribute when the event has one', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(toMessage({ ...event, traceparent }).attributes).toMatchObject({ [ATTRIBUTES.traceparent]: traceparent, [ATTRIBUTES.seq]: '7' });
  });
});
