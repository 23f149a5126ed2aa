/**
 * Work an invocation leaves running at its deadline must never see a later invocation as its
 * own (`currentContext()`, what the connection and outbox plugins use). The core switched to
 * AsyncLocalStorage when the invocation's *final* outcome was `DEADLINE_EXCEEDED`; an `onError`
 * that recovered from it (`{ answer }`: a fallback) or replaced it with its own error left the
 * cut-off function running while the next invocation ran alone — and that function then found
 * the next invocation's ctx (its connections, its outbox) as its own.
 */
import { readFileSync } from 'node:fs';
import middy from '@middy/core';
import { describe, expect, it, vi } from 'vitest';
import type { Plugin } from '../src/index.js';

// Tracking is per process (module state, kept on globalThis for the ESM and CJS builds to
// share): each test starts from none and loads the handler afresh.
async function freshHandler(): Promise<typeof import('../src/index.js')> {
  delete (globalThis as Record<symbol, unknown>)[Symbol.for('steadyfn.invocationTracking.v1')];
  vi.resetModules();
  return import('../src/index.js');
}

const silent = (): void => undefined;

async function lateWorkAfter(onError: Plugin['onError'], expected: { resolves: unknown } | { code: string }): Promise<string | undefined> {
  const { handler, currentContext } = await freshHandler();
  let late: Promise<string | undefined> | undefined;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const slow = handler({ logSink: silent, deadlineMarginMs: 0, use: [{ name: 'fallback', onError }] }, async () => {
    // Cut off at the deadline, this work goes on and reads its context once the next invocation runs.
    late = gate.then(() => currentContext()?.requestId);
    await late;
  });
  // 300 ms: time enough for the function to start on a slow machine (it must, or nothing is proven).
  const answer = slow.invoke(null, { requestId: 'slow', deadline: Date.now() + 300 });
  if ('resolves' in expected) await expect(answer).resolves.toEqual(expected.resolves);
  else await expect(answer).rejects.toMatchObject({ code: expected.code });
  expect(late, 'the cut-off function started').toBeDefined();
  const quick = handler({ logSink: silent }, async () => {
    release();
    await late;
    return currentContext()?.requestId;
  });
  await expect(quick.invoke(null, { requestId: 'next' })).resolves.toBe('next');
  return late;
}

describe('an onError that handles DEADLINE_EXCEEDED', () => {
  it('recovering with a fallback answer: the cut-off work does not see the next invocation as its own', async () => {
    const seen = await lateWorkAfter((_ctx, error) => (error.code === 'DEADLINE_EXCEEDED' ? { answer: 'fallback' } : undefined), { resolves: 'fallback' });
    expect(seen).not.toBe('next');
  });

  it('replacing it with its own error: the same', async () => {
    const seen = await lateWorkAfter(
      () => {
        throw Object.assign(new Error('upstream too slow'), { code: 'UPSTREAM_SLOW' });
      },
      { code: 'INTERNAL' },
    );
    expect(seen).not.toBe('next');
  });

  it('an invocation that did not hit its deadline leaves the next one untracked by AsyncLocalStorage', async () => {
    const { handler, currentContext } = await freshHandler();
    const { AsyncLocalStorage } = await import('node:async_hooks');
    const run = vi.spyOn(AsyncLocalStorage.prototype, 'run');
    const main = handler({ logSink: silent, use: [{ name: 'fallback', onError: () => ({ answer: 'fallback' }) }] }, async () => {
      throw new Error('boom');
    });
    await expect(main.invoke(null, { requestId: 'a', deadline: Date.now() + 60_000 })).resolves.toBe('fallback');
    const probe = handler({ logSink: silent }, async () => currentContext()?.requestId);
    await expect(probe.invoke(null, { requestId: 'b' })).resolves.toBe('b');
    expect(run).not.toHaveBeenCalled();
    run.mockRestore();
  });

  it('under middy (toMiddy + steadyHandler), recovering: the same', async () => {
    const { handler, currentContext } = await freshHandler();
    const { steadyHandler, toMiddy } = await import('../src/middy.js');
    let late: Promise<string | undefined> | undefined;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fallback: Plugin = { name: 'fallback', onError: (_ctx, error) => (error.code === 'DEADLINE_EXCEEDED' ? { answer: { statusCode: 200, body: 'fallback' } } : undefined) };
    const slow = middy(
      steadyHandler(async () => {
        late = gate.then(() => currentContext()?.requestId);
        await late;
        return { statusCode: 200, body: 'fresh' };
      }),
    ).use(toMiddy(fallback, { logSink: silent, deadlineMarginMs: 40 }));
    const event = { ...(JSON.parse(readFileSync(new URL('./fixtures/aws/apigw-v2-post.json', import.meta.url), 'utf8')) as object), isBase64Encoded: false, body: '{}' };
    const context = { awsRequestId: 'slow', functionName: 'f', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:f', memoryLimitInMB: '128', logGroupName: 'g', logStreamName: 's', getRemainingTimeInMillis: () => 340, callbackWaitsForEmptyEventLoop: true };
    await expect(slow(event, context as never)).resolves.toMatchObject({ statusCode: 200, body: 'fallback' });
    expect(late, 'the cut-off function started').toBeDefined();
    const quick = handler({ logSink: silent }, async () => {
      release();
      await late;
      return currentContext()?.requestId;
    });
    await expect(quick.invoke(null, { requestId: 'next' })).resolves.toBe('next');
    expect(await late).not.toBe('next');
  });
});
