/** An `@azure/functions` `InvocationContext` built as the Node.js worker builds it, for trigger tests. */
import { InvocationContext, type FunctionTrigger } from '@azure/functions';
import { expect } from 'vitest';
import { handler, type Context } from '../../src/index.js';
import { handler as azureHandler } from '../../src/azure.js';
import { recorder } from './published.js';

/** `base` holds `invocationId`, `functionName` and `triggerMetadata` (keys as the worker hands them over); `options` comes from the library's `trigger.*` builders. */
export function invocationContext(base: Record<string, any>, options: FunctionTrigger): InvocationContext {
  return new InvocationContext({
    invocationId: base.invocationId,
    functionName: base.functionName,
    options: { trigger: { ...options, direction: 'in' } as FunctionTrigger },
    triggerMetadata: structuredClone(base.triggerMetadata),
    logHandler: () => undefined,
  });
}

/**
 * Runs `input` with an `InvocationContext` of `context` + `options` through the root entry and
 * `@steadyfn/handler/azure`; both must agree (outcome, input, trigger, delivery id). Returns the
 * root entry's run.
 */
export async function azureBoth(input: unknown, context: Record<string, any>, options: FunctionTrigger, result: (input: unknown, ctx: Context) => unknown = () => undefined) {
  const runs: Array<{ seen: ReturnType<typeof recorder>['seen']; outcome: unknown }> = [];
  for (const entry of ['root', 'azure'] as const) {
    const { seen, fn } = recorder(result);
    const main = entry === 'root' ? handler({ logSink: () => undefined }, fn) : azureHandler({ logSink: () => undefined }, fn);
    const outcome = await Promise.resolve(main(structuredClone(input), invocationContext(context, options))).then(
      (value) => ({ value }),
      (error: unknown) => ({ error: (error as { code?: string }).code }),
    );
    runs.push({ seen, outcome });
  }
  expect(runs[1]!.outcome).toEqual(runs[0]!.outcome);
  expect(runs[1]!.seen.map((s) => [s.input, s.ctx.trigger, s.ctx.deliveryId])).toEqual(runs[0]!.seen.map((s) => [s.input, s.ctx.trigger, s.ctx.deliveryId]));
  return runs[0]!;
}
