/** An `@azure/functions` `InvocationContext` built as the Node.js worker builds it, for trigger tests. */
import { InvocationContext, type FunctionTrigger } from '@azure/functions';

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
