import { AsyncLocalStorage } from 'node:async_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';

// Tracking is per process (module state): each test loads the handler afresh.
async function freshHandler(): Promise<typeof import('./index.js')> {
  vi.resetModules();
  return import('./index.js');
}

const silent = (): void => undefined;
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('currentContext() tracking', () => {
  it('invocations one after another are found without AsyncLocalStorage', async () => {
    const run = vi.spyOn(AsyncLocalStorage.prototype, 'run');
    const { handler, currentContext } = await freshHandler();
    const main = handler({ logSink: silent }, async () => {
      const before = currentContext()?.requestId;
      await tick(1);
      return [before, currentContext()?.requestId];
    });
    for (const id of ['a', 'b', 'c']) expect(await main.invoke(null, { requestId: id })).toEqual([id, id]);
    expect(currentContext()).toBeUndefined();
    expect(run).not.toHaveBeenCalled();
  });

  it('overlapping invocations switch to AsyncLocalStorage; the one that ran alone still finds itself', async () => {
    const { handler, currentContext } = await freshHandler();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const main = handler({ logSink: silent }, async (input: unknown) => {
      if (input === 'first') await gate;
      await tick(1);
      return currentContext()?.requestId;
    });
    const first = main.invoke('first', { requestId: 'first' });
    await tick(5);
    const others = await Promise.all(['x', 'y', 'z'].map((id) => main.invoke(id, { requestId: id })));
    release();
    expect(await first).toBe('first');
    expect(others).toEqual(['x', 'y', 'z']);
    // Later invocations, alone or not, are tracked by AsyncLocalStorage and find themselves.
    expect(await main.invoke('later', { requestId: 'later' })).toBe('later');
    expect(currentContext()).toBeUndefined();
  });

  it('work an invocation leaves running at its deadline never sees a later invocation as its own', async () => {
    const { handler, currentContext } = await freshHandler();
    let late: Promise<string | undefined> | undefined;
    const slow = handler({ logSink: silent, deadlineMarginMs: 0 }, async () => {
      late = tick(150).then(() => currentContext()?.requestId);
      await late;
    });
    const quick = handler({ logSink: silent }, async () => {
      await tick(200);
      return currentContext()?.requestId;
    });
    await expect(slow.invoke(null, { requestId: 'slow', deadline: Date.now() + 50 })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    const next = quick.invoke(null, { requestId: 'next' });
    // The slow invocation's work reads its context while the next one runs.
    expect(await late).not.toBe('next');
    expect(await next).toBe('next');
  });

  it('a batch runs its messages side by side, each with its own ctx', async () => {
    const { handler, currentContext } = await freshHandler();
    const seen: Array<[string, string | undefined]> = [];
    const main = handler({ logSink: silent }, async (_input: unknown, ctx) => {
      await tick(Math.random() * 10);
      seen.push([ctx.deliveryId!, currentContext()?.deliveryId]);
    });
    const record = (i: number) => ({
      messageId: `m-${i}`,
      receiptHandle: 'h',
      body: '{}',
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 's', ApproximateFirstReceiveTimestamp: '0' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:q',
      awsRegion: 'us-east-1',
    });
    await main.aws({ Records: [0, 1, 2, 3].map(record) }, { awsRequestId: 'batch', functionName: 'f', getRemainingTimeInMillis: () => 10_000 });
    expect(seen).toHaveLength(4);
    for (const [own, found] of seen) expect(found).toBe(own);
  });
});
