/**
 * Direct invocation: a plain call `main(input)` from tests, scripts or another function.
 * The input is the argument itself; a failure is thrown as a public (stackless) error.
 */
import { toPublicError } from '../errors.js';
import { adapterLogger, runInvocation, type Definition, type Frame } from '../invoke.js';
import { takeColdStart } from '../context.js';
import { randomUUID } from '../internal/crypto.js';
import { invalidOption } from '../internal/options.js';
import type { Trigger, TriggerKind } from '../types.js';
import { noteAssumedDirect } from './assumed-direct.js';

/** Options of `main.invoke(input, options)`: the identity and deadline a provider would give. */
export interface DirectOptions {
  /** `ctx.requestId`. @default a random UUID */
  requestId?: string;
  /** `ctx.deliveryId` (what idempotency keys a message by). @default undefined */
  deliveryId?: string;
  /** Epoch ms; defaults to no deadline. */
  deadline?: number;
  /**
   * `ctx.trigger`, for testing with a plain call a function written for one trigger (its
   * `input` a schema of `@steadyfn/handler/schemas`, which refuses a plain `direct` call).
   * @default { kind: 'direct', source: 'direct' }
   * @example
   * await audit.invoke(order, { trigger: { kind: 'change', source: 'dynamodb-streams', collection: 'orders', op: 'insert', key: { id: 'o-1' }, sequence: '1', batchIndex: 0, batchSize: 1 } });
   */
  trigger?: Trigger;
}

const TRIGGER_KINDS: ReadonlySet<TriggerKind> = new Set(['http', 'queue', 'schedule', 'event', 'change', 'storage', 'stream', 'notification', 'authorizer', 'direct']);
/** The trigger a plain call runs as: `options.trigger` when given (checked), else `direct`. */
function triggerOf(given: unknown): Trigger {
  if (given === undefined) return { kind: 'direct', source: 'direct' };
  const kind = (given as { kind?: unknown } | null)?.kind;
  if (typeof given !== 'object' || typeof kind !== 'string' || !TRIGGER_KINDS.has(kind as TriggerKind)) {
    invalidOption('invoke', 'trigger', `a trigger object ({ kind: ${[...TRIGGER_KINDS].map((k) => `'${k}'`).join(' | ')}, source, … })`, given);
  }
  return given as Trigger;
}

/** The frame of a plain call: its cold start taken once, as the call starts. */
function directFrame(input: unknown, deadline: number | undefined): Frame {
  return { provider: 'direct', functionName: process.env.STEADYFN_FUNCTION_NAME ?? 'direct', deadline: deadline ?? Number.POSITIVE_INFINITY, raw: input, coldStart: takeColdStart() };
}

/**
 * Runs a plain call. `frame`: the call the root entry could not place (`invokeUnplaced`), which
 * took its cold start already; undefined for `main.invoke`.
 */
export async function invokeDirect(def: Definition, input: unknown, options: DirectOptions = {}, frame?: Frame): Promise<unknown> {
  const trigger = triggerOf(options.trigger);
  const outcome = await runInvocation(
    def,
    frame ?? directFrame(input, options.deadline),
    {
      trigger,
      requestId: options.requestId ?? randomUUID(),
      deliveryId: options.deliveryId,
      payload: () => input,
    },
  );
  if (outcome.ok) return outcome.value;
  // `main.invoke` rejects to the code that called it: each issue whole, as a test reads it. A
  // call the root entry could not place may come from a runtime (a Cloud Functions body), which
  // logs what it is thrown: there the issues are what a log may hold.
  throw toPublicError(outcome.error, frame === undefined ? 'full' : 'logged');
}

/**
 * A one-argument call the root entry could not place: run as `direct`, and when `shape` names
 * the provider event it looked like, logged (`warn`, `event not recognised…`) with
 * `ctx.trigger.unrecognised` set, as the adapters do for an event they have no trigger for.
 */
export function invokeUnplaced(def: Definition, input: unknown, shape: string | undefined): Promise<unknown> {
  const requestId = randomUUID();
  const frame = directFrame(input, undefined);
  if (shape === undefined) {
    // On Cloud Functions the call may be a CloudEvent function's body: said once per handler.
    noteAssumedDirect(def, frame, requestId);
    return invokeDirect(def, input, { requestId }, frame);
  }
  adapterLogger(def, frame, requestId).warn('event not recognised; running it as a direct invocation', { shape });
  return invokeDirect(def, input, { requestId, trigger: { kind: 'direct', source: 'direct', unrecognised: shape } }, frame);
}
