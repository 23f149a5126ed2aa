/**
 * Node fires a timer longer than 2^31−1 ms (about 24.8 days) after 1 ms. The shared timer
 * helpers treat such a duration as "no bound", and `msOption` can refuse one up front.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError, MAX_TIMER_MS, msOption, sleep, withTimeout } from '@steadyfn/handler/internal';

const PAST_LONGEST = 2 ** 31 + 5_000;

/** Which settles first: `p`, or a short timer that surely runs after a 1 ms timer would have. */
async function firstOf(p: Promise<unknown>): Promise<string> {
  const marker = new Promise<string>((resolve) => setTimeout(() => resolve('short timer'), 30));
  return Promise.race([p.then(() => 'work', () => 'rejected'), marker]);
}

describe('timers past the longest Node timer', () => {
  it('sleep(ms > 2^31−1) does not end after 1 ms; it ends with its signal', async () => {
    const controller = new AbortController();
    const slept = sleep(PAST_LONGEST, controller.signal);
    expect(await firstOf(slept)).toBe('short timer');
    controller.abort();
    await slept;
  });

  it('withTimeout(ms > 2^31−1) does not time out after 1 ms', async () => {
    let answer!: (v: string) => void;
    const work = new Promise<string>((resolve) => (answer = resolve));
    const bounded = withTimeout(work, PAST_LONGEST, () => new Error('timed out'));
    expect(await firstOf(bounded)).toBe('short timer');
    answer('done');
    await expect(bounded).resolves.toBe('done');
  });

  it('msOption with max MAX_TIMER_MS refuses a longer duration, naming the field and the maximum', () => {
    expect(MAX_TIMER_MS).toBe(2_147_483_647);
    expect(msOption('x', 'timeoutMs', MAX_TIMER_MS, 1, 1, MAX_TIMER_MS)).toBe(MAX_TIMER_MS);
    let thrown: unknown;
    try {
      msOption('x', 'timeoutMs', MAX_TIMER_MS + 1, 1, 1, MAX_TIMER_MS);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect(thrown).toMatchObject({ code: 'CONFIG_INVALID', field: 'timeoutMs' });
    expect((thrown as Error).message).toContain('≤ 2147483647');
  });
});
