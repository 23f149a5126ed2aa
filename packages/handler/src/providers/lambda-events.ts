/**
 * AWS Lambda: which kind of event an invocation carries (`classifyLambdaEvent`), an EventBridge
 * Pipes array read back into the batch it carries (`pipesEvent`), and, for an event that runs as
 * `direct`, the provider shape it looked like (`unrecognisedShape`). Pure reads of the event.
 */
import { isRecord as isRec, setOwn, str, type Rec } from '../internal/record.js';
import { isAuthorizerEvent } from '../events/authorizer.js';
import { isDocumentDbEvent } from '../events/documentdb.js';
import { isDynamoDbStreamRecord } from '../events/dynamodb.js';
import { isLambdaKafkaEvent, pipesKafkaEvent } from '../events/kafka.js';
import { isKinesisRecord } from '../events/kinesis.js';
import { isS3EventBridgeEvent, isS3Record } from '../events/s3.js';
import { isSnsRecord } from '../events/sns.js';
import { isWebSocketEvent } from '../events/websocket.js';
import { isVpcLatticeEvent } from '../events/vpc-lattice.js';

export type LambdaEventKind =
  | 'apigw-v1'
  | 'apigw-v2'
  | 'function-url'
  | 'alb'
  | 'apigw-websocket'
  | 'vpc-lattice'
  | 'authorizer'
  | 'sqs'
  | 'sns'
  | 's3'
  | 'dynamodb-streams'
  | 'kinesis'
  | 'kafka'
  | 'documentdb'
  | 's3-eventbridge'
  | 'schedule'
  | 'eventbridge'
  | 'direct';

/**
 * A Kinesis or DynamoDB Streams batch with a tumbling window: the function aggregates the
 * whole batch and answers `{ state, batchItemFailures }`, so it runs whole, as direct.
 */
function isTumblingWindow(event: Rec): boolean {
  return isRec(event.window) && typeof event.isFinalInvokeForWindow === 'boolean' && Array.isArray(event.Records);
}

/**
 * EventBridge Pipes with an SQS or a DynamoDB stream source invoke a Lambda target with a JSON
 * array of the records the event source mapping wraps in `{ Records }` ("even if the batch size
 * is 1"), and read a `{ batchItemFailures }` answer as the partial batch failure (Amazon
 * EventBridge User Guide, "Amazon EventBridge Pipes batching and concurrency", "Amazon Simple
 * Queue Service as a source…", "Amazon DynamoDB stream as a source…"). A Kinesis source sends
 * its records flattened: the fields of the mapping's `kinesis` member beside the record's own
 * ("Amazon Kinesis stream as a source…"); they are put back under `kinesis`. An Amazon MSK or
 * self-managed Kafka source sends each record with the mapping event's `eventSource`,
 * `eventSourceArn` / `bootstrapServers` and its `topic-partition` as `eventSourceKey`; they are
 * grouped back into `{ eventSource, …, records: { "topic-partition": [...] } }` (Pipes reads no
 * partial answer for Kafka: see invokeLambda). Such an array is read as the batch it carries;
 * any other value is returned as it is — an Amazon MQ source's array too, which then runs as
 * `direct` like the mapping's Amazon MQ event, named in the log line (see unrecognisedShape).
 */
export function pipesEvent(event: unknown): unknown {
  if (!Array.isArray(event) || event.length === 0) return event;
  const sqs = event.every((r) => isRec(r) && r.eventSource === 'aws:sqs' && typeof r.messageId === 'string' && typeof r.body === 'string');
  const dynamodb = !sqs && event.every((r) => isDynamoDbStreamRecord(r) && isRec((r as Rec).dynamodb));
  if (sqs || dynamodb) return { Records: event };
  const kinesis = event.every((r) => isKinesisRecord(r) && !Object.hasOwn(r as Rec, 'kinesis') && typeof (r as Rec).sequenceNumber === 'string' && typeof (r as Rec).data === 'string');
  if (kinesis) return { Records: event.map((r) => nestedKinesisRecord(r as Rec)) };
  return pipesKafkaEvent(event) ?? event;
}

/** The members of a Kinesis record's `kinesis` object, as the event source mapping nests them. */
const KINESIS_MEMBERS: ReadonlySet<string> = new Set(['kinesisSchemaVersion', 'partitionKey', 'sequenceNumber', 'data', 'approximateArrivalTimestamp']);

/** A flattened Pipes Kinesis record as the event source mapping sends it: `{ kinesis: {…}, eventID, … }`. */
function nestedKinesisRecord(flat: Rec): Rec {
  const kinesis: Rec = {};
  const record: Rec = {};
  for (const [name, value] of Object.entries(flat)) setOwn(KINESIS_MEMBERS.has(name) ? kinesis : record, name, value);
  record.kinesis = kinesis;
  return record;
}

export function classifyLambdaEvent(event: unknown): LambdaEventKind {
  if (!isRec(event) || isTumblingWindow(event)) return 'direct';
  // Before HTTP: a REQUEST authorizer event has httpMethod and requestContext too.
  if (isAuthorizerEvent(event)) return 'authorizer';
  if (isWebSocketEvent(event)) return 'apigw-websocket';
  const rc = event.requestContext;
  if (isRec(rc) && isRec(rc.elb)) return 'alb';
  if (event.version === '2.0' && isRec(rc) && isRec(rc.http)) {
    return typeof rc.domainName === 'string' && rc.domainName.includes('.lambda-url.') ? 'function-url' : 'apigw-v2';
  }
  if (typeof event.httpMethod === 'string' && isRec(rc)) return 'apigw-v1';
  if (isVpcLatticeEvent(event)) return 'vpc-lattice';
  // One SQS record makes it an SQS batch: a damaged record then fails the batch with a typed
  // error instead of the whole event reaching the function as if it were a direct input.
  if (Array.isArray(event.Records)) {
    const records = event.Records;
    if (records.some((r) => isRec(r) && r.eventSource === 'aws:sqs')) return 'sqs';
    if (records.some(isSnsRecord)) return 'sns';
    if (records.some(isS3Record)) return 's3';
    if (records.some(isDynamoDbStreamRecord)) return 'dynamodb-streams';
    if (records.some(isKinesisRecord)) return 'kinesis';
  }
  if (isLambdaKafkaEvent(event)) return 'kafka';
  if (isDocumentDbEvent(event)) return 'documentdb';
  if (typeof event['detail-type'] === 'string' && typeof event.source === 'string' && 'detail' in event) {
    if (isS3EventBridgeEvent(event)) return 's3-eventbridge';
    return event['detail-type'] === 'Scheduled Event' && (event.source === 'aws.events' || event.source === 'aws.scheduler') ? 'schedule' : 'eventbridge';
  }
  return 'direct';
}

/** Shapes of AWS events the wrapper has no trigger kind for, named in the log line when one runs as `direct`. */
const KNOWN_SHAPES: ReadonlyArray<[string, (event: Rec) => boolean]> = [
  ['Kinesis or DynamoDB Streams tumbling window', isTumblingWindow],
  ['CloudWatch Logs subscription (awslogs)', (e) => isRec(e.awslogs)],
  ['Kinesis Data Firehose transformation', (e) => typeof e.deliveryStreamArn === 'string'],
  ['Cognito user pool trigger', (e) => typeof e.triggerSource === 'string' && typeof e.userPoolId === 'string'],
  ['CloudFormation custom resource', (e) => typeof e.RequestType === 'string' && typeof e.ResponseURL === 'string'],
  ['S3 Object Lambda', (e) => isRec(e.getObjectContext) || isRec(e.listObjectsContext) || isRec(e.headObjectContext)],
  ['S3 Batch Operations', (e) => typeof e.invocationSchemaVersion === 'string' && Array.isArray(e.tasks)],
  ['CodePipeline job', (e) => isRec(e['CodePipeline.job'])],
  ['AWS Config rule', (e) => typeof e.configRuleName === 'string'],
  ['Lex bot', (e) => isRec(e.bot) || isRec(e.currentIntent) || isRec(e.sessionState)],
  ['AppSync resolver', (e) => isRec(e.info) && typeof (e.info as Rec).fieldName === 'string'],
  ['Alexa skill', (e) => isRec(e.request) && isRec(e.session)],
  ['IoT', (e) => typeof e.clientId === 'string' && typeof e.topic === 'string'],
  ['Bedrock agent', (e) => typeof e.messageVersion === 'string' && isRec(e.agent)],
  ['Secrets Manager rotation', (e) => typeof e.SecretId === 'string' && typeof e.Step === 'string'],
  ['IoT custom authorizer', (e) => typeof e.signatureVerified === 'boolean' && Array.isArray(e.protocols)],
  ['Amazon Connect contact flow', (e) => e.Name === 'ContactFlowEvent' && isRec(e.Details)],
  ['CloudFront Lambda@Edge', (e) => Array.isArray(e.Records) && isRec(e.Records[0]) && isRec((e.Records[0] as Rec).cf)],
  ['AppSync Lambda authorizer', (e) => typeof e.authorizationToken === 'string' && isRec(e.requestContext) && typeof (e.requestContext as Rec).apiId === 'string'],
  // An async invocation's destination record carries requestPayload; an event source mapping's
  // on-failure record carries the batch it gave up on instead (Powertools' dynamoStreamLambdaInvocationEvent.json).
  [
    'Lambda destination record',
    (e) => isRec(e.requestContext) && typeof (e.requestContext as Rec).condition === 'string' && ('requestPayload' in e || isRec(e.DDBStreamBatchInfo) || isRec(e.KinesisBatchInfo)),
  ],
  ['CloudWatch alarm action', (e) => e.source === 'aws.cloudwatch' && isRec(e.alarmData)],
  ['Kinesis Data Analytics output', (e) => typeof e.applicationArn === 'string' && Array.isArray(e.records)],
  ['Client VPN connection handler', (e) => typeof e['connection-id'] === 'string' && typeof e['endpoint-id'] === 'string'],
  ['IoT fleet provisioning hook', (e) => typeof e.claimCertificateId === 'string' && typeof e.templateArn === 'string'],
  // aws/aws-lambda-go events/testdata/cognito-event.json: a Cognito Sync dataset sync.
  ['Cognito Sync trigger', (e) => e.eventType === 'SyncTrigger' && isRec(e.datasetRecords)],
  // aws/aws-lambda-go events/testdata/iot-button-event.json and iot-1-click-event.json.
  ['AWS IoT button', (e) => typeof e.serialNumber === 'string' && typeof e.clickType === 'string'],
  ['AWS IoT 1-Click', (e) => isRec(e.deviceEvent) && isRec(e.deviceInfo)],
  // aws/aws-lambda-go events/testdata/appsync-invoke.json and appsync-batchinvoke.json: a
  // resolver mapping template's `Invoke` / `BatchInvoke` request.
  ['AppSync resolver', (e) => (e.operation === 'Invoke' || e.operation === 'BatchInvoke') && typeof e.version === 'string' && 'payload' in e],
  // ActiveMQ is `aws:amq` in the Lambda developer guide ("Using Lambda with Amazon MQ") and
  // Powertools' activeMQEvent.json, `aws:mq` in aws-lambda-go's activemq-event.json.
  ['Amazon MQ', (e) => isAmazonMqSource(e.eventSource) && (isRec(e.messages) || Array.isArray(e.messages) || isRec(e.rmqMessagesByQueue))],
];

/**
 * Every member a shape above (or the fallbacks below) is recognised by: an event with none of
 * them — a plain direct payload — is answered by one pass over its own keys.
 */
const SHAPE_KEYS = new Set([
  'window', 'isFinalInvokeForWindow', 'awslogs', 'deliveryStreamArn', 'triggerSource', 'RequestType', 'getObjectContext', 'listObjectsContext',
  'headObjectContext', 'invocationSchemaVersion', 'CodePipeline.job', 'configRuleName', 'bot', 'currentIntent', 'sessionState', 'info', 'request',
  'clientId', 'messageVersion', 'SecretId', 'signatureVerified', 'Name', 'Records', 'authorizationToken', 'requestContext', 'source',
  'applicationArn', 'connection-id', 'claimCertificateId', 'eventSource', 'EventSource', 'datasetRecords', 'clickType',
  'deviceEvent', 'operation',
]);

function mayHaveShape(event: Rec): boolean {
  for (const key in event) if (SHAPE_KEYS.has(key)) return true;
  return false;
}

/**
 * An AppSync direct Lambda resolver with batching: a list of resolver contexts, each with
 * `arguments` and `info.fieldName` (a plain array a caller passes has neither).
 */
function isAppSyncBatch(event: unknown): boolean {
  return (
    Array.isArray(event) &&
    event.length > 0 &&
    event.every((item) => isRec(item) && isRec(item.arguments) && isRec(item.info) && typeof item.info.fieldName === 'string')
  );
}

/** An Amazon MQ event source: ActiveMQ (`aws:amq`, or `aws:mq` as aws-lambda-go's sample writes it) or RabbitMQ (`aws:rmq`). */
function isAmazonMqSource(value: unknown): boolean {
  return value === 'aws:amq' || value === 'aws:mq' || value === 'aws:rmq';
}

/**
 * EventBridge Pipes with an Amazon MQ source: a JSON array of the broker's messages, each with
 * the mapping event's `eventSource` and its base64 `data` (Amazon EventBridge User Guide, "Amazon
 * MQ message broker as a source in EventBridge Pipes", Example events). Like the event source
 * mapping's Amazon MQ event, it has no trigger kind: it runs as `direct`, named.
 */
function isPipesAmazonMq(event: unknown): boolean {
  return Array.isArray(event) && event.length > 0 && event.every((m) => isRec(m) && isAmazonMqSource(m.eventSource) && typeof m.data === 'string');
}

/** For the log line of an event that runs as `direct`: the provider shape it looked like, if any. */
export function unrecognisedShape(event: unknown): string | undefined {
  if (isAppSyncBatch(event)) return 'AppSync batch resolver';
  if (isPipesAmazonMq(event)) return 'Amazon MQ (EventBridge Pipes)';
  if (!isRec(event) || !mayHaveShape(event)) return undefined;
  for (const [name, test] of KNOWN_SHAPES) if (test(event)) return name;
  if (Array.isArray(event.Records)) {
    const first: unknown = event.Records[0];
    const source = isRec(first) ? (str(first.eventSource) ?? str(first.EventSource)) : undefined;
    return `Records${source ? ` of ${source.slice(0, 60)}` : ''}`;
  }
  const source = str(event.eventSource) ?? str(event.source);
  if (source) return `eventSource ${source.slice(0, 60)}`;
  if (isRec(event.requestContext)) return 'requestContext without a known HTTP or WebSocket shape';
  return undefined;
}
