/**
 * Review s54 (rvx): `withTimeout`'s timer became ref'd (so an awaited bound is reached), and the
 * Closer — which closes a replaced client in the background — used it, so a process with nothing
 * left to do stayed open until `closeTimeoutMs` (2 s by default) when the old client's close
 * hung: a background close now holds nothing, while an awaited `close()` still holds the process
 * until its bound.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleChild, runChild } from '../../../test/support/bundle.js';

let dir: string | undefined;
let bundle: string;
beforeAll(() => {
  ({ file: bundle, dir } = bundleChild(new URL('./support/close-hold-child.ts', import.meta.url).href, { format: 'esm' }));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('closing a client holds the process only while the close is awaited', () => {
  it('exits on its own with a replaced client still closing in the background (killed after 10 s: code null)', async () => {
    expect(await runChild(bundle, ['rebuild'], 10_000)).toEqual({ code: 0, out: 'client 2\n', err: '' });
  });

  it('an awaited close() that never settles still ends at its bound, before the event loop drains', async () => {
    expect(await runChild(bundle, ['close'])).toEqual({ code: 0, out: 'client 2\nclosed\n', err: '' });
  });
});
