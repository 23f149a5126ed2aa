/**
 * Review s55 (rvm): `middyPlugin()` under middy 4–6 and with requests overlapping.
 * 1. middy 4/5/6 (non-streaming) call `plugin.requestStart?.()` with no argument
 *    (@middy/core 6.x `index.js`: `plugin.requestStart?.(); const request = middyRequest(…)`), so
 *    the plugin never saw the request and its early timeout marked nothing: the hooks got
 *    INTERNAL, `ctx.signal` not aborted, and idempotency released the record for a retry to run
 *    beside the function. The call shape is simulated on the real @middy/core 7.
 * 2. One request's early timeout marked another whose handler had already returned (middy had
 *    cleared its timer) and sat in an `after`: its real result was taken for a recovery.
 */
import middy from '@middy/core';
import { expect, it } from 'vitest';
import { recoveredFrom, type Plugin } from '../index.js';
import { middyPlugin, toMiddy } from '../middy.js';

const realClockContext = (id: string, remainingMs: number) => {
  const end = Date.now() + remainingMs;
  return { awsRequestId: id, functionName: 'f', getRemainingTimeInMillis: () => end - Date.now() };
};

function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

it('middy 4–6 call shape (requestStart with no request): the early timeout is DEADLINE_EXCEEDED, ctx.signal aborted', async () => {
  const codes: string[] = [];
  const watcher: Plugin = { name: 'watcher', onError: (ctx, error) => void codes.push(`${error.code}:${ctx.signal.aborted}`), finally: (_ctx, outcome) => void codes.push(`finally:${outcome.ok ? 'ok' : outcome.error.code}`) };
  const hold = gate();
  const plugin = middyPlugin({ timeoutEarlyInMillis: 59_990 });
  const config = { ...plugin, requestStart: () => plugin.requestStart(undefined) };
  const main = middy(async () => (await hold.wait, 'fn'), config).use(toMiddy(watcher));
  await expect(main({}, realClockContext('m6', 60_000) as never)).rejects.toMatchObject({ name: 'TimeoutError' });
  hold.open();
  expect(codes).toEqual(['DEADLINE_EXCEEDED:true', 'finally:DEADLINE_EXCEEDED']);
});

it('middy 4–6 call shape, a request far from its timeout stays uncut when another times out', async () => {
  const outcomes: string[] = [];
  const watcher: Plugin = { name: 'watcher', finally: (ctx, outcome) => void outcomes.push(`${ctx.requestId}:${outcome.ok ? (recoveredFrom(ctx)?.code ?? 'ok') : outcome.error.code}`) };
  const slow = gate();
  const fast = gate();
  const plugin = middyPlugin({ timeoutEarlyInMillis: 59_990 });
  const config = { ...plugin, requestStart: () => plugin.requestStart(undefined) };
  const main = middy(async (event: { slow?: boolean }) => (event.slow ? (await slow.wait, 'slow') : (await fast.wait, 'fast')), config).use(toMiddy(watcher));
  const long = main({}, realClockContext('long', 600_000) as never);
  await expect(main({ slow: true }, realClockContext('short', 60_000) as never)).rejects.toMatchObject({ name: 'TimeoutError' });
  fast.open();
  await expect(long).resolves.toBe('fast');
  slow.open();
  expect(outcomes).toEqual(['short:DEADLINE_EXCEEDED', 'long:ok']);
});

it("a request whose handler returned, held in an after when another's early timeout fires, keeps its own result", async () => {
  const seen: string[] = [];
  const watcher: Plugin = { name: 'watcher', after: (ctx, result) => void seen.push(`after:${ctx.requestId}:${recoveredFrom(ctx)?.code ?? String(result)}`) };
  const aHold = gate();
  const fired = gate();
  let bInAfter!: () => void;
  const bReachedAfter = new Promise<void>((resolve) => (bInAfter = resolve));
  // Listed after toMiddy(watcher): middy runs it first among the afters; holds B there.
  const holdB = { after: async (request: { event: { id: string } }) => (request.event.id === 'B' ? (bInAfter(), await fired.wait) : undefined) };
  const plugin = middyPlugin({ timeoutEarlyInMillis: 990, timeoutEarlyResponse: () => (fired.open(), { statusCode: 504 }) });
  const frozen = (id: string) => ({ awsRequestId: id, functionName: 'f', getRemainingTimeInMillis: () => 1000 });
  const main = middy(async (event: { id: string }) => (event.id === 'A' ? (await aHold.wait, 'A') : 'B'), plugin)
    .use(toMiddy(watcher))
    .use(holdB);
  const b = main({ id: 'B' }, frozen('B') as never);
  await bReachedAfter;
  const a = main({ id: 'A' }, frozen('A') as never);
  await expect(a).resolves.toEqual({ statusCode: 504 });
  await expect(b).resolves.toBe('B');
  aHold.open();
  expect(seen.sort()).toEqual(['after:A:DEADLINE_EXCEEDED', 'after:B:B']);
});
