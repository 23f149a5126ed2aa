/**
 * A plugin that hands back the same frozen object on every warm invocation (`connections`) has
 * its members checked once (`extendContext` remembers it): each invocation still gets exactly what
 * `Object.assign` would copy, and anything that can still change is checked every time.
 */
import { describe, expect, it } from 'vitest';
import { handler, type Plugin } from '../src/index.js';

type Ctx = Record<PropertyKey, unknown>;
const TAG = Symbol('tag');

function seen(use: Plugin[], read: (ctx: Ctx) => unknown) {
  const got: unknown[] = [];
  const main = handler({ use, logSink: () => undefined }, (_input, ctx) => void got.push(read(ctx as unknown as Ctx)));
  return { got, invoke: () => main.invoke({}) };
}

describe('a frozen extension handed back on every invocation', () => {
  it('puts its own enumerable members on every ctx, symbols and getters included, as Object.assign does', async () => {
    let n = 0;
    const members = Object.freeze(
      Object.defineProperties({ db: 'client', [TAG]: 'tagged' } as Ctx, {
        count: { enumerable: true, get: () => ++n },
        hidden: { enumerable: false, value: 'not copied' },
      }),
    );
    const { got, invoke } = seen([{ name: 'frozen', extend: () => members }], (ctx) => [ctx.db, ctx[TAG], ctx.count, 'hidden' in ctx]);
    for (let i = 0; i < 3; i++) await invoke();
    // The getter is read once per invocation (a copy, as Object.assign makes), never cached.
    expect(got).toEqual([
      ['client', 'tagged', 1, false],
      ['client', 'tagged', 2, false],
      ['client', 'tagged', 3, false],
    ]);
  });

  it('is refused on every invocation when it names a core member (a refused object is never remembered)', async () => {
    const members = Object.freeze({ log: 'mine' });
    const main = handler({ use: [{ name: 'takes-log', extend: () => members }], logSink: () => undefined }, () => 'ran');
    for (let i = 0; i < 2; i++) await expect(main.invoke({})).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('checks an object that is not frozen every time: a core member added later is refused', async () => {
    const members: Ctx = { db: 'client' };
    const main = handler({ use: [{ name: 'mutable', extend: () => members }], logSink: () => undefined }, (_i, ctx) => (ctx as unknown as Ctx).db);
    await expect(main.invoke({})).resolves.toBe('client');
    members.signal = 'mine';
    await expect(main.invoke({})).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('keeps each plugin’s members when two frozen extensions alternate', async () => {
    const a = Object.freeze({ a: 1 });
    const b = Object.freeze({ b: 2 });
    const { got, invoke } = seen(
      [
        { name: 'a', extend: () => a },
        { name: 'b', extend: () => b },
      ],
      (ctx) => [ctx.a, ctx.b],
    );
    for (let i = 0; i < 3; i++) await invoke();
    expect(got).toEqual([
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
  });
});
