/**
 * AWS Lambda: the event read into invocations — a direct call, an SQS batch's messages (and the
 * S3 notifications in their bodies), an EventBridge event or schedule tick — and the frame and
 * context checks every call starts with. Shared by `handler()` (lambda.ts) and the middy adapter
 * (lambda-request.ts); the HTTP events are read in lambda-http.ts.
 */
import { MalformedEventError, toPublicError, type SteadyError } from '../errors.js';
import { isRecord as isRec, jsonText, nonEmptyStr, str, type Rec } from '../internal/record.js';
import { adapterLogger, type Definition, type Frame, type Invocation, type ResultAnswer } from '../invoke.js';
import { checkJsonSize } from '../response.js';
import { LAMBDA_RESPONSE_LIMIT_BYTES } from '../internal/limits.js';
import { anyPayload } from '../message.js';
import { lambdaPrincipal } from '../principal-aws.js';
import { eventBridgeDeliveryId, replayNameOf } from '../events/eventbridge-envelope.js';
import type { EventItem } from '../events/item.js';
import { s3ChangesInBody, s3Items } from '../events/s3.js';
import { sqsMessageItem } from '../events/sqs.js';
import { unrecognisedShape } from './lambda-events.js';
import type { LambdaContext } from './lambda.js';

/**
 * A direct invocation's result: the Runtime API refuses a response over 6 MB (413), whatever
 * invoked the function; JSON.stringify is how the Node runtime serialises it. Checked only when
 * plugins run, so that none (idempotency) keeps as completed a result the caller never gets. A result JSON
 * cannot encode (a BigInt) is left to fail in the runtime as before.
 */
const DIRECT_RESULT: ResultAnswer = {
  tooLarge(value) {
    // A value that is not an object serialises to a short text, or to a string's: at most 6
    // bytes per UTF-16 unit (`\uXXXX`) and its quotes. Only objects need serialising to know.
    if (typeof value === 'string' ? value.length * 6 + 2 <= LAMBDA_RESPONSE_LIMIT_BYTES : typeof value !== 'object' || value === null) return undefined;
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch {
      return undefined;
    }
    return checkJsonSize(text, LAMBDA_RESPONSE_LIMIT_BYTES);
  },
};

/** An event the wrapper has no trigger for, as a direct invocation (logged when it looks like a known AWS shape). */
export function directInvocation(def: Definition, frame: Frame, event: unknown, context: LambdaContext): Invocation {
  const shape = unrecognisedShape(event);
  if (shape) adapterLogger(def, frame, context.awsRequestId).warn('event not recognised; running it as a direct invocation', { shape });
  // Built member by member, not with conditional spreads: this is every direct call's hot path.
  const invocation: Invocation = {
    trigger: shape ? { kind: 'direct', source: 'lambda-invoke', unrecognised: shape } : { kind: 'direct', source: 'lambda-invoke' },
    requestId: context.awsRequestId,
    deliveryId: undefined,
    payload: () => event,
  };
  // Without plugins nothing can keep an oversized result (the runtime's own 413 fails the
  // invocation as Function.ResponseSizeTooLarge): skip the extra serialisation on the hot path.
  if (def.use.length > 0) invocation.result = DIRECT_RESULT;
  return invocation;
}

/**
 * An SQS batch: one invocation per message, or, for a message whose body is an S3 notification
 * (direct, via SNS, or an EventBridge event), one `storage` invocation per object change.
 * `owners[i]` is the index of the SQS message invocation i came from. A body that is a damaged
 * S3 notification (a key that is not URL-encoded, a record without a bucket) is one `queue`
 * invocation whose payload throws the MALFORMED_EVENT: that message alone fails (on a FIFO
 * queue, with every later one, as for any failure). Only a record without a `messageId` fails
 * the batch.
 */
export function sqsInvocations(def: Definition, event: Rec, context: LambdaContext): { invocations: Invocation[]; owners: number[]; ids: string[]; fifo: boolean } {
  const records = event.Records as unknown[];
  const ids: string[] = [];
  const owners: number[] = [];
  let fifo = false;
  const invocations = records.flatMap((record, index): Invocation[] => {
    if (!isRec(record)) throw new MalformedEventError('SQS record is not an object', [{ field: `Records.${index}`, message: 'Not an object', expected: 'an SQS record' }]);
    const r = record;
    const messageId = str(r.messageId);
    if (!messageId) throw new MalformedEventError('SQS record has no messageId', [{ field: `Records.${index}.messageId`, message: 'Missing', expected: 'string' }]);
    ids.push(messageId);
    const arn = str(r.eventSourceARN) ?? '';
    if (arn.endsWith('.fifo')) fifo = true;
    let s3: ReturnType<typeof s3ChangesInBody>;
    let unreadable: MalformedEventError | undefined;
    try {
      s3 = typeof r.body === 'string' ? s3ChangesInBody(r.body, `Records.${index}.body`) : undefined;
    } catch (thrown) {
      // A damaged S3 notification (or SNS envelope / EventBridge event of one) fails its message only.
      if (!(thrown instanceof MalformedEventError)) throw thrown;
      unreadable = thrown;
    }
    if (s3) {
      const items = s3Items(s3.changes, [...s3.via, 'sqs'].join('-'));
      for (const _ of items) owners.push(index);
      return items.map((item) => withRequestId(item, context));
    }
    owners.push(index);
    const { xray, ...item } = sqsMessageItem(r, messageId, { index, size: records.length }, def);
    if (unreadable) {
      const error = unreadable;
      item.payload = () => {
        throw error;
      };
    }
    // X-Ray's header (not W3C): used when no `traceparent` message attribute came.
    return [{ ...item, requestId: `${context.awsRequestId}:${messageId}`, ...(xray === undefined ? {} : { trace: { xray } }) }];
  });
  return { invocations, owners, ids, fifo };
}

/** An event item as an invocation: its request id is the call's, scoped by the item's delivery id when it has one. */
export function withRequestId(item: EventItem, context: LambdaContext): Invocation {
  return { ...item, requestId: item.deliveryId === undefined ? context.awsRequestId : `${context.awsRequestId}:${item.deliveryId}` };
}

/** An EventBridge event: a schedule tick (rule or Scheduler) or any other event, as one invocation. */
export function eventBridgeInvocation(kind: 'schedule' | 'eventbridge', event: Rec, context: LambdaContext): Invocation {
  // An empty or blank `id` is none: kept, every such event had one delivery id (one idempotency key).
  const id = nonEmptyStr(event.id) ?? context.awsRequestId;
  const time = str(event.time);
  const resources = Array.isArray(event.resources) ? event.resources.map(jsonText) : [];
  const replayName = replayNameOf(event);
  if (kind === 'schedule') {
    const schedule = resources[0];
    return {
      trigger: {
        kind: 'schedule',
        source: event.source === 'aws.scheduler' ? 'eventbridge-scheduler' : 'eventbridge',
        ...(time ? { scheduledTime: time } : {}),
        ...(schedule ? { schedule } : {}),
        ...(replayName ? { replayName } : {}),
      },
      requestId: context.awsRequestId,
      // The same tick of the same schedule is the same delivery, however often it is retried;
      // an archive replay of it is another (the rule an SQS body of it is keyed by).
      deliveryId: eventBridgeDeliveryId(event, id, true),
      // Scheduled rules send `{}`; a Scheduler input template may send the detail as JSON text.
      // A tick carries no data of its own, so a `null` detail is the same empty input as none.
      payload: () => (event.detail === undefined || event.detail === null ? {} : anyPayload(event.detail, 'auto', { field: 'detail', declaredJson: true })),
    };
  }
  return {
    trigger: {
      kind: 'event',
      source: 'eventbridge',
      type: String(event['detail-type']),
      eventSource: String(event.source),
      id,
      ...(time ? { time } : {}),
      ...(replayName ? { replayName } : {}),
    },
    requestId: context.awsRequestId,
    // `id`; an archive replay (`replay-name`) scoped by it, so that it runs again.
    deliveryId: eventBridgeDeliveryId(event, id, false),
    payload: () => event.detail,
  };
}

/** The frame of one call: provider, principal, function name and the deadline read from the context's clock. */
export function frameFor(event: unknown, context: LambdaContext): Frame {
  let remaining = Number.NaN;
  try {
    remaining = Number(context.getRemainingTimeInMillis());
  } catch {
    // A broken clock is treated as no clock.
  }
  return {
    provider: 'aws',
    principal: lambdaPrincipal,
    functionName: str(context.functionName) ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'lambda',
    deadline: Number.isFinite(remaining) ? Date.now() + remaining : Number.POSITIVE_INFINITY,
    raw: { event, context },
    requestId: str(context.awsRequestId),
  };
}

/** Throws `error` as its public view (no stack, no cause): how every Lambda failure leaves the wrapper. */
export function fail(error: SteadyError): never {
  throw toPublicError(error);
}

/** A context that is not a Lambda context (`null`, `undefined`, a string): a typed error, as the other entries give. */
export function checkContext(context: unknown): asserts context is LambdaContext {
  if (!isRec(context)) {
    fail(new MalformedEventError('The Lambda context is missing', [{ field: 'context', message: 'Not an object', expected: 'the Lambda context object' }]));
  }
}
