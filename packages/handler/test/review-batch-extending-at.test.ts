/**
 * `extendingAt(ctx)` — the time of the deadline check made right before the synchronous
 * `extend` now running, so a plugin's idle check (`@steadyfn/connections`) reads no clock of
 * its own — was undefined in the `extend` of every message of a batch (SQS, Kinesis, Service
 * Bus, …): batches run `extend` apart from the single-invocation pipeline, which alone set it.
 */
import { describe, expect, it } from 'vitest';
import { extendingAt } from '../src/context.js';
import { runBatch } from '../src/invoke.js';
import type { Plugin } from '../src/index.js';
import { queueMessage, testDefinition, testFrame } from './support/batch.js';

describe('extendingAt in a batch', () => {
  it("is the check's time in each message's extend, undefined again in the batch hooks and the function", async () => {
    const inExtend: Array<[number | undefined, number, number]> = [];
    const elsewhere: Array<number | undefined> = [];
    const timed: Plugin<any, any> = {
      name: 'timed',
      extend: (ctx) => {
        const after = Date.now();
        inExtend.push([extendingAt(ctx), before, after]);
      },
      beforeBatch: (ctxs) => void elsewhere.push(...ctxs.map((ctx) => extendingAt(ctx))),
      afterBatch: (ctxs) => void elsewhere.push(...ctxs.map((ctx) => extendingAt(ctx))),
    };
    const def = testDefinition((_input, ctx) => void elsewhere.push(extendingAt(ctx)), [timed]);
    const before = Date.now();
    const outcomes = await runBatch(def, { ...testFrame, deadline: Date.now() + 60_000 }, [0, 1, 2].map((n) => queueMessage(n, 3)), false);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(inExtend).toHaveLength(3);
    for (const [at, from, to] of inExtend) {
      expect(at).toBeGreaterThanOrEqual(from);
      expect(at).toBeLessThanOrEqual(to);
    }
    expect(elsewhere).toEqual(new Array(9).fill(undefined));
  });
});
