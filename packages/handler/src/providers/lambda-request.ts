/**
 * One Lambda event read into the single invocation a middy request stands for (the middy
 * adapter's view; `handler()` runs batches itself). An event with one unit of work — an HTTP
 * request, one SQS message, one stream record, an EventBridge event, an authorizer call, a
 * direct call — is that invocation, exactly as `handler()` reads it. An event with several
 * records is one invocation over the whole event (`direct`, source `<kind>-batch`): per-message
 * semantics (a ctx per message, `beforeBatch`/`afterBatch`, partial batch responses) need
 * `handler()`. An event with nothing to run (only S3 test events, or no records) is
 * acknowledged, as `handler()` does: see `LambdaRequest.acknowledged`.
 */
import { MalformedEventError } from '../errors.js';
import { isRecord as isRec, type Rec } from '../internal/record.js';
import type { Definition, Frame, Invocation } from '../invoke.js';
import { authorizerItem } from '../events/authorizer.js';
import { documentDbItems } from '../events/documentdb.js';
import { dynamoDbStreamItems } from '../events/dynamodb.js';
import type { EventItem } from '../events/item.js';
import { lambdaKafkaItems } from '../events/kafka.js';
import { kinesisItems } from '../events/kinesis.js';
import { s3EventBridgeChange, s3Items, s3NotificationChanges } from '../events/s3.js';
import { snsItems } from '../events/sns.js';
import { checkContext, directInvocation, eventBridgeInvocation, frameFor, sqsInvocations, withRequestId } from './lambda-invocations.js';
import type { LambdaContext } from './lambda.js';
import { httpInvocation, type HttpKind } from './lambda-http.js';
import { classifyLambdaEvent, pipesEvent } from './lambda-events.js';
import { withApiGatewayDeadline } from './lambda-deadline.js';

/** What the middy adapter builds its ctx from. */
export interface LambdaRequest {
  frame: Frame;
  invocation: Invocation;
  /** Set for HTTP events: how an answer is shaped back into the event source's result. */
  http?: { kind: HttpKind; event: Rec };
  /**
   * Set when the event yields nothing to run: records that are all S3 test events (`s3:TestEvent`,
   * which S3 sends through SQS or SNS when a notification is set up), or an event with no records
   * at all (a Kafka event with `records: {}`, a DocumentDB event with `events: []`). `handler()`
   * acknowledges such an event without running the function; the middy request answers `answer` (`handler()`'s
   * answer: `{ batchItemFailures: [] }` for SQS, Kinesis and DynamoDB streams, else `undefined`)
   * without calling its handler. `invocation` is then a placeholder that is never run.
   */
  acknowledged?: { answer: unknown };
}

/** The one invocation of `invocations`, a batch invocation for several, undefined for none (nothing to run). */
function oneOrBatch(kind: string, invocations: Invocation[], event: unknown, context: LambdaContext): Invocation | undefined {
  if (invocations.length === 1) return invocations[0]!;
  if (invocations.length === 0) return undefined;
  return { trigger: { kind: 'direct', source: `${kind}-batch` }, requestId: context.awsRequestId, deliveryId: undefined, payload: () => event };
}

function items(list: EventItem[], context: LambdaContext): Invocation[] {
  return list.map((item) => withRequestId(item, context));
}

/**
 * Reads `event` as the one invocation of a middy request.
 *
 * @throws MalformedEventError when the event cannot be read (a record without an id, a body
 *   that is not base64), or the context is not a Lambda context.
 */
export function lambdaRequest(def: Definition, event: unknown, context: LambdaContext): LambdaRequest {
  checkContext(context);
  const frame = frameFor(event, context);
  // An EventBridge Pipes array (of SQS, DynamoDB stream, Kinesis or Kafka records) is read as the batch it carries.
  const read = pipesEvent(event);
  const kind = classifyLambdaEvent(read);
  withApiGatewayDeadline(def, kind, frame, read);
  const e = (isRec(read) ? read : {}) as Rec;
  const records = Array.isArray(e.Records) ? (e.Records as unknown[]) : [];
  let invocation: Invocation | undefined;
  try {
    switch (kind) {
      case 'apigw-v1':
      case 'apigw-v2':
      case 'function-url':
      case 'alb':
      case 'apigw-websocket':
      case 'vpc-lattice':
        return { frame, invocation: httpInvocation(def, kind, e, context), http: { kind, event: e } };
      case 'authorizer':
        invocation = withRequestId(authorizerItem(e), context);
        break;
      case 'sqs':
        invocation = oneOrBatch(kind, sqsInvocations(def, e, context).invocations, event, context);
        break;
      case 'kinesis':
        invocation = oneOrBatch(kind, items(kinesisItems(records, def).items, context), event, context);
        break;
      case 'dynamodb-streams':
        invocation = oneOrBatch(kind, items(dynamoDbStreamItems(records).items, context), event, context);
        break;
      case 'sns':
        invocation = oneOrBatch(kind, items(snsItems(records, def), context), event, context);
        break;
      case 's3':
        invocation = oneOrBatch(kind, items(s3Items(s3NotificationChanges(records), undefined), context), event, context);
        break;
      case 's3-eventbridge':
        invocation = withRequestId(s3Items([s3EventBridgeChange(e)], 'eventbridge')[0]!, context);
        break;
      case 'kafka':
        invocation = oneOrBatch(kind, items(lambdaKafkaItems(e, def), context), event, context);
        break;
      case 'documentdb':
        invocation = oneOrBatch(kind, items(documentDbItems(e), context), event, context);
        break;
      case 'schedule':
      case 'eventbridge':
        invocation = eventBridgeInvocation(kind, e, context);
        break;
      case 'direct':
        invocation = directInvocation(def, frame, event, context);
        break;
    }
  } catch (thrown) {
    throw thrown instanceof MalformedEventError ? thrown : new MalformedEventError('Could not read the event');
  }
  if (invocation === undefined) {
    const answer = kind === 'sqs' || kind === 'kinesis' || kind === 'dynamodb-streams' ? { batchItemFailures: [] } : undefined;
    const placeholder: Invocation = { trigger: { kind: 'direct', source: `${kind}-batch` }, requestId: context.awsRequestId, deliveryId: undefined, payload: () => event };
    return { frame, invocation: placeholder, acknowledged: { answer } };
  }
  return { frame, invocation };
}
