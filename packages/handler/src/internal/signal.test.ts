import { describe, expect, it } from 'vitest';
import { SignalSource, abortCallbacks, onAbort, raceSignal as abortable, throwIfAborted, toAbortSignal } from './signal.js';

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

describe('abortCallbacks', () => {
  it('one set per signal; its callbacks run once on abort, then it is empty', () => {
    const c = new AbortController();
    const set = abortCallbacks(c.signal);
    expect(abortCallbacks(c.signal)).toBe(set);
    const calls: string[] = [];
    const gone = (): void => void calls.push('gone');
    set.add(() => calls.push('a'));
    set.add(gone);
    set.delete(gone);
    c.abort();
    c.abort();
    expect(calls).toEqual(['a']);
    expect(set.size).toBe(0);
  });
});

describe('SignalSource (ctx.signal)', () => {
  it('aborts once with its reason: listeners first, then abort callbacks and pending races', async () => {
    const source = new SignalSource();
    const calls: string[] = [];
    source.signal.addEventListener('abort', () => calls.push('listener'));
    abortCallbacks(source.signal).add(() => calls.push('callback'));
    const never = new Promise<number>(() => undefined);
    const raced = abortable(never, source.signal, () => calls.push('onAbort'));
    const settled = abortable(Promise.resolve(1), source.signal);
    expect(await settled).toBe(1);
    const reason = new Error('deadline');
    source.abort(reason);
    source.abort(new Error('again'));
    await expect(raced).rejects.toBe(reason);
    expect(source.signal.reason).toBe(reason);
    expect(calls).toEqual(['listener', 'callback', 'onAbort']);
    expect(abortCallbacks(source.signal).size).toBe(0);
  });

  it('a race that settled leaves no callback behind', async () => {
    const source = new SignalSource();
    await abortable(Promise.resolve('v'), source.signal);
    await expect(abortable(Promise.reject(new Error('x')), source.signal)).rejects.toThrow('x');
    expect(abortCallbacks(source.signal).size).toBe(0);
  });

  it('races on the source itself without an AbortSignal; one made after the abort is aborted with the same reason', async () => {
    const source = new SignalSource();
    const calls: string[] = [];
    const raced = abortable(new Promise<number>(() => undefined), source, () => calls.push('onAbort'));
    expect(source.aborted).toBe(false);
    const reason = new Error('deadline');
    source.abort(reason);
    await expect(raced).rejects.toBe(reason);
    expect(() => throwIfAborted(source)).toThrow(reason);
    const signal = source.signal;
    expect([signal.aborted, signal.reason]).toEqual([true, reason]);
    expect(toAbortSignal(source)).toBe(signal);
    // The signal and the source share one set of abort callbacks, run once.
    expect(abortCallbacks(signal)).toBe(abortCallbacks(source));
    expect(abortCallbacks(source).size).toBe(0);
    expect(calls).toEqual(['onAbort']);
  });

  it('a signal made before the abort aborts with it: listeners, then callbacks added through the source or the signal', async () => {
    const source = new SignalSource();
    const calls: string[] = [];
    const signal = source.signal;
    signal.addEventListener('abort', () => calls.push('listener'));
    abortCallbacks(source).add(() => calls.push('via source'));
    abortCallbacks(signal).add(() => calls.push('via signal'));
    source.abort(new Error('gone'));
    expect(calls).toEqual(['listener', 'via source', 'via signal']);
    expect(toAbortSignal(signal)).toBe(signal);
  });
});

describe('onAbort', () => {
  it('on a source: each callback once, in the order added, whether the set was made before or after the first', () => {
    const calls: string[] = [];
    const first = (): void => void calls.push('first');
    const second = (): void => void calls.push('second');
    const source = new SignalSource();
    onAbort(source, first);
    onAbort(source, first);
    abortCallbacks(source).add(() => calls.push('set'));
    onAbort(source, second);
    onAbort(source, first);
    source.abort(new Error('deadline'));
    expect(calls).toEqual(['first', 'set', 'second']);
    // Run once: a second abort is ignored.
    source.abort(new Error('again'));
    expect(calls).toEqual(['first', 'set', 'second']);

    const later: string[] = [];
    const other = new SignalSource();
    abortCallbacks(other.signal).add(() => later.push('via signal'));
    onAbort(other, () => later.push('onAbort'));
    other.abort(new Error('gone'));
    expect(later).toEqual(['via signal', 'onAbort']);
  });

  it('on an AbortSignal: added to its callbacks, once', () => {
    const controller = new AbortController();
    const calls: string[] = [];
    const callback = (): void => void calls.push('callback');
    onAbort(controller.signal, callback);
    onAbort(controller.signal, callback);
    expect(abortCallbacks(controller.signal).size).toBe(1);
    controller.abort();
    expect(calls).toEqual(['callback']);
  });
});
