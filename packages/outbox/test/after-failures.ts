/**
 * Shared by the tests of a plugin failing after the function returned (s53-fxr, s54-fxo): the
 * event declarations they stage, a plugin whose `after` fails on demand, and an `onError` fallback.
 */
import { SteadyError, type Plugin } from '@steadyfn/handler';
import { z } from 'zod';

export const paidEvents = { OrderPaid: { aggregateType: 'order', schema: z.object({ amountCents: z.number() }) } };
export const shipped = { OrderShipped: { aggregateType: 'order', schema: z.object({}) } };
export const codeOf = (e: unknown): unknown => (e as { code?: unknown }).code;

/** An inner `onError` that recovers every failure with `{ fallback: true }`. */
export const fallback: Plugin = { name: 'fallback', onError: () => ({ answer: { fallback: true } }) };

/** A plugin whose `after` throws a retryable 503 while `down`. */
export function audit(): Plugin & { down: boolean } {
  const plugin = {
    name: 'audit',
    down: true,
    after() {
      if (plugin.down) throw new SteadyError('AUDIT_FAILED', 'audit log unavailable', { status: 503, retryable: true });
      return undefined;
    },
  };
  return plugin;
}
