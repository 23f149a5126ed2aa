/**
 * `middyPlugin()` keeps the open requests to mark on middy's early timeout. middy ≤ 7.0 calls
 * `requestEnd` only when it answers, so a request that failed before any steadyfn middleware
 * entered it is never ended: it must not be kept for ever (one leaked event per failed request
 * in a warm instance). Checked by garbage collection of the dropped request.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import type { Plugin } from '../index.js';
import { middyPlugin, toMiddy } from '../middy.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

it('a request no steadyfn middleware entered is not kept once the next request starts', async () => {
  const plugin = middyPlugin({ timeoutEarlyInMillis: 1_000 });
  let weak: WeakRef<object> | undefined;
  (() => {
    const failed = { event: { payload: 'x'.repeat(1_000) }, context: {}, internal: {} };
    plugin.requestStart(failed); // then a plain middleware throws; middy 7.0 never calls requestEnd
    weak = new WeakRef(failed);
  })();
  plugin.requestStart({ event: {}, context: {}, internal: {} });
  for (let i = 0; i < 5 && weak!.deref() !== undefined; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  expect(weak!.deref()).toBeUndefined();
});

it('a request a steadyfn middleware entered but middy never ended (a plain onError after it threw, middy ≤ 7.0) is not kept', async () => {
  const plugin = middyPlugin({ timeoutEarlyInMillis: 1_000 });
  const mw = toMiddy({ name: 'w' } as Plugin);
  let weak: WeakRef<object> | undefined;
  await (async () => {
    const end = Date.now() + 60_000;
    const context = { awsRequestId: 'r1', functionName: 'f', getRemainingTimeInMillis: () => end - Date.now() };
    const failed = { event: { payload: 'x'.repeat(1_000) }, context, internal: {}, response: undefined, error: undefined };
    plugin.requestStart(failed);
    await mw.before!(failed as never); // entered; then a plain onError throws: no requestEnd, no steadyfn onError
    weak = new WeakRef(failed);
  })();
  plugin.requestStart({ event: {}, context: {}, internal: {} });
  for (let i = 0; i < 5 && weak!.deref() !== undefined; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  expect(weak!.deref()).toBeUndefined();
});
