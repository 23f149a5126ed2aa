/**
 * `wasCutOff(error)` (`@steadyfn/handler/internal`): a plugin's `onError` tells the handler's
 * cut-off at the deadline — the function may still be running and making its effects — from a
 * `DEADLINE_EXCEEDED` the function threw itself (a mapped gRPC status, an early stop of its own),
 * which ended with it. The idempotency plugin keeps its record held only for the first.
 */
import { describe, expect, it } from 'vitest';
import { DeadlineExceededError, handler, type Plugin } from '../src/index.js';
import { wasCutOff } from '../src/internal.js';

const silent = (): void => undefined;

async function seen(fn: () => Promise<unknown>, deadlineInMs: number): Promise<boolean[]> {
  const marks: boolean[] = [];
  const watcher: Plugin = { name: 'watcher', onError: (_ctx, error) => void marks.push(wasCutOff(error)) };
  const main = handler({ logSink: silent, deadlineMarginMs: 0, use: [watcher] }, fn);
  await expect(main.invoke(null, { deadline: Date.now() + deadlineInMs })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
  return marks;
}

describe('wasCutOff', () => {
  it('is true for the DEADLINE_EXCEEDED of a function cut off at its deadline', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    expect(await seen(() => gate, 300)).toEqual([true]);
    release();
  });

  it('is false for a DEADLINE_EXCEEDED the function threw itself, and for any other value', async () => {
    expect(await seen(async () => Promise.reject(new DeadlineExceededError('upstream timed out')), 60_000)).toEqual([false]);
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    for (const value of [new DeadlineExceededError(), proxy, null, undefined, 'DEADLINE_EXCEEDED']) expect(wasCutOff(value)).toBe(false);
  });
});
