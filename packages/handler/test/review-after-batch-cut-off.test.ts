/**
 * A cleanup hook cut off at the cleanup bound goes on running after the invocation answered;
 * `onError` and `finally` then switch `currentContext()` to AsyncLocalStorage so that work
 * never finds a later invocation as its own. An `afterBatch` cut off did not: on a batch of
 * one (invocations tracked without AsyncLocalStorage until then), its late work — a store
 * call settling the batch — found the next invocation's ctx (its deadline, its connections).
 */
import { describe, expect, it, vi } from 'vitest';
import type { Plugin } from '../src/index.js';
import { sqsRecord } from './support/sqs.js';

// Tracking is per process (kept on globalThis): each test starts from none, with the handler loaded afresh.
async function freshHandler(): Promise<typeof import('../src/index.js')> {
  delete (globalThis as Record<symbol, unknown>)[Symbol.for('steadyfn.invocationTracking.v1')];
  vi.resetModules();
  return import('../src/index.js');
}

describe('an afterBatch cut off at the cleanup bound', () => {
  it('its late work does not see the next invocation as its own; the cut is logged', async () => {
    const { handler, currentContext } = await freshHandler();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let late: Promise<string | undefined> | undefined;
    const lines: string[] = [];
    const settle: Plugin = {
      name: 'settle',
      afterBatch: () => {
        late = gate.then(() => currentContext()?.requestId);
        return late.then(() => undefined);
      },
    };
    const main = handler({ use: [settle], deadlineMarginMs: 200, logLevel: 'warn', logSink: (l) => lines.push(l) }, () => undefined);
    // Answer bound 100 ms from now, cleanup bound 200 ms: the hook waits for the gate, so it is cut off.
    const answer = await main.aws({ Records: [sqsRecord('m1', {})] }, { awsRequestId: 'batch', functionName: 'f', getRemainingTimeInMillis: () => 300 });
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toContainEqual(expect.objectContaining({ msg: 'plugin afterBatch hook failed', plugin: 'settle', code: 'PLUGIN_HOOK_TIMEOUT' }));
    const next = handler({ logSink: () => undefined }, async () => {
      release();
      await late;
      return currentContext()?.requestId;
    });
    await expect(next.invoke(null, { requestId: 'next' })).resolves.toBe('next');
    expect(await late).not.toBe('next');
  });
});
