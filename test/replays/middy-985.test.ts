/**
 * middyjs/middy#985 ("Abort the handler timeout when the handler succeeds or fail")
 * https://github.com/middyjs/middy/pull/985
 *
 * middy raced the handler against a timer set `timeoutEarlyInMillis` before Lambda's deadline,
 * but did not clear the timer when the handler settled: the timeout handler also ran after a
 * success or a failure, with its side effects (the report: a "timed out" log line for an
 * invocation that had answered).
 *
 * steadyfn's deadline watch ends with the invocation. Replayed: functions that succeed and fail
 * well before a short deadline; once the deadline has passed, nothing was logged about it and
 * the invocation's `ctx.signal` was never aborted (work the function left running, told to stop
 * by that signal, would otherwise be cut off after a successful answer).
 */
import { handler, TerminalError } from '../../packages/handler/src/index.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eventually } from '../support/wait.js';
import { lambdaContext, logLines } from './support.js';

describe('middy#985: nothing of the deadline outlives an invocation that answered', () => {
  it.each([
    ['succeeds', false],
    ['fails', true],
  ] as const)('a function that %s early: no deadline log, signal never aborted after the answer', async (_label, fail) => {
    const logs = logLines();
    const signals: AbortSignal[] = [];
    const main = handler({ logSink: logs.sink, logLevel: 'debug', deadlineMarginMs: 100, input: z.object({ n: z.number() }) }, (input, ctx) => {
      signals.push(ctx.signal);
      if (fail) throw new TerminalError('REFUSED', 'refused');
      return { n: input.n };
    });
    // Time enough for the function to start under load; the check waits for the deadline to pass.
    const context = lambdaContext(1_000);
    const deadline = Date.now() + 1_000;
    const answer = await main.aws({ n: 1 }, context).then(
      (v) => v,
      (e: unknown) => e,
    );
    if (fail) expect(answer).toMatchObject({ code: 'REFUSED' });
    else expect(answer).toEqual({ n: 1 });
    await eventually(() => Date.now() > deadline + 50, 5_000);
    expect(signals).toHaveLength(1);
    expect(signals[0]!.aborted).toBe(false);
    expect(logs.lines.filter((l) => /deadline|timeout|timed out/i.test(JSON.stringify(l)))).toEqual([]);
  });
});
