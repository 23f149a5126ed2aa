/**
 * Review: a reducer failure named the event's position with `String(position)`, where every other
 * hydration message uses `describePosition` (a string cut at 64 characters, a Date as ISO, an
 * object by its kind). A long string position (a composite key of your own event store) filled
 * the 300 characters a failure message keeps, so the reducer's error class — the one clue to the
 * cause — was cut off; an object position read `[object Object]`.
 */
import { describe, expect, it } from 'vitest';
import { defineState, hydrate, type EventStore } from '../src/index.js';
import { stateErrorOf } from './support.js';

function failingAt<P>(position: P) {
  const events: EventStore<{ bad: true }, P> = { readAfter: async (after) => (after === undefined ? [{ position, event: { bad: true } }] : []) };
  return defineState({
    sources: {
      cart: hydrate({
        events,
        initial: () => ({ items: 0 }),
        reducer: (): { items: number } => {
          throw new TypeError('cannot read items of undefined');
        },
      }),
    },
  });
}

async function failureOf(position: unknown): Promise<string> {
  return (await stateErrorOf(failingAt(position).get())).failures[0]!.message;
}

describe('hydrate(): a reducer failure names the position as every other message does', () => {
  it('a long string position is cut, and the error class is kept', async () => {
    const message = await failureOf(`cart-42/${'x'.repeat(400)}`);
    expect(message).toMatch(/^event-sourced state: the reducer failed at event position cart-42\/x+…: TypeError$/);
  });

  it('a Date position as ISO, an object position by its kind', async () => {
    expect(await failureOf(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe('event-sourced state: the reducer failed at event position 2026-01-02T03:04:05.000Z: TypeError');
    expect(await failureOf({ stream: 'cart-42', seq: 7 })).toBe('event-sourced state: the reducer failed at event position an object: TypeError');
  });
});
