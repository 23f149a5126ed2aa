/** A Definition, a frame and queue-message invocations for tests that drive `runBatch` directly. */
import { planPlugins, type Definition, type Frame, type Invocation } from '../../src/invoke.js';
import { createLogger } from '../../src/logger.js';
import type { Plugin } from '../../src/types.js';

export function testDefinition(fn: Definition['fn'], use: Plugin<any, any>[] = [], terminalErrors: 'fail' | 'ack' = 'fail'): Definition {
  return {
    input: undefined,
    use,
    fn,
    deadlineMarginMs: 0,
    logger: createLogger({}, () => undefined),
    terminalErrors,
    timeoutMs: 1000,
    name: undefined,
    body: 'auto',
    ...planPlugins(use),
  };
}

export const testFrame: Frame = { provider: 'direct', functionName: 't', deadline: Number.POSITIVE_INFINITY, raw: null };

/** Message `n` of a batch of `size`: its payload is `n`. */
export function queueMessage(n: number, size = 4): Invocation {
  return {
    trigger: { kind: 'queue', source: 'test', messageId: `m${n}`, attributes: {}, batchIndex: n, batchSize: size },
    requestId: `r${n}`,
    deliveryId: `m${n}`,
    payload: () => n,
  };
}
