/**
 * Pub/Sub push subscriptions to an HTTP function (the Functions Framework's `http` signature,
 * Cloud Run), recognised only when the handler opts in (`gcpPubSubPush: true`):
 *
 * - the default (wrapped) push POSTs `{ message: { data, attributes, messageId, publishTime,
 *   orderingKey? }, subscription, deliveryAttempt? }` as `application/json`
 *   (https://cloud.google.com/pubsub/docs/push);
 * - with payload unwrapping (`noWrapper`) the message data itself is the request body and, with
 *   `writeMetadata: true`, the metadata arrives as `x-goog-pubsub-<KEY>` headers
 *   (`x-goog-pubsub-subscription-name`, `x-goog-pubsub-message-id`,
 *   `x-goog-pubsub-publish-time`, `x-goog-pubsub-ordering-key`) and each attribute as a
 *   `<KEY>: <VAL>` header of its own (https://cloud.google.com/pubsub/docs/payload-unwrapping).
 *
 * Pub/Sub acknowledges the message on 102, 200, 201, 202 or 204 and redelivers it, with
 * backoff, on any other answer.
 *
 * Why opt-in: everything that marks a push — the body, the headers, `User-Agent` — is what any
 * caller of an HTTP function can send. Recognised, it names `ctx.deliveryId`, which idempotency
 * and the inbox key on unscoped (a message is nobody's): a caller who sends a message id before
 * Pub/Sub does would have the real message answered as a replay — acknowledged and never run.
 * Only the deployment knows that every caller is Pub/Sub (push authentication on a service that
 * admits no one else), so only it can say so.
 */
import { randomUUID } from '../internal/crypto.js';
import { isRecord, str, type Rec } from '../internal/record.js';
import { parseMediaType } from '../internal/media-type.js';
import { anyPayload, type BodyMode } from '../message.js';
import { withRawBody } from '../events/item.js';
import { isRawPubSubPush, pubSubDeliveryId, pubSubEnvelope, pubSubItem } from '../events/pubsub.js';
import type { HttpRequest, QueueTrigger } from '../types.js';
import { adapterLogger, type Definition, type Frame, type Invocation } from '../invoke.js';
import type { CarriedTrace } from '../trace/incoming.js';

/** The one value of header `name`, when the request has exactly one line of it and it is not empty. */
function single(request: HttpRequest, name: string): string | undefined {
  const one = request.headers[name];
  const values = request.multiHeaders?.[name] ?? (one === undefined ? undefined : [one]);
  return values?.length === 1 && values[0] !== '' ? values[0] : undefined;
}

/**
 * An unwrapped Pub/Sub push with write metadata as the queue trigger a wrapped push is: the
 * subscription (`queue`), the message id (`messageId`; `ctx.deliveryId` is `<queue>#<messageId>`,
 * the same on every redelivery), the ordering key (`groupId`), and the body as the message data, read under the
 * `body` option as a wrapped push's decoded `data` is. Undefined for anything else: a POST
 * without both the message-id and subscription-name headers (each once) is a plain request.
 *
 * `attributes` is empty: Pub/Sub writes them as ordinary headers, which HTTP lowercases and
 * which cannot be told from the headers the platform adds; they are in `ctx.raw.req.headers`.
 */
function unwrappedPushInvocation(req: Rec, request: HttpRequest, body: BodyMode): Invocation | undefined {
  const messageId = single(request, 'x-goog-pubsub-message-id');
  const queue = single(request, 'x-goog-pubsub-subscription-name');
  if (messageId === undefined || queue === undefined) return undefined;
  // Set only by publishers with message ordering on (an empty key is "no key").
  const groupId = single(request, 'x-goog-pubsub-ordering-key');
  const data = request.rawBytes ?? request.rawBody;
  return {
    trigger: withRawBody<QueueTrigger>(
      { kind: 'queue', source: 'pubsub', queue, messageId, ...(groupId ? { groupId } : {}), attributes: {}, batchIndex: 0, batchSize: 1 },
      () => data,
    ),
    // The framework's execution id names this delivery; the message id is the same on every one.
    requestId: executionId(req, request),
    deliveryId: pubSubDeliveryId(queue, messageId),
    payload: () => (data === undefined ? undefined : anyPayload(data, body, { field: 'body' })),
    trace: pushTrace(request),
  };
}

/**
 * The trace context of a push: the `traceparent` / `tracestate` headers (once each), as for
 * any HTTP request; else the Pub/Sub client libraries' `googclient_traceparent` /
 * `googclient_tracestate` attributes, which arrive as headers of those names.
 */
function pushTrace(request: HttpRequest): CarriedTrace {
  const traceparent = single(request, 'traceparent');
  if (traceparent !== undefined) return { traceparent, tracestate: single(request, 'tracestate') };
  return { traceparent: single(request, 'googclient_traceparent'), tracestate: single(request, 'googclient_tracestate') };
}

/** The framework's execution id names this delivery (each is its own); the message id is the same on every one. */
function executionId(req: Rec, request: HttpRequest): string {
  return str(req.executionId) ?? request.headers['function-execution-id'] ?? randomUUID();
}

/** A subscription's resource name, as a push envelope carries it. */
const SUBSCRIPTION = /^projects\/[^/]+\/subscriptions\/[^/]+$/;

/**
 * The body of a wrapped push, when the request is clearly one: `application/json` (what Pub/Sub
 * sends), a JSON object with a `subscription` resource name
 * (`projects/<project>/subscriptions/<name>`) and a `message` with a `messageId` (or
 * `message_id`). Undefined for anything else: a plain request.
 */
function wrappedPushBody(request: HttpRequest): Rec | undefined {
  if (single(request, 'content-type') === undefined) return undefined;
  let essence: string | undefined;
  try {
    essence = parseMediaType(request.headers['content-type'])?.essence;
  } catch {
    return undefined;
  }
  // Parsed only when it can be one (a JSON body of any other request is parsed once, for the input).
  if (essence !== 'application/json' || request.rawBody === undefined || !request.rawBody.includes('"subscription"')) return undefined;
  const envelope = pubSubEnvelope(request.rawBody);
  if (!envelope || !isRawPubSubPush(envelope)) return undefined;
  const subscription = envelope.subscription;
  return typeof subscription === 'string' && SUBSCRIPTION.test(subscription) && isRecord(envelope.message) ? envelope : undefined;
}

/**
 * A wrapped push as the queue trigger a Pub/Sub CloudEvent gives (the same normalisation,
 * `pubSubItem`): the subscription, `<subscription>#<messageId>` as `ctx.deliveryId`, `attempt`, `groupId`,
 * the attributes, and the decoded `data` as the input. The trace context is the message's
 * (`traceparent` / `googclient_traceparent` attributes), else the request's headers.
 */
function wrappedPushInvocation(req: Rec, request: HttpRequest, envelope: Rec, body: BodyMode): Invocation {
  return { ...pubSubItem(envelope, undefined, undefined, { body }), requestId: executionId(req, request), trace: pushTrace(request) };
}

/**
 * A POST that is a Pub/Sub push — wrapped, or unwrapped with write metadata — as its queue
 * trigger, when `def` opted in (`gcpPubSubPush`); undefined for anything else (a plain request).
 * Without the option, a request that looks like a push stays a plain request, and the first such
 * of each handler is named in a `warn` line saying how to opt in.
 */
export function pushInvocation(def: Definition, frame: Frame, req: Rec, request: HttpRequest): Invocation | undefined {
  // Off and already noted, nothing is left to look for: a JSON body is not parsed an extra time.
  if (request.method !== 'POST' || (def.gcpPubSubPush !== true && pushIgnoredNoted.has(def))) return undefined;
  const envelope = wrappedPushBody(request);
  const inv = envelope ? wrappedPushInvocation(req, request, envelope, def.body) : unwrappedPushInvocation(req, request, def.body);
  if (inv === undefined || def.gcpPubSubPush === true) return inv;
  notePushIgnored(def, frame, inv.requestId, envelope ? 'wrapped' : 'unwrapped');
  return undefined;
}

/** The warn line of a request that looked like a Pub/Sub push to a handler without `gcpPubSubPush`. */
export const PUSH_IGNORED = 'request looks like a Pub/Sub push: ran it as plain HTTP (gcpPubSubPush is off)';

// The handlers whose first push-like request has been noted (at most once each).
const pushIgnoredNoted = new WeakSet<Definition>();

function notePushIgnored(def: Definition, frame: Frame, requestId: string, form: 'wrapped' | 'unwrapped'): void {
  if (pushIgnoredNoted.has(def)) return;
  pushIgnoredNoted.add(def);
  adapterLogger(def, frame, requestId).warn(PUSH_IGNORED, {
    form,
    explicit: 'when only Pub/Sub can call this function (push authentication on), set gcpPubSubPush: true so ctx.deliveryId is the message id',
  });
}
