/**
 * Direct invocation: a plain call `main(input)` from tests, scripts or another function.
 * The input is the argument itself; a failure is thrown as a public (stackless) error.
 */
import { toPublicError } from '../errors.js';
import { runInvocation, type Definition } from '../invoke.js';
import { randomUUID } from '../internal/crypto.js';

/** Options of `main.invoke(input, options)`: the identity and deadline a provider would give. */
export interface DirectOptions {
  /** `ctx.requestId`. @default a random UUID */
  requestId?: string;
  /** `ctx.deliveryId` (what idempotency keys a message by). @default undefined */
  deliveryId?: string;
  /** Epoch ms; defaults to no deadline. */
  deadline?: number;
}

export async function invokeDirect(def: Definition, input: unknown, options: DirectOptions = {}): Promise<unknown> {
  const outcome = await runInvocation(
    def,
    { provider: 'direct', functionName: process.env.STEADYFN_FUNCTION_NAME ?? 'direct', deadline: options.deadline ?? Number.POSITIVE_INFINITY, raw: input },
    {
      trigger: { kind: 'direct', source: 'direct' },
      requestId: options.requestId ?? randomUUID(),
      deliveryId: options.deliveryId,
      payload: () => input,
    },
  );
  if (outcome.ok) return outcome.value;
  throw toPublicError(outcome.error);
}
