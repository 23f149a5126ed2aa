/**
 * The detail of `CONNECTION_LOST` says what happened: a write not safe to repeat, or an
 * operation that was repeated once and lost its connection again. Before, both said "…during an
 * operation that is not safe to repeat", wrong for a read that had been repeated.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, defineClient } from '../src/index.js';

afterEach(async () => {
  await closeAll();
});

/** A connection error as Node's sockets give it. */
const reset = (): Error => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

function client(): { calls: number } {
  return { calls: 0 };
}

describe('CONNECTION_LOST detail', () => {
  it('a read repeated once that fails again says it was repeated once and failed again', async () => {
    const handle = defineClient({ name: 'wording-read', create: async () => client() });
    const err = await handle
      .read((c) => {
        c.calls++;
        throw reset();
      })
      .catch((e: unknown) => e as Error & { code?: string });
    expect(err).toMatchObject({ code: 'CONNECTION_LOST' });
    expect(err.message).toMatch(/repeated once/);
    expect(err.message).not.toMatch(/not safe to repeat/);
  });

  it('a write not marked safe still says it is not safe to repeat, and is run once', async () => {
    const handle = defineClient({ name: 'wording-write', create: async () => client() });
    let calls = 0;
    const err = await handle
      .run(() => {
        calls++;
        throw reset();
      })
      .catch((e: unknown) => e as Error & { code?: string });
    expect(err).toMatchObject({ code: 'CONNECTION_LOST' });
    expect(err.message).toMatch(/not safe to repeat/);
    expect(calls).toBe(1);
  });
});
