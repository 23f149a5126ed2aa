import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { settleLater } from './settle-later.js';

const retryableError = (): Error => Object.assign(new Error('Connection is closed.'), { retryable: true });

describe('settleLater', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Runs settleLater to its end on the fake clock; the times (ms after the start) of each try. */
  async function tries(attempt: (n: number) => Promise<void>, leaseMs: number, settled?: boolean): Promise<number[]> {
    const start = Date.now();
    const at: number[] = [];
    const done = settleLater(() => {
      at.push(Date.now() - start);
      return attempt(at.length);
    }, start + leaseMs);
    await vi.runAllTimersAsync();
    const result = await done;
    if (settled !== undefined) expect(result).toBe(settled);
    return at;
  }

  it('backs off 50 ms, doubling to 500 ms, while a try would start before the lease ends', async () => {
    expect(await tries(() => Promise.reject(retryableError()), 2_000, false)).toEqual([50, 150, 350, 750, 1250, 1750]);
  });

  it('stops after the first try that resolves', async () => {
    expect(await tries((n) => (n < 3 ? Promise.reject(retryableError()) : Promise.resolve()), 10_000, true)).toEqual([50, 150, 350]);
  });

  it('stops at an error marked retryable: false; errors without the mark are tried again', async () => {
    const terminal = Object.assign(new Error('record corrupt'), { retryable: false });
    expect(await tries(() => Promise.reject(terminal), 10_000, false)).toEqual([50]);
    expect(await tries((n) => (n === 1 ? Promise.reject(new Error('plain')) : n === 2 ? Promise.reject(undefined) : Promise.resolve()), 10_000)).toEqual([
      50, 150, 350,
    ]);
  });

  it('does not try when the lease ends before the first try', async () => {
    expect(await tries(() => Promise.resolve(), 50, false)).toEqual([]);
    expect(await tries(() => Promise.resolve(), 0, false)).toEqual([]);
  });
});
