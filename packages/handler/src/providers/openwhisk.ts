/**
 * Apache OpenWhisk: `main(params)`, as the action runtime calls it.
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
 * it. Failures are returned as `{ error }` (an application error in the activation record).
 */
import { randomUUID } from '../internal/crypto.js';
import { MalformedEventError, SteadyError, toErrorSummary } from '../errors.js';
import { isRecord as isRec, setOwn, str, type Rec } from '../internal/record.js';
import { adapterLogger, reportsFailure, runBatch, runHttpInvocation, runInvocation, type Definition, type Frame, type Invocation, type ResultAnswer } from '../invoke.js';
import type { Logger } from '../logger.js';
import { checkJsonSize, renderError, type ResponseTooLargeError } from '../response.js';
import { anyPayload, bytesPayload } from '../message.js';
import { couchDbItem, isCouchDbChange } from '../events/couchdb.js';
import { rawBase64, withRawBody } from '../events/item.js';
import { decodeBase64Strict } from '../internal/base64.js';
import { OPENWHISK_WEB_TIMEOUT_MS } from '../internal/limits.js';
import { openwhiskPrincipal } from '../principal.js';
import type { Trigger } from '../types.js';
import { resultLimit, webInvocation, webResult } from './openwhisk-web.js';

export { isOpenWhiskStatus, toOpenWhiskWebResult, type OpenWhiskWebResult } from './openwhisk-web.js';

/** The parameter that marks an activation as an alarm tick (set it in `trigger_payload` or on the trigger). */
export const OPENWHISK_SCHEDULE_PARAM = '__steadyfn_schedule';

function notJsonError(): SteadyError {
  return new SteadyError('RESULT_NOT_JSON', 'The function result cannot be serialised as JSON', { status: 500, retryable: false, expose: true });
}

// ---------------------------------------------------------------------------------------------
// Kafka / Message Hub feed

const isKafkaMessage = (m: unknown): boolean => isRec(m) && Object.hasOwn(m, 'topic') && Object.hasOwn(m, 'partition') && Object.hasOwn(m, 'offset');

/**
 * One feed message makes it a Kafka batch: a damaged message beside it then fails the batch
 * with a typed error (`messages.<i>`), instead of the whole batch reaching the function as if
 * it were a direct invocation's params.
 */
function isKafkaBatch(params: Rec): params is Rec & { messages: unknown[] } {
  const messages = params.messages;
  return Array.isArray(messages) && messages.some(isKafkaMessage);
}

const isFlag = (v: unknown): boolean => v === true || v === 'true';
const isPosition = (v: unknown): v is number | string =>
  (typeof v === 'number' && Number.isInteger(v) && v >= 0) || (typeof v === 'string' && /^\d+$/.test(v));

/**
 * The cluster a feed reads, when the action knows it: the feed's `brokers` (`/messaging/kafkaFeed`)
 * or `kafka_brokers_sasl` (`/messaging/messageHubFeed`) bound as a trigger or action parameter
 * too — a list or comma-separated text of `host:port`, joined with `,` as Lambda's
 * `bootstrapServers`. The feed's messages name no cluster (apache/openwhisk-package-kafka
 * `provider/consumer.py`, `__getMessagePayload`: value, topic, partition, offset, key).
 */
function kafkaCluster(params: Rec): string | undefined {
  const brokers = params.brokers ?? params.kafka_brokers_sasl;
  const list = Array.isArray(brokers) ? brokers : typeof brokers === 'string' ? brokers.split(',') : [];
  const hosts = list.filter((b): b is string => typeof b === 'string').map((b) => b.trim()).filter((b) => b !== '');
  return hosts.length > 0 ? hosts.join(',') : undefined;
}

function kafkaInvocations(params: Rec & { messages: unknown[] }, activationId: string, mode: Definition['body']): Invocation[] {
  // The feed's `isBinaryValue` / `isBinaryKey` are feed settings, not per-message fields: the
  // action only knows them when they are also bound as trigger or action parameters.
  const binaryValue = isFlag(params.isBinaryValue);
  const cluster = kafkaCluster(params);
  const { messages } = params;
  // Array.from: a hole in the list is a message too (and a malformed one).
  return Array.from(messages).map((message, index): Invocation => {
    const m: Rec = isRec(message) ? message : {};
    const topic = str(m.topic);
    if (topic === undefined || topic === '' || !isPosition(m.partition) || !isPosition(m.offset)) {
      throw new MalformedEventError('Kafka message lacks a topic, partition or offset', [
        { field: `messages.${index}`, message: 'Missing or invalid topic, partition or offset', expected: '{ topic: string, partition: integer, offset: integer }' },
      ]);
    }
    const partition = String(m.partition);
    const offset = String(m.offset);
    // Offsets are unique only inside one cluster's topic partition: scoped by the cluster when known.
    const id = `${cluster === undefined ? '' : `${cluster}/`}${topic}/${partition}/${offset}`;
    const attributes: Record<string, string> = { partition, offset };
    if (typeof m.key === 'string') attributes.key = m.key;
    const field = `messages.${index}.value`;
    const value = m.value;
    const trigger: Trigger = {
      kind: 'stream',
      source: 'kafka',
      stream: topic,
      partition,
      sequence: offset,
      ...(typeof m.key === 'string' ? { key: m.key } : {}),
      attributes,
      batchIndex: index,
      batchSize: messages.length,
    };
    // The feed passes a value as its text unless it parsed it (`isJSONData`: no raw body left)
    // or base64-encoded it (`isBinaryValue`: its bytes).
    withRawBody(trigger, () => (typeof value !== 'string' ? undefined : binaryValue ? rawBase64(value) : value));
    return {
      trigger,
      requestId: `${activationId}:${id}`,
      deliveryId: id,
      payload: () => {
        if (binaryValue && typeof m.value === 'string') {
          const bytes = decodeBase64Strict(m.value);
          if (!bytes) throw new MalformedEventError('Kafka value is not base64', [{ field, message: 'Not base64', expected: 'base64 text (isBinaryValue)' }]);
          return mode === 'auto' ? bytes : bytesPayload(bytes, mode, { field });
        }
        return anyPayload(m.value, mode, { field });
      },
    };
  });
}

async function runKafka(def: Definition, frame: Frame, params: Rec & { messages: unknown[] }, activationId: string): Promise<Rec> {
  let invocations: Invocation[];
  try {
    invocations = kafkaInvocations(params, activationId, def.body).map((inv) => stamped(inv, frame));
  } catch (thrown) {
    const error = thrown instanceof SteadyError ? thrown : new MalformedEventError('Could not read the Kafka batch');
    adapterLog(def, frame, activationId).warn('invocation rejected', { trigger: 'stream', code: error.code, batchSize: params.messages.length });
    return { error: toErrorSummary(error) };
  }
  // Kafka orders messages within a partition: run in order and stop at the first failure.
  const outcomes = await runBatch(def, frame, invocations, true);
  const failed: Array<{ deliveryId: string; code: string; retryable: boolean }> = [];
  let firstError: SteadyError | undefined;
  let processed = 0;
  let acknowledged = 0;
  outcomes.forEach((outcome, i) => {
    if (outcome.ok) processed++;
    else if (!reportsFailure(def, outcome)) acknowledged++;
    else {
      firstError ??= outcome.error;
      failed.push({ deliveryId: invocations[i]!.deliveryId!, code: outcome.error.code, retryable: outcome.error.retryable });
    }
  });
  const counts: Rec = acknowledged > 0 ? { processed, acknowledged } : { processed };
  // The feed commits offsets once the trigger fires, whatever the action returns: this result
  // records the failure (an application error) and names the messages to re-drive.
  if (!firstError) return counts;
  return { error: { ...toErrorSummary(firstError), ...counts, failed } };
}

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
    return { error: toErrorSummary(error) };
  }
  const outcome = await runInvocation(def, frame, invocation);
  if (outcome.ok) return answer.result(outcome.value);
  // The feed does not redeliver: an acknowledged terminal failure is a success, anything else is recorded.
  if (!reportsFailure(def, outcome)) return {};
  return { error: toErrorSummary(outcome.error) };
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
 * Action results must be JSON objects: anything else is wrapped as `{ result }`. So is an
 * object with an `error` field: the invoker records any result with one as an application
 * error (`ActivationResponse`), keeps only that field and stops a sequence there.
 */
function toActionResult(value: unknown, text: string | undefined | null = jsonText(value)): Rec {
  if (value === undefined || text === undefined) return {};
  if (text === null) return { error: toErrorSummary(notJsonError()) };
  if (!text.startsWith('{')) return { result: JSON.parse(text) as unknown };
  // The text only has to be parsed when it may carry the field (at any depth, cheap to test).
  if (!text.includes('"error"')) return value as Rec;
  const sent = JSON.parse(text) as Rec;
  return Object.hasOwn(sent, 'error') ? { result: sent } : (value as Rec);
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
class ActionResult implements ResultAnswer {
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
  return { error: toErrorSummary(outcome.error) };
}

// ---------------------------------------------------------------------------------------------

/**
 * The invocation with the activation's transaction id on its trigger (`ctx.trigger.transactionId`).
 * The id is `__OW_TRANSACTION_ID`, which the runtime sets per activation from the invoker's
 * `/run` request (`transaction_id`), the id the controller and invoker log the activation under.
 */
function stamped(inv: Invocation, frame: Frame): Invocation {
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
function adapterLog(def: Definition, frame: Frame, activationId: string): Logger {
  const log = adapterLogger(def, 'openwhisk', activationId);
  return frame.logFields === undefined ? log : log.child(frame.logFields);
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
  };
  if (invokedByAnotherNamespace(env)) frame.callerSetIdentity = true;
  if (transactionId !== undefined) frame.logFields = { transactionId };
  const method = isRec(params) ? str(params.__ow_method) : undefined;
  const log = (): Logger => adapterLog(def, frame, activationId);
  try {
    if (!isRec(params)) {
      return { error: toErrorSummary(new MalformedEventError('Activation parameters are not an object', [{ field: '', message: 'Not an object', expected: 'object' }])) };
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
    return web ? webResult(renderError(error), log(), method) : { error: toErrorSummary(error) };
  }
}
