/**
 * Apache OpenWhisk: what every kind of activation shares — the action result a value becomes
 * (a JSON object; anything else as `{ result }`), its size check (`ActionResult`), the
 * activation's transaction id stamped on the trigger (`stamped`), and the adapter's own log
 * lines (`adapterLog`). The activation entry is providers/openwhisk.ts.
 */
import { SteadyError, loggedIssues, toErrorSummary, type LoggedIssue } from '../errors.js';
import type { Rec } from '../internal/record.js';
import { adapterLogger, type Definition, type Frame, type Invocation, type ResultAnswer } from '../invoke.js';
import type { Logger } from '../logger.js';
import { checkJsonSize, type ResponseTooLargeError } from '../response.js';
import type { Trigger } from '../types.js';
import { resultLimit } from './openwhisk-web.js';

function notJsonError(): SteadyError {
  return new SteadyError('RESULT_NOT_JSON', 'The function result cannot be serialised as JSON', { status: 500, retryable: false, expose: true });
}

/**
 * Action results must be JSON objects: anything else is wrapped as `{ result }`. So is an
 * object with an `error` field: the invoker records any result with one as an application
 * error (`ActivationResponse`), keeps only that field and stops a sequence there.
 */
function toActionResult(value: unknown, text: string | undefined | null = jsonText(value)): Rec {
  if (value === undefined || text === undefined) return {};
  if (text === null) return { error: activationError(notJsonError()) };
  if (!text.startsWith('{')) return { result: JSON.parse(text) as unknown };
  // The text only has to be parsed when it may carry the field (at any depth, cheap to test).
  if (!text.includes('"error"')) return value as Rec;
  const sent = JSON.parse(text) as Rec;
  return Object.hasOwn(sent, 'error') ? { result: sent } : (value as Rec);
}

/**
 * The `error` of a failed activation's result: code, public message and `retryable`, and for
 * a validation failure `errors` as `{ field, expected }` (`loggedIssues`). OpenWhisk stores
 * the result in the activation record (`wsk activation get`, `wsk activation result`), for a
 * trigger's activations too, which no caller reads: an issue's message, which a refinement may
 * write the input into, is left out. A web action's caller gets problem details instead.
 */
export function activationError(error: SteadyError): { code: string; message: string; retryable: boolean; errors?: LoggedIssue[] } {
  const { errors, ...summary } = toErrorSummary(error);
  return errors === undefined ? summary : { ...summary, errors: loggedIssues(errors) };
}

/** The JSON text of a result; `null` when JSON cannot encode it (a BigInt, a cycle). */
function jsonText(value: unknown): string | undefined | null {
  if (value === undefined) return undefined;
  try {
    return JSON.stringify(value);
  } catch {
    return null;
  }
}

/**
 * The size check of one activation's result (plain activations, alarm ticks, changes): the
 * JSON the runtime answers the invoker with. Without plugins nothing runs between the check
 * and the answer, so `result()` reuses the text the check made (a result is serialised once,
 * as before the check); a plugin's `after` or `finally` may still change the object, so with
 * plugins it is serialised again.
 */
export class ActionResult implements ResultAnswer {
  #value: unknown;
  #text: string | undefined | null = undefined;
  readonly #limit: number;
  readonly #reuse: boolean;
  constructor(def: Definition) {
    this.#limit = resultLimit(def);
    this.#reuse = def.use.length === 0;
  }

  tooLarge(value: unknown): ResponseTooLargeError | undefined {
    const text = jsonText(value);
    this.#value = value;
    this.#text = text;
    // `{"result":…}` adds 11 bytes; 3 bytes per UTF-16 unit at most.
    if (typeof text !== 'string' || (text.length + 11) * 3 <= this.#limit) return undefined;
    const sent = toActionResult(value, text);
    return checkJsonSize(sent === value ? text : JSON.stringify(sent), this.#limit);
  }

  /** The action result for the outcome's value. */
  result(value: unknown): Rec {
    return toActionResult(value, this.#reuse && value === this.#value ? this.#text : jsonText(value));
  }
}

/**
 * The invocation with the activation's transaction id on its trigger (`ctx.trigger.transactionId`).
 * The id is `__OW_TRANSACTION_ID`, which the runtime sets per activation from the invoker's
 * `/run` request (`transaction_id`), the id the controller and invoker log the activation under.
 */
export function stamped(inv: Invocation, frame: Frame): Invocation {
  const transactionId = frame.logFields?.transactionId;
  // Every trigger kind OpenWhisk makes (http, stream, change, schedule, direct) has the field.
  if (transactionId === undefined) return inv;
  // A spread copies enumerable fields only: the message's `rawBody` (not enumerable) is carried over.
  const trigger = Object.defineProperties({ ...inv.trigger, transactionId }, rawBodyDescriptor(inv.trigger)) as Trigger;
  return { ...inv, trigger };
}

/** The trigger's `rawBody` property (a lazy, non-enumerable getter), as a descriptor map; empty without one. */
function rawBodyDescriptor(trigger: Trigger): PropertyDescriptorMap {
  const descriptor = Object.getOwnPropertyDescriptor(trigger, 'rawBody');
  return descriptor === undefined ? {} : { rawBody: descriptor };
}

/** The adapter's own log lines about an activation, with its transaction id as the invocations' lines have it. */
export function adapterLog(def: Definition, frame: Frame, activationId: string): Logger {
  const log = adapterLogger(def, frame, activationId);
  return frame.logFields === undefined ? log : log.child(frame.logFields);
}
