/**
 * Review: `invalidate()` while a load is in flight. A user writes the state's data, then calls
 * `invalidate()`, and expects every `get()` that returns after it to see data loaded after it.
 * The load already in flight was not installed, but every `get()` waiting on it was still handed
 * its value — read before the write — and a revalidation that failed after the invalidate served
 * the last good state from before it. Those waiters now move to one load started after the
 * invalidate, shared with any later `get()`, still bounded by their own signal and deadline.
 *
 * Pure logic: a loader whose every call is answered by hand, and a hand-moved clock.
 */
import { describe, expect, it } from 'vitest';
import { defineState, type StateSource } from '../src/index.js';
import { gatedSchema, logLines, manualClock } from './support.js';

/** A source whose calls each read `data` when they arrive, then wait until the test answers them. */
function answeredByHand() {
  let data = 1;
  let version = 1;
  const calls: Array<{ kind: 'load' | 'revalidate'; signal: AbortSignal; answer(): void; fail(error: Error): void }> = [];
  let arrived: (() => void) | undefined;
  const call = <R>(kind: 'load' | 'revalidate', signal: AbortSignal, read: () => R): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      const seen = read();
      calls.push({ kind, signal, answer: () => resolve(seen), fail: reject });
      arrived?.();
    });
  const source: StateSource<number> = {
    load: (signal) => call('load', signal, () => ({ value: data, version })),
    revalidate: (known, signal) => call('revalidate', signal, () => (known.version === version ? 'unchanged' : { value: data, version })),
  };
  return {
    source,
    calls,
    write(next: number) {
      data = next;
      version++;
    },
    /** Resolves once the store has received `n` calls in all. */
    async received(n: number): Promise<void> {
      while (calls.length < n) await new Promise<void>((resolve) => (arrived = resolve));
    },
  };
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

describe('review: get() waiting on a load that was in flight when invalidate() was called', () => {
  it('is served by one load started after the invalidate, not the value read before it', async () => {
    const store = answeredByHand();
    const cache = defineState({ sources: { n: store.source }, now: manualClock().now });
    // One waiter with no bounds, one with a signal and a deadline: both ways of waiting.
    const plain = cache.get();
    const bounded = cache.get({ signal: new AbortController().signal, deadline: Date.now() + 600_000 });
    await store.received(1);

    store.write(2);
    cache.invalidate();
    const later = cache.get();
    // The old load answers with what it read before the write…
    store.calls[0]!.answer();
    await store.received(2);
    store.calls[1]!.answer();

    // …and nobody is handed it: both waiters and the later get share the one new load.
    expect(await plain).toEqual({ n: 2 });
    expect(await bounded).toEqual({ n: 2 });
    expect(await later).toEqual({ n: 2 });
    await settle();
    expect(store.calls.map((c) => c.kind)).toEqual(['load', 'load']);
    expect(cache.status()).toMatchObject({ loaded: true, versions: { n: 2 } });
  });

  it('moves at once: the old load is stopped rather than waited for', async () => {
    const store = answeredByHand();
    const cache = defineState({ sources: { n: store.source }, now: manualClock().now });
    const waiting = cache.get();
    await store.received(1);
    cache.invalidate();
    // The old load never answers; the new one does.
    await store.received(2);
    expect(store.calls[0]!.signal.aborted).toBe(true);
    store.calls[1]!.answer();
    expect(await waiting).toEqual({ n: 1 });
    expect(store.calls).toHaveLength(2);
  });

  it('a revalidation that fails after the invalidate does not serve the state from before it', async () => {
    const clock = manualClock();
    const store = answeredByHand();
    const log = logLines();
    const cache = defineState({ sources: { n: store.source }, maxAgeMs: 1_000, staleIfErrorMs: 60_000, now: clock.now, logger: log.logger });
    const first = cache.get();
    await store.received(1);
    store.calls[0]!.answer();
    expect(await first).toEqual({ n: 1 });

    clock.advance(1_000);
    const waiting = cache.get();
    await store.received(2);
    expect(store.calls[1]!.kind).toBe('revalidate');
    store.write(2);
    cache.invalidate();
    store.calls[1]!.fail(new Error('store down'));
    await store.received(3);
    expect(store.calls[2]!.kind).toBe('load');
    store.calls[2]!.answer();

    expect(await waiting).toEqual({ n: 2 });
    expect(log.entries().filter((e) => e.msg === 'serving the last good state: reload failed')).toEqual([]);
    expect(cache.status().lastError).toBeUndefined();
  });

  it('a moved waiter still stops at its own signal, and the new load stops with it', async () => {
    const store = answeredByHand();
    const cache = defineState({ sources: { n: store.source }, now: manualClock().now });
    const controller = new AbortController();
    const waiting = cache.get({ signal: controller.signal });
    await store.received(1);
    cache.invalidate();
    await store.received(2);
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    expect(store.calls[1]!.signal.aborted).toBe(true);
    // Nothing was installed; the next get loads afresh.
    expect(cache.status().loaded).toBe(false);
    const next = cache.get();
    await store.received(3);
    store.calls[2]!.answer();
    expect(await next).toEqual({ n: 1 });
  });

  it('a moved waiter still stops at its own deadline (DEADLINE_EXCEEDED)', async () => {
    const store = answeredByHand();
    const cache = defineState({ sources: { n: store.source }, now: manualClock().now });
    // A deadline already past when the waiter moves: checked again on the new load, not reset.
    const deadline = Date.now() + 600_000;
    const waiting = cache.get({ deadline });
    await store.received(1);
    const realNow = Date.now;
    Date.now = () => deadline + 1;
    try {
      cache.invalidate();
      await expect(waiting).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    } finally {
      Date.now = realNow;
    }
    await settle();
    expect(store.calls.every((c) => c.signal.aborted)).toBe(true);
  });

  it('a round an abort cannot stop (an async schema) that finishes after the invalidate installs nothing', async () => {
    let current = 1;
    const source: StateSource<number> = { load: async () => ({ value: current }) };
    // Only the old round (it reads 1) is held in its schema.
    const { schema, release, inSchema, outOfSchema } = gatedSchema((n) => n === 1);
    const cache = defineState({ sources: { n: source }, schema, now: manualClock().now });
    const old = cache.get();
    await inSchema;
    current = 2;
    cache.invalidate();
    expect(await old).toEqual({ n: 2 });

    // The old round, read before the write, finishes its schema now: the state stays the new one.
    release();
    await outOfSchema;
    await settle();
    expect(await cache.get()).toEqual({ n: 2 });
    expect(cache.status().versions).toEqual({});
  });

  it('…nor when nothing was loaded after the invalidate', async () => {
    const { schema, release, inSchema, outOfSchema } = gatedSchema();
    const cache = defineState({ sources: { n: { load: async () => ({ value: 1, version: 1 }) } }, schema, now: manualClock().now });
    const giveUp = new AbortController();
    const old = cache.get({ signal: giveUp.signal });
    await inSchema;
    // Its only waiter gives up first, so no round starts after the invalidate.
    giveUp.abort(new Error('gave up'));
    await expect(old).rejects.toThrow('gave up');
    cache.invalidate();
    release();
    await outOfSchema;
    await settle();
    expect(cache.status()).toMatchObject({ loaded: false, versions: {} });
  });
});

describe('review: invalidate() again and again while get() waits', () => {
  it('a source whose load calls invalidate() makes get() give up after 8 loads, not load for good', async () => {
    let loads = 0;
    // eslint-disable-next-line prefer-const
    let cache: ReturnType<typeof defineState<{ n: StateSource<number> }>>;
    const source: StateSource<number> = {
      load: async () => {
        loads++;
        cache.invalidate();
        return { value: loads, version: loads };
      },
    };
    cache = defineState({ sources: { n: source }, now: manualClock().now });
    await expect(cache.get()).rejects.toMatchObject({ code: 'STATE_UNAVAILABLE', failures: [{ source: 'n', kind: 'load', message: expect.stringContaining('invalidate() was called 8 times') }] });
    expect(loads).toBe(8);
  });

  it('a moved call whose deadline has passed starts no new load', async () => {
    const store = answeredByHand();
    const cache = defineState({ sources: { n: store.source }, now: manualClock().now });
    const deadline = Date.now() + 50;
    const waiting = cache.get({ deadline });
    await store.received(1);
    // Block the event loop past the deadline, so the invalidate finds the call still waiting with its time gone.
    while (Date.now() <= deadline) {
      /* spin */
    }
    cache.invalidate();
    await expect(waiting).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    await settle();
    expect(store.calls).toHaveLength(1);
  });
});
