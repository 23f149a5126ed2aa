/**
 * Waiting under a deadline, as pure logic: a shared piece of work outlives a waiter that
 * gives up only while another waiter still waits.
 */
import { describe, expect, it } from 'vitest';
import { Flight, bounded } from './flight.js';

function deferred<V>() {
  let resolve!: (v: V) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<V>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('bounded', () => {
  it('aborts the work at its timeout and hands a late value to onLate', async () => {
    const late: number[] = [];
    let seen: AbortSignal | undefined;
    const work = deferred<number>();
    const run = bounded(
      (signal) => {
        seen = signal;
        return work.promise;
      },
      20,
      () => new Error('timed out'),
      undefined,
      (v) => late.push(v),
    );
    await expect(run).rejects.toThrow('timed out');
    expect(seen?.aborted).toBe(true);
    work.resolve(7);
    await new Promise((r) => setImmediate(r));
    expect(late).toEqual([7]);
  });

  it('follows an outer signal', async () => {
    const outer = new AbortController();
    const run = bounded(() => new Promise(() => undefined), 10_000, () => new Error('timeout'), outer.signal);
    const reason = new Error('outer');
    outer.abort(reason);
    await expect(run).rejects.toBe(reason);
  });
});

describe('Flight', () => {
  it('a waiter that gives up leaves the work running for the others; the last one aborts it', async () => {
    const work = deferred<string>();
    let workSignal: AbortSignal | undefined;
    const flight = new Flight((signal) => {
      workSignal = signal;
      return work.promise;
    });
    const a = new AbortController();
    const b = new AbortController();
    const first = flight.wait(a.signal);
    const second = flight.wait(b.signal);
    a.abort(new Error('a: deadline'));
    await expect(first).rejects.toThrow('a: deadline');
    expect(workSignal?.aborted).toBe(false);
    b.abort(new Error('b: deadline'));
    await expect(second).rejects.toThrow('b: deadline');
    expect(workSignal?.aborted).toBe(true);
    expect(workSignal?.reason).toEqual(new Error('b: deadline'));
  });

  it('a waiter without a signal pins the work', async () => {
    const work = deferred<string>();
    let workSignal: AbortSignal | undefined;
    const flight = new Flight((signal) => {
      workSignal = signal;
      return work.promise;
    });
    const pinned = flight.wait(undefined);
    const a = new AbortController();
    const bounded = flight.wait(a.signal);
    a.abort(new Error('gone'));
    await expect(bounded).rejects.toThrow('gone');
    expect(workSignal?.aborted).toBe(false);
    work.resolve('done');
    await expect(pinned).resolves.toBe('done');
  });

  it('every waiter gets the same result or error', async () => {
    const flight = new Flight(async () => {
      throw new Error('refused');
    });
    const results = await Promise.allSettled([flight.wait(undefined), flight.wait(new AbortController().signal)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
