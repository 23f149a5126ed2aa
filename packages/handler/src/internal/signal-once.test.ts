/**
 * `ctx.signal`'s source runs each abort callback once, however it was added: through `onAbort`
 * (the first kept without a set) and through `abortCallbacks` (the set), in either order.
 * No caller adds one callback both ways today; the source must not depend on that.
 */
import { describe, expect, it } from 'vitest';
import { SignalSource, abortCallbacks, onAbort } from './signal.js';

describe('SignalSource: a callback added through onAbort and through abortCallbacks', () => {
  it('onAbort first (kept without a set), then the set: runs once', () => {
    const source = new SignalSource();
    let runs = 0;
    const callback = (): void => void runs++;
    onAbort(source, callback);
    abortCallbacks(source).add(callback);
    source.abort(new Error('deadline'));
    expect(runs).toBe(1);
  });

  it('onAbort first, then the set of its AbortSignal: runs once', () => {
    const source = new SignalSource();
    let runs = 0;
    const callback = (): void => void runs++;
    onAbort(source, callback);
    abortCallbacks(source.signal).add(callback);
    source.abort(new Error('deadline'));
    expect(runs).toBe(1);
  });

  it('the set first, then onAbort: runs once', () => {
    const source = new SignalSource();
    let runs = 0;
    const callback = (): void => void runs++;
    abortCallbacks(source).add(callback);
    onAbort(source, callback);
    source.abort(new Error('deadline'));
    expect(runs).toBe(1);
  });

  it('one added through onAbort is the set’s like any other: deleted from it, it does not run', () => {
    const source = new SignalSource();
    const calls: string[] = [];
    const gone = (): void => void calls.push('gone');
    onAbort(source, gone);
    onAbort(source, () => calls.push('kept'));
    abortCallbacks(source).delete(gone);
    source.abort(new Error('deadline'));
    expect(calls).toEqual(['kept']);
  });
});
