import { describe, expect, it } from 'vitest';
import { raceSignal as abortable, throwIfAborted } from './signal.js';

describe('abortable store calls', () => {
  it('settle like the work when the signal stays quiet', async () => {
    expect(await abortable(Promise.resolve(7), new AbortController().signal)).toBe(7);
    await expect(abortable(Promise.reject(new Error('store down')), new AbortController().signal)).rejects.toThrow('store down');
  });

  it('reject with the reason as soon as the signal aborts, and swallow the late outcome', async () => {
    const controller = new AbortController();
    let fail!: (e: Error) => void;
    const work = new Promise<number>((_, reject) => (fail = reject));
    const pending = abortable(work, controller.signal);
    const reason = new Error('deadline');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    fail(new Error('late')); // no unhandled rejection: vitest fails the run if there is one
    await new Promise((r) => setTimeout(r, 10));
  });

  it('throwIfAborted throws the reason, or an AbortError without one', () => {
    expect(() => throwIfAborted(undefined)).not.toThrow();
    const reason = new Error('gone');
    expect(() => throwIfAborted(AbortSignal.abort(reason))).toThrow(reason);
    const controller = new AbortController();
    controller.abort();
    expect(() => throwIfAborted(controller.signal)).toThrow(expect.objectContaining({ name: 'AbortError' }));
  });
});
