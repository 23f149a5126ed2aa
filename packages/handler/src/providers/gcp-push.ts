/**
 * Pub/Sub push subscriptions with payload unwrapping, to an HTTP function (the Functions
 * Framework's `http` signature, Cloud Run): see
 * https://cloud.google.com/pubsub/docs/payload-unwrapping.
 *
 * With `noWrapper` the message data itself is the request body. With `writeMetadata: true`
 * Pub/Sub also writes the message metadata as `x-goog-pubsub-<KEY>` headers
 * (`x-goog-pubsub-subscription-name`, `x-goog-pubsub-message-id`,
 * `x-goog-pubsub-publish-time`, `x-goog-pubsub-ordering-key`) and each message attribute as a
 * `<KEY>: <VAL>` header of its own. Pub/Sub acknowledges the message on 102, 200, 201, 202 or
 * 204 and redelivers it, with backoff, on any other answer
 * (https://cloud.google.com/pubsub/docs/push).
 */
import { randomUUID } from '../internal/crypto.js';
import { str, type Rec } from '../internal/record.js';
import { anyPayload, type BodyMode } from '../message.js';
import { withRawBody } from '../events/item.js';
import type { HttpRequest, QueueTrigger } from '../types.js';
import type { Invocation } from '../invoke.js';
import type { CarriedTrace } from '../trace/incoming.js';

/** The one value of header `name`, when the request has exactly one line of it and it is not empty. */
function single(request: HttpRequest, name: string): string | undefined {
  const one = request.headers[name];
  const values = request.multiHeaders?.[name] ?? (one === undefined ? undefined : [one]);
  return values?.length === 1 && values[0] !== '' ? values[0] : undefined;
}

/**
 * An unwrapped Pub/Sub push with write metadata as the queue trigger a wrapped push is: the
 * subscription (`queue`), the message id (`messageId`, `ctx.deliveryId`, the same on every
 * redelivery), the ordering key (`groupId`), and the body as the message data, read under the
 * `body` option as a wrapped push's decoded `data` is. Undefined for anything else: a POST
 * without both the message-id and subscription-name headers (each once) is a plain request.
 *
 * `attributes` is empty: Pub/Sub writes them as ordinary headers, which HTTP lowercases and
 * which cannot be told from the headers the platform adds; they are in `ctx.raw.req.headers`.
 */
export function unwrappedPushInvocation(req: Rec, request: HttpRequest, body: BodyMode): Invocation | undefined {
  if (request.method !== 'POST') return undefined;
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
    requestId: str(req.executionId) ?? request.headers['function-execution-id'] ?? randomUUID(),
    deliveryId: messageId,
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
