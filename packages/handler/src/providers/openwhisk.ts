/**
 * Apache OpenWhisk: `main(params)`, as the action runtime calls it. Its parts beside it:
 * openwhisk-web.ts (web actions), openwhisk-kafka.ts (Kafka feed batches),
 * openwhisk-activation.ts (action results, the transaction id, the adapter's log lines).
 *
 * - Web actions (params carry `__ow_method`, `__ow_headers`, `__ow_path`, and `__ow_user`
 *   when the action requires authentication). Non-raw: the controller has merged the query
 *   and a JSON-object or form body into params; any other body arrives in `__ow_body`
 *   (a non-object JSON body as the parsed value, text as text, binary as base64). Raw
 *   (`--web raw`): `__ow_query` is the unparsed query string and `__ow_body` the body as
 *   text, or base64 when the media type is binary or exactly `application/json`.
 *   `rawBytes` are the decoded bytes where the controller sent base64, the UTF-8 of the text
 *   otherwise, and undefined for a non-raw JSON body (the controller parsed it: no bytes left).
 *   Read, and their results rendered, in openwhisk-web.ts.
 * - Kafka/Message Hub feed batches: `{ messages: [{ topic, partition, offset, key, value }] }`.
 *   `ctx.trigger.rawBody` is the value as the feed sent it: its text, or with `isBinaryValue`
 *   bound as a parameter the bytes its base64 carries. With `isJSONData` the feed sends the
 *   parsed value and the runtime parses the activation before the action runs, so there is
 *   no raw body (a value that was not JSON arrives as the text in quotes and is kept as that).
 * - Alarm ticks: the alarms feed passes only `trigger_payload`, with no marker, fire time or
 *   tick id, so a tick is recognised only by the opt-in parameter `__steadyfn_schedule`.
 * - Anything else is a plain activation whose params are the input.
 *
 * Activation identity and clock come from `__OW_ACTIVATION_ID`, `__OW_TRANSACTION_ID` and
 * `__OW_DEADLINE` (epoch ms), read at entry: with `__OW_ALLOW_CONCURRENT` the runtime rewrites them for the next
 * activation while this one runs. A web action's deadline is at most `openwhiskWebTimeoutMs`
 * (default 60 s, the controller's wait for its result) from entry.
 *
 * The returned promise never rejects: a rejection becomes `{ error }` carrying the stack, and
 * a synchronous throw makes the runtime discard the container with every warm connection in
 * it. Failures are returned as `{ error }` (an application error in the activation record),
 * a validation failure's issues as `{ field, expected }` (`activationError`).
 */
import { randomUUID } from '../internal/crypto.js';
import { MalformedEventError, SteadyError } from '../errors.js';
import { isRecord as isRec, setOwn, str, type Rec } from '../internal/record.js';
import { reportsFailure, runHttpInvocation, runInvocation, type Definition, type Frame, type Invocation } from '../invoke.js';
import { takeColdStart } from '../context.js';
import type { Logger } from '../logger.js';
import { renderError } from '../response.js';
import { couchDbItem, isCouchDbChange } from '../events/couchdb.js';
import { OPENWHISK_WEB_TIMEOUT_MS } from '../internal/limits.js';
import { openwhiskPrincipal } from '../principal.js';
import type { Trigger } from '../types.js';
import { ActionResult, activationError, adapterLog, stamped } from './openwhisk-activation.js';
import { isKafkaBatch, runKafka } from './openwhisk-kafka.js';
import { webInvocation, webResult } from './openwhisk-web.js';

export { isOpenWhiskStatus, toOpenWhiskWebResult, type OpenWhiskWebResult } from './openwhisk-web.js';

/** The parameter that marks an activation as an alarm tick (set it in `trigger_payload` or on the trigger). */
export const OPENWHISK_SCHEDULE_PARAM = '__steadyfn_schedule';

// ---------------------------------------------------------------------------------------------
// CouchDB / Cloudant changes feed

async function runChange(def: Definition, frame: Frame, params: Rec, activationId: string): Promise<Rec> {
  const answer = new ActionResult(def);
  let invocation: Invocation;
  try {
    invocation = stamped({ ...couchDbItem(params), requestId: activationId, result: answer }, frame);
  } catch (thrown) {
    const error = thrown instanceof SteadyError ? thrown : new MalformedEventError('Could not read the change');
    adapterLog(def, frame, activationId).warn('invocation rejected', { trigger: 'change', code: error.code });
    return { error: activationError(error) };
  }
  const outcome = await runInvocation(def, frame, invocation);
  if (outcome.ok) return answer.result(outcome.value);
  // The feed does not redeliver: an acknowledged terminal failure is a success, anything else is recorded.
  if (!reportsFailure(def, outcome)) return {};
  return { error: activationError(outcome.error) };
}

// ---------------------------------------------------------------------------------------------
// Alarm ticks and plain activations

function scheduleMark(params: Rec): { schedule: string | undefined } | undefined {
  if (!Object.hasOwn(params, OPENWHISK_SCHEDULE_PARAM)) return undefined;
  const mark = params[OPENWHISK_SCHEDULE_PARAM];
  if (typeof mark === 'string' && mark !== '') return { schedule: mark };
  if (mark === true) return { schedule: undefined };
  return undefined;
}

function withoutScheduleMark(params: Rec): Rec {
  const out: Rec = {};
  for (const [k, v] of Object.entries(params)) if (k !== OPENWHISK_SCHEDULE_PARAM) setOwn(out, k, v);
  return out;
}

/**
 * For the log line of params that run as `direct`: the feed shape they nearly had. Only the
 * Cloudant change is named (its `dbname`, `id` and `seq` are the feed's own); a `messages` list
 * is a common params name, and one with a Kafka message in it is a Kafka batch.
 */
function unrecognisedShape(params: Rec): string | undefined {
  if (typeof params.dbname === 'string' && typeof params.id === 'string' && 'seq' in params && 'changes' in params) return 'Cloudant change without changes[].rev';
  return undefined;
}

async function runActivation(def: Definition, frame: Frame, params: Rec, activationId: string): Promise<Rec> {
  const answer = new ActionResult(def);
  const mark = scheduleMark(params);
  const shape = mark ? undefined : unrecognisedShape(params);
  if (shape) adapterLog(def, frame, activationId).warn('event not recognised; running it as a direct invocation', { shape });
  const trigger: Trigger = mark
    ? { kind: 'schedule', source: 'ow-alarm', ...(mark.schedule === undefined ? {} : { schedule: mark.schedule }) }
    : { kind: 'direct', source: 'openwhisk', ...(shape ? { unrecognised: shape } : {}) };
  const outcome = await runInvocation(def, frame, stamped({
    trigger,
    requestId: activationId,
    // Alarms carry no tick identity and OpenWhisk never redelivers an activation.
    deliveryId: undefined,
    payload: () => (mark ? withoutScheduleMark(params) : params),
    result: answer,
    // A trigger or caller may pass its trace context as parameters (OpenWhisk has no headers here).
    trace: { traceparent: params.traceparent, tracestate: params.tracestate },
  }, frame));
  if (outcome.ok) return answer.result(outcome.value);
  // A tick is a delivery: `terminalErrors: 'ack'` applies. A direct caller always learns of the failure.
  if (mark && !reportsFailure(def, outcome)) return {};
  return { error: activationError(outcome.error) };
}

/**
 * Whether another namespace than the action's invoked this activation: `__OW_NAMESPACE` is the
 * activation's (the invoking subject's) namespace, `__OW_ACTION_NAME` the action's
 * `/<namespace>/[<package>/]<action>` (OpenWhisk docs, "Accessing action metadata within the
 * action body"). A web action runs as its owner; any namespace may invoke an action of a shared
 * package with params of its choosing — `__ow_user` included — so those params name nobody.
 * Unknown (either variable missing) counts as the owner, as before.
 */
function invokedByAnotherNamespace(env: Record<string, string | undefined>): boolean {
  const activation = env.__OW_NAMESPACE;
  const owner = env.__OW_ACTION_NAME?.split('/')[1];
  return !!activation && !!owner && activation !== owner;
}

/**
 * An activation's deadline: `__OW_DEADLINE` (epoch ms; none, `Infinity`, when absent or not a
 * positive number). A web action's is at most `openwhiskWebTimeoutMs` (default 60 s) from now:
 * the controller waits that long (`maxWaitForBlockingActivation`, apache/openwhisk
 * `WebActions.scala`) and then answers the client `202` "Response not yet ready." — a 2xx, the
 * function's answer lost — whatever the action's own timeout, so the function must stop before.
 */
function activationDeadline(def: Definition, raw: string | undefined, web: boolean): number {
  const deadlineMs = Number(raw);
  const deadline = Number.isFinite(deadlineMs) && deadlineMs > 0 ? deadlineMs : Number.POSITIVE_INFINITY;
  return web ? Math.min(deadline, Date.now() + (def.openwhiskWebTimeoutMs ?? OPENWHISK_WEB_TIMEOUT_MS)) : deadline;
}

export async function invokeOpenWhisk(def: Definition, given: unknown, env: Record<string, string | undefined> = process.env): Promise<Rec> {
  // No parameters: the runtime's service.js turns a null or absent `value` into `{}` (earlier
  // versions passed it on as it came, so `main(undefined)`); either way it is an empty dictionary.
  const params = given === undefined || given === null ? {} : given;
  // Synchronously, before any await: concurrent activations rewrite these variables.
  const activationId = env.__OW_ACTIVATION_ID || randomUUID();
  const transactionId = env.__OW_TRANSACTION_ID || undefined;
  const web = isRec(params) && typeof params.__ow_method === 'string';
  const frame: Frame = {
    provider: 'openwhisk',
    principal: openwhiskPrincipal,
    functionName: env.__OW_ACTION_NAME || 'action',
    deadline: activationDeadline(def, env.__OW_DEADLINE, web),
    raw: params,
    requestId: activationId,
    // Taken once per activation: the adapter's lines, the invocation and a Kafka batch share it.
    coldStart: takeColdStart(),
  };
  if (invokedByAnotherNamespace(env)) frame.callerSetIdentity = true;
  if (transactionId !== undefined) frame.logFields = { transactionId };
  const method = isRec(params) ? str(params.__ow_method) : undefined;
  const log = (): Logger => adapterLog(def, frame, activationId);
  try {
    if (!isRec(params)) {
      return { error: activationError(new MalformedEventError('Activation parameters are not an object', [{ field: '', message: 'Not an object', expected: 'object' }])) };
    }
    if (web) {
      let invocation: Invocation;
      try {
        invocation = stamped(webInvocation(params, activationId, def), frame);
      } catch (thrown) {
        // A body the request cannot be read from (junk in base64, JSON too deep): a 400 like the other providers.
        if (thrown instanceof MalformedEventError) return webResult(renderError(thrown), log(), method);
        throw thrown;
      }
      return webResult(await runHttpInvocation(def, frame, invocation), log(), method);
    }
    if (isKafkaBatch(params)) return await runKafka(def, frame, params, activationId);
    if (isCouchDbChange(params)) return await runChange(def, frame, params, activationId);
    return await runActivation(def, frame, params, activationId);
  } catch (thrown) {
    // Only a defect in this adapter gets here; the runtime must still receive a result.
    const error = new SteadyError('INTERNAL', 'Internal error', { status: 500, retryable: true, expose: false, cause: thrown });
    log().error('openwhisk adapter failed', { code: error.code });
    return web ? webResult(renderError(error), log(), method) : { error: activationError(error) };
  }
}
