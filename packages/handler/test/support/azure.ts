/**
 * An `@azure/functions` `InvocationContext` (test mode) built as the worker builds it for a
 * trigger: identity, the trigger's options from the library's `trigger.*` builders, and a copy
 * of the fixture's trigger metadata.
 */
import { InvocationContext, type FunctionTrigger } from '@azure/functions';

export function invocationContext(base: Record<string, any>, options: FunctionTrigger): InvocationContext {
  return new InvocationContext({
    invocationId: base.invocationId,
    functionName: base.functionName,
    options: { trigger: { ...options, direction: 'in' } as FunctionTrigger },
    triggerMetadata: structuredClone(base.triggerMetadata),
    logHandler: () => undefined,
  });
}
