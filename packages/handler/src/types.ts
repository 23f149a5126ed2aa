import type { Logger } from './logger.js';
import type { FieldIssue, SteadyError } from './errors.js';
import type { ZodLikeIssue } from './internal/issues.js';
import type { ZodType } from 'zod';
import type { Principal } from './principal.js';

/** The platform that called the function. */
export type Provider = 'aws' | 'gcp' | 'azure' | 'openwhisk' | 'direct';

/** What kind of event started the invocation: `ctx.trigger.kind`. */
export type TriggerKind = 'http' | 'queue' | 'schedule' | 'event' | 'change' | 'storage' | 'stream' | 'notification' | 'authorizer' | 'direct';

/** An HTTP request, the same shape whichever provider delivered it. */
export interface HttpRequest {
  /** The HTTP method in upper case (`GET`, `POST`, …). */
  method: string;
  /**
   * Path without the query string, e.g. `/orders/42`, passed through as the source sent it —
   * not decoded or re-encoded here, so whether escapes are still in it depends on the source.
   * On AWS: API Gateway REST (`path`), Function URLs (`rawPath`) and ALB (`path`) send it
   * percent-encoded as the client wrote it (`/a%20b`); an HTTP API sends `rawPath` decoded
   * (`/a b`); a WebSocket route has its route key here; VPC Lattice's `raw_path` (v1) / `path`
   * (v2) as Lattice sends it. Decode it yourself (`decodeURIComponent` per segment) where you
   * need the text, and compare paths from different sources only after doing so.
   */
  path: string;
  /**
   * Header names in lower case. Repeated headers are joined as HTTP allows: `cookie` with `; `
   * (RFC 6265 §5.4), `set-cookie` never (its first value; all are in `multiHeaders`), any
   * other with `, `.
   */
  headers: Record<string, string>;
  /** Every value of every header, in arrival order (lower-case names). Optional only so that hand-built requests need not set it. */
  multiHeaders?: Record<string, string[]>;
  /** Query parameters; a repeated parameter keeps its last value (all values in `multiQuery`). */
  query: Record<string, string>;
  /** Every value of every query parameter, in order (`?t=a&t=b` → `{ t: ['a', 'b'] }`). */
  multiQuery: Record<string, string[]>;
  /**
   * The body as UTF-8 text (decoded from base64 when the provider sent it so), or undefined.
   * A lossy view of a body that is not UTF-8: read `rawBytes` for exact bytes. A leading byte
   * order mark is kept as the character U+FEFF (on every provider), so the text's UTF-8 is the
   * bytes received.
   */
  rawBody: string | undefined;
  /**
   * The exact bytes of the body as the provider received them (base64 decoded), for
   * signatures over the body and binary uploads; undefined when the body is empty or absent,
   * and for a non-raw OpenWhisk web action whose JSON body the controller already parsed.
   * Every adapter sets it; optional only so that hand-built requests (tests) need not.
   */
  rawBytes?: Buffer | undefined;
  /**
   * The client's IP address when the provider reports it. Where it comes from, and whether the
   * client can write it, per provider:
   * - API Gateway REST / WebSocket (`requestContext.identity.sourceIp`), HTTP API and Function
   *   URLs (`requestContext.http.sourceIp`): the address AWS saw; not client-writable.
   * - ALB: the last `X-Forwarded-For` hop, without a port — the address the ALB appends in its
   *   default `append` mode (the peer it saw: behind CloudFront or another proxy, that proxy);
   *   not client-writable then. With `preserve` the header is the client's own
   *   (client-writable); with `remove` there is none (left out).
   * - OpenWhisk web actions: the last `X-Forwarded-For` hop (the controller reports no address,
   *   and Apache OpenWhisk's edge nginx adds no `X-Forwarded-For`): what a proxy of the
   *   deployment appended, else what the client sent — client-writable unless such a proxy
   *   appends.
   * - Cloud Functions (Express): `req.ip`, which the Functions Framework (`trust proxy` on) takes
   *   from the FIRST `X-Forwarded-For` address; Google's front end keeps what the client sent
   *   before what it adds, so it is client-writable. Read `ctx.raw.req.headers` if you know
   *   your proxies.
   * - Azure Functions HTTP: the last `X-Forwarded-For` hop without its port — App Service's
   *   front ends append the client as `ip:port`; client-writable where nothing appends.
   * Do not base an access decision on a client-writable address.
   */
  sourceIp?: string;
}

/** An HTTP request (API Gateway, Function URL, ALB, Express on GCF, Azure HTTP, OpenWhisk web action). */
export interface HttpTrigger {
  kind: 'http';
  /** Which event shape carried it: `apigw-v1`, `apigw-v2`, `function-url`, `alb`, `apigw-websocket`, `vpc-lattice`, `express`, `azure-http`, `ow-web`, `ow-web-raw`. */
  source: string;
  /** OpenWhisk: the activation's transaction id (`__OW_TRANSACTION_ID`), under which the controller and invoker log it; also on every log line as `transactionId`. Undefined on other providers. */
  transactionId?: string;
  /** The request, normalised. */
  request: HttpRequest;
  /**
   * API Gateway WebSocket APIs: the route event. `request.method` is the event type
   * (`CONNECT`, `MESSAGE`, `DISCONNECT`) and `request.path` the route key (`$connect`, `$default`, `sendMessage`).
   */
  websocket?: { connectionId: string; eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT'; routeKey: string; domainName?: string; stage?: string };
}

/** One queue message (SQS, Pub/Sub, Azure storage queue, Service Bus); a batch runs each message as its own invocation. */
export interface QueueTrigger {
  kind: 'queue';
  /** `sqs`, `pubsub`, `azure-storage-queue`, `azure-service-bus`. */
  source: string;
  /** Queue, topic or subscription the message came from, when known. */
  queue?: string;
  /**
   * The provider's message id, byte-exact. Azure Service Bus: the `MessageId` the sender set —
   * `''` when it set none (optional in AMQP); not unique unless the entity has duplicate
   * detection on, so it is not `ctx.deliveryId` there (the broker's `sequenceNumber` is).
   */
  messageId: string;
  /** How many times this message has been delivered, when the provider says (1 = first). */
  attempt?: number;
  /**
   * The group the message is ordered in, when it has one: an SQS `MessageGroupId` (FIFO queues,
   * and standard queues with fair queuing), a Pub/Sub `orderingKey` (non-empty), a Service Bus
   * `SessionId` (session-enabled queues and subscriptions, byte-exact). Left out otherwise. See
   * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-additional-fifo-queue-recommendations.html,
   * https://cloud.google.com/pubsub/docs/ordering and
   * https://learn.microsoft.com/azure/service-bus-messaging/message-sessions.
   */
  groupId?: string;
  /**
   * Where the message sits in its queue's order, as decimal text (kept as text: beyond
   * `Number.MAX_SAFE_INTEGER`): SQS FIFO — the `SequenceNumber` SQS gave the message (up to 128
   * bits), increasing within a message group; Azure Service Bus — the message's
   * `SequenceNumber` trigger metadata (`SequenceNumberArray` for a batch), a 64-bit integer the
   * broker assigns, unique within the entity (partitioned entities: the partition in the top 16
   * bits). Left out when the provider sends none. See
   * https://learn.microsoft.com/azure/service-bus-messaging/message-sequencing.
   *
   * A Service Bus sequence number counts from 1 in each queue or subscription: it starts over
   * when the entity is recreated, and a geo-DR failover points the alias at another namespace's
   * entity with numbers of its own. `ctx.deliveryId` is therefore
   * `<namespace>/<queue>#<n>` (`<namespace>/<topic>/<subscription>#<n>`; the namespace from the
   * `connection` app settings, left out when they name none), and `@steadyfn/idempotency` keys
   * it with `time` and checks the body, as a Kafka offset.
   */
  sequenceNumber?: string;
  /**
   * Azure Service Bus only: when the broker enqueued the message (`EnqueuedTimeUtc` trigger
   * metadata, `EnqueuedTimeUtcArray` for a batch), ISO 8601 as the host wrote it
   * (`2026-12-01T10:00:00Z`). The same on every redelivery of the message. Left out when the
   * host sends none and on other sources.
   */
  time?: string;
  /**
   * SQS FIFO only: the `MessageDeduplicationId` — the sender's, or the SHA-256 of the body
   * SQS derived with content-based deduplication.
   */
  deduplicationId?: string;
  /**
   * Message attributes or properties whose value is text, exactly as sent: SQS and SNS
   * `String` and `Number` attributes (a number stays its decimal text, never a JS number),
   * Pub/Sub attributes, Service Bus application properties (numbers and booleans as their
   * JSON text). Binary values are in `binaryAttributes`.
   */
  attributes: Record<string, string>;
  /**
   * Attributes whose value is bytes, decoded: SQS and SNS `Binary` attributes (and custom
   * labels such as `Binary.gif`), Kafka headers that are not UTF-8. Never also in
   * `attributes`. Left out when the message has none.
   */
  binaryAttributes?: Record<string, Buffer>;
  /**
   * The data type the sender declared for each attribute, by name, where the provider carries
   * one (SQS `dataType`, SNS `Type`): `String`, `Number`, `Binary`, `String.Array` (SNS) or a
   * custom label (`Number.float`, `Binary.gif`). Left out when the provider declares no types
   * or the message has no attributes.
   */
  attributeTypes?: Record<string, string>;
  /**
   * SQS only: the SNS notification this message carries, when an SNS topic delivered it to the
   * queue without raw message delivery (the body was the SNS envelope). The function's input is
   * then the envelope's `Message` (under the `body` option), the SNS `MessageAttributes` are in
   * `attributes` / `binaryAttributes` / `attributeTypes` as with raw delivery, and
   * `ctx.deliveryId` is the SNS message id. Left out for any other message, and with
   * `snsEnvelope: 'keep'`.
   */
  sns?: SnsNotification;
  /**
   * SQS only: the EventBridge event this message's body is, when a rule delivered it to the
   * queue (the whole event, no input transformer). `ctx.deliveryId` is then the event's `id`
   * (a scheduled tick: `<schedule ARN>@<time>`; a replay: scoped by `replayName`), the same for
   * every copy EventBridge's retries send; the input is still the body as it is. Left out for
   * any other message, and with `eventBridgeEnvelope: 'keep'`.
   */
  eventBridge?: EventBridgeEventRef;
  /**
   * The message's payload exactly as the provider delivered it, before the `body` option read
   * it: text as text (an SQS body, an SNS `Message` — for SNS → SQS the envelope's `Message`,
   * not the envelope), bytes as a `Buffer` (base64-decoded Kinesis, Kafka and Pub/Sub data; a
   * Service Bus or Event Hubs body the host passed as bytes). Only the payload: never the
   * attributes or the per-delivery envelope (receipt handle, attempt count). On Azure, the body
   * from the host's RPC data before `@azure/functions` parses it (a `cardinality: 'many'` batch
   * without `dataType`: each body as Json.NET re-serialised it — see the README). Undefined
   * where the runtime handed over an already-parsed value with nothing earlier to read (the
   * OpenWhisk Kafka feed with `isJSONData`) or the message has none (a Kafka tombstone).
   * `@steadyfn/idempotency` hashes it for `key: 'input'`. Read on first access and not
   * enumerable: it stays out of logs and `JSON.stringify(ctx.trigger)`, and a spread copy of
   * the trigger does not carry it.
   */
  readonly rawBody?: string | Buffer;
  /** Index of this message in the batch it arrived in. */
  batchIndex: number;
  /** How many messages arrived in that batch. */
  batchSize: number;
}

/** The identity of the EventBridge event an SQS message's body is (a rule with the queue as target). */
export interface EventBridgeEventRef {
  /** The event `id`: the same on every retry of the delivery to the queue. */
  id: string;
  /** The event `source` (`com.example.checkout`, `aws.events`). */
  source: string;
  /** The event `detail-type`. */
  detailType: string;
  /** The event `time` (ISO 8601 UTC). */
  time: string;
  /** `replay-name`: the archive replay that sent the event again, when one did. */
  replayName?: string;
}

/** The SNS notification an SQS message carried in its body (SNS → SQS without raw message delivery). */
export interface SnsNotification {
  /** The topic's ARN (`TopicArn`). */
  topic: string;
  /** The SNS message id (`MessageId`): the same in every queue the topic fans it out to, and on SNS's redeliveries. */
  messageId: string;
  /** `Subject`, when the publisher set one. */
  subject?: string;
  /** When SNS accepted the message (`Timestamp`, ISO 8601 UTC). */
  time: string;
  /** `SequenceNumber`, from a FIFO topic. */
  sequenceNumber?: string;
}

/**
 * A schedule tick (EventBridge rule or Scheduler, Cloud Scheduler through an HTTP target or as a
 * `google.cloud.scheduler.job.v1.executed` CloudEvent, Azure timer, OpenWhisk alarm).
 */
export interface ScheduleTrigger {
  kind: 'schedule';
  /** `eventbridge`, `eventbridge-scheduler`, `cloud-scheduler` (HTTP target or CloudEvent), `azure-timer`, `ow-alarm`. */
  source: string;
  /** OpenWhisk: the activation's transaction id (`__OW_TRANSACTION_ID`), under which the controller and invoker log it; also on every log line as `transactionId`. Undefined on other providers. */
  transactionId?: string;
  /**
   * The time the schedule fired for (ISO 8601, as the provider wrote it), when the provider
   * says: the EventBridge event `time`; Cloud Scheduler's `X-CloudScheduler-ScheduleTime` header
   * (HTTP target, with `gcpSchedulerHttp`) or the CloudEvent `time`; the Azure occurrence being run
   * (`scheduleStatus.next`). OpenWhisk alarms carry none.
   */
  scheduledTime?: string;
  /**
   * Rule, job or schedule name/ARN when known: the EventBridge rule or Scheduler schedule ARN
   * (`resources[0]`); Cloud Scheduler's `X-CloudScheduler-JobName` header (HTTP target, with `gcpSchedulerHttp`), or for
   * the CloudEvent the job's resource name from its `source`
   * (`//cloudscheduler.googleapis.com/projects/<p>/locations/<l>/jobs/<job>` →
   * `projects/<p>/locations/<l>/jobs/<job>`); the Azure function's name; the OpenWhisk
   * `__steadyfn_schedule` mark.
   */
  schedule?: string;
  /**
   * EventBridge only: the archive replay that sent this scheduled rule's tick again (the event's
   * `replay-name`), when one did — `ctx.deliveryId` is then
   * `replay/<replayName>#<rule ARN>@<time>`. Left out for a live tick and on other providers.
   */
  replayName?: string;
  /**
   * The schedule's cron expression, when the provider tells the function: the Azure timer
   * binding's `schedule` (an NCRONTAB expression, six fields from seconds, e.g.
   * `0 0 3 * * *`; a `%Setting%` name is read as that app setting's value). Left out when
   * that `schedule` is a TimeSpan (`00:05:00`) or names a setting that is not set, and on the other
   * providers: EventBridge sends the rule's ARN, Cloud Scheduler the job's name, OpenWhisk
   * alarms nothing. Written as the span's `faas.cron`.
   */
  cron?: string;
  /**
   * Azure timer: the host's `isPastDue` — `true` when this run started later than its
   * occurrence (the app was down or busy, or it is the catch-up run after a restart), else
   * `false`. Left out on the other providers: EventBridge, Cloud Scheduler and OpenWhisk alarms
   * do not say whether a tick is late (read `scheduledTime` against the clock there). See
   * https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer#usage.
   */
  pastDue?: boolean;
  /**
   * Azure timer: the schedule monitor's status as the host sent it (`scheduleStatus`), when the
   * monitor is on (`useMonitor`, the default for schedules longer than a minute) and the host
   * sent one; left out otherwise, and on the other providers.
   */
  scheduleStatus?: TimerScheduleStatus;
}

/**
 * An Azure timer's schedule status (the Node.js programming model's `TimerScheduleStatus`):
 * times as the host wrote them (ISO 8601 with offset). A field the host left out or sent as
 * something other than text is left out.
 */
export interface TimerScheduleStatus {
  /** The last occurrence recorded as run. */
  last?: string;
  /** The next occurrence: while a tick runs, the occurrence being run (also `scheduledTime`). */
  next?: string;
  /** When the monitor last updated this status. */
  lastUpdated?: string;
}

/** A CloudEvent or EventBridge event of a type the wrapper has no richer trigger for. */
export interface EventTrigger {
  kind: 'event';
  /** `cloudevent`, `eventbridge`, … */
  source: string;
  /** The event type (CloudEvents `type`, EventBridge `detail-type`). */
  type: string;
  /** Who emitted it (CloudEvents `source`, EventBridge `source`). */
  eventSource: string;
  /** The event id, byte-exact. */
  id: string;
  /** CloudEvents `subject`, when present. */
  subject?: string;
  /** When it happened (ISO 8601), when the event says. */
  time?: string;
  /**
   * EventBridge only: the archive replay that sent the event again (its `replay-name`), when one
   * did — `ctx.deliveryId` is then `replay/<replayName>#<id>`, so the replay runs again instead
   * of being answered as a duplicate. Left out for a live event and on other sources. The same
   * as `trigger.eventBridge.replayName` when the event came as an SQS body.
   */
  replayName?: string;
}

/** Where a record sits in the batch it arrived in. */
interface InBatch {
  /** Index of this record in the batch it arrived in (0-based). */
  batchIndex: number;
  batchSize: number;
}

/**
 * A database row or document changed: DynamoDB Streams, Amazon DocumentDB change streams, Azure Cosmos DB change feed,
 * Firestore and Firebase Realtime Database (CloudEvents), CouchDB/Cloudant changes feed.
 * `input` is the record after the change; for a delete, the record as it was when the source
 * says (else its key).
 */
export interface ChangeTrigger extends InBatch {
  kind: 'change';
  /** `dynamodb-streams`, `documentdb`, `cosmosdb`, `firestore`, `firebase-rtdb`, `couchdb`. */
  source: string;
  /** OpenWhisk: the activation's transaction id (`__OW_TRANSACTION_ID`), under which the controller and invoker log it; also on every log line as `transactionId`. Undefined on other providers. */
  transactionId?: string;
  /** Table, container, collection path or database the record belongs to. */
  collection: string;
  /**
   * What happened. `upsert` where the source cannot tell a new record from a changed one
   * (Cosmos DB latest-version change feed). Amazon DocumentDB change streams also report
   * changes to a collection or database, named as the change event names them: `drop` (the
   * collection was dropped), `rename` (the collection was renamed; the new name is `to` in
   * `input`, the change event), `dropDatabase`, and `invalidate` (the change stream can no
   * longer be read from where it was). Those have no `key`.
   */
  op: 'insert' | 'update' | 'upsert' | 'delete' | 'drop' | 'rename' | 'dropDatabase' | 'invalidate';
  /**
   * The record's key: DynamoDB key attributes as an object; a document id or path otherwise.
   * Left out for a change to a collection or database (`op` `drop`, `rename`, `dropDatabase`,
   * `invalidate`), which names no record.
   */
  key?: string | Record<string, unknown>;
  /** The source's position of this change (stream sequence number, `_lsn`, CouchDB `seq`), byte-exact; undefined when it has none. */
  sequence: string | undefined;
  /** The record before the change, when the source sends it (DynamoDB `OLD_IMAGE`/`NEW_AND_OLD_IMAGES`, Firestore `oldValue`, Realtime Database `data`, Cosmos DB all-versions mode). */
  before?: unknown;
  /** When the change happened (ISO 8601), when the source says. */
  time?: string;
  /**
   * `true` when the source itself deleted the record because its time to live ran out, not a
   * client: a DynamoDB Streams `REMOVE` whose `userIdentity` is `{ type: 'Service',
   * principalId: 'dynamodb.amazonaws.com' }` (DynamoDB docs, "DynamoDB Streams and Time to
   * Live"), a Cosmos DB all-versions-and-deletes delete with `metadata.timeToLiveExpired: true`.
   * Left out otherwise, also where the source does not say: Firestore TTL deletes, the Cosmos DB
   * latest-version feed (which has no deletes), and a DynamoDB global table's replicated TTL
   * deletes (AWS identifies them only in the Region where the item expired).
   */
  expired?: true;
  /**
   * Firestore `….withAuthContext` events only: who made the change, from the event's `authtype`
   * and `authid` extension attributes — `type` is `app_user`, `admin`, `service_account`,
   * `api_key`, `unauthenticated`, `system` or `unknown`; `id` the principal (a Firebase user id,
   * a service account email…), left out when the event carries none. Left out for other events.
   * @see https://firebase.google.com/docs/functions/firestore-events#auth-context
   */
  auth?: { type: string; id?: string };
  /** Firestore: `protobuf` when the event carries the document as protobuf bytes (then `input` is a `Buffer`: decode it with `@google-cloud/firestore`'s types, or switch the trigger to JSON). */
  encoding?: 'json' | 'protobuf';
}

/** An object was created, deleted or changed in a bucket or blob container. `input` is a {@link StorageObject}. */
export interface StorageTrigger extends InBatch {
  kind: 'storage';
  /** `s3`, `azure-blob`, `azure-event-grid`, `cloud-storage`. */
  source: string;
  /** How an S3 notification reached the function when not directly: `sns`, `sqs`, `eventbridge`, `sns-sqs`. */
  via?: string;
  /**
   * S3 through EventBridge only: the archive replay that sent the event again (its
   * `replay-name`), when one did — `ctx.deliveryId` is then `replay/<replayName>#<bucket/key@sequencer>`,
   * so the replay runs again instead of being answered as a duplicate of the live event. Left
   * out for a live event and on other sources; the same directly and through SQS.
   */
  replayName?: string;
  /** What happened to the object's version in the event: see {@link StorageObject.op}. */
  op: StorageObject['op'];
  /** Cloud Storage `archived` only: see {@link StorageObject.noncurrent}. Left out otherwise. */
  noncurrent?: true;
  /** The provider's own event name: `ObjectCreated:Put`, `Microsoft.Storage.BlobCreated`, `google.cloud.storage.object.v1.finalized`. */
  eventType: string;
  bucket: string;
  /** The object key, decoded (S3 keys arrive form-encoded: `+` is a space). */
  key: string;
  /** Bytes, when the event says (Azure blob trigger: else the byte length of `content`); absent otherwise. */
  size?: number;
  etag?: string;
  contentType?: string;
  /**
   * Azure Blob trigger: the blob's content, read by the host. Under `dataType: 'string'` the host
   * reads the blob as text (.NET `new StreamReader(stream)`: UTF-8, or UTF-16 / UTF-32 when the
   * blob starts with their byte order mark; the mark dropped, a UTF-8 one too; each invalid UTF-8
   * sequence U+FFFD) and this is that text's UTF-8: the blob's bytes only when they were valid
   * UTF-8 without a byte order mark. Leave `dataType` unset or `'binary'` for exact bytes.
   *
   * Without an ETag, version id or content MD5 (Storage extension 5.x, a blob uploaded in blocks)
   * the delivery id names the version by a SHA-256 of this content (a host retry keeps it). Under
   * `dataType: 'string'` two writes of one blob within one second, of one size, whose bytes the
   * host decodes to the same text (Latin-1 `café` and `cafè`: both non-UTF-8 bytes become U+FFFD)
   * therefore share one delivery id, and `@steadyfn/idempotency` skips the second; `'binary'`
   * hashes the exact bytes.
   */
  content?: Buffer;
}

/** The object a storage event is about: the same shape from S3, Azure Blob and Cloud Storage. */
export interface StorageObject {
  /**
   * What happened, to the version the event names (`versionId`) — a `deleted` does not always
   * mean the key is gone:
   * - Cloud Storage `deleted`: that generation was permanently deleted. In a bucket without
   *   versioning this also fires for the old generation when the object is **overwritten**,
   *   next to a `finalized` (`created`) for the new one.
   * - Cloud Storage `archived` (`noncurrent: true`): in a versioned bucket, that generation
   *   stopped being live because the object was deleted **or overwritten**.
   * - S3 `ObjectRemoved:*` / `LifecycleExpiration:*`: a delete, a delete marker
   *   (`DeleteMarkerCreated`: the key has no live version), or a version deleted or expired by
   *   its id — a noncurrent one too, which S3's event does not tell apart.
   *
   * Before dropping what you keep for `bucket`/`key` on `deleted`, compare `versionId` with the
   * live object's (Cloud Storage: its `generation`; a `created` with a later one may already
   * have arrived, in any order).
   */
  op: 'created' | 'deleted' | 'updated';
  bucket: string;
  key: string;
  /** Bytes, when the event says. */
  size?: number;
  etag?: string;
  contentType?: string;
  /** S3 `versionId`, Cloud Storage `generation` (every Cloud Storage event carries it), Azure blob trigger `versionId` (an account with blob versioning; Event Grid blob events carry none). */
  versionId?: string;
  /**
   * `true` for a Cloud Storage `archived` event (`op: 'deleted'`): the generation `versionId`
   * became noncurrent in a versioned bucket — the object was deleted or overwritten, so the key
   * may still have a live generation. Left out for every other event, on every provider.
   */
  noncurrent?: true;
  /** Event time (ISO 8601), when the event says. */
  time?: string;
}

/** One record of an ordered stream: Kinesis, Kafka (Amazon MSK, self-managed, OpenWhisk feed), Azure Event Hubs. */
export interface StreamTrigger extends InBatch {
  kind: 'stream';
  /** `kinesis`, `kafka` (Amazon MSK and self-managed Kafka on Lambda, and the OpenWhisk Kafka / Message Hub feed), `azure-event-hubs`. */
  source: string;
  /** OpenWhisk: the activation's transaction id (`__OW_TRANSACTION_ID`), under which the controller and invoker log it; also on every log line as `transactionId`. Undefined on other providers. */
  transactionId?: string;
  /** Stream name (Kinesis: from `eventSourceARN`; an ARN without `stream/<name>` kept whole), topic or event hub. */
  stream: string;
  /** Shard id or partition, as text. */
  partition: string;
  /** Sequence number or offset, byte-exact. */
  sequence: string;
  /**
   * Kinesis records aggregated by the KPL (de-aggregated with `kinesisDeaggregate`): the user
   * record's position inside the aggregated record, from `'0'`. Its `sequence` is the
   * aggregated record's, shared by every user record in it.
   */
  subSequence?: string;
  /** Partition key / message key, when the record has one (a binary Kafka key as base64). */
  key?: string;
  /** Record time (ISO 8601), when the source says. */
  time?: string;
  /**
   * Record headers / properties whose value is text: Kafka headers that are UTF-8 (a repeated
   * name joined with `, `; every value apart in `headers`), Event Hubs properties (numbers and
   * booleans as their JSON text). Kafka headers that are not UTF-8 are in `binaryAttributes`.
   */
  attributes: Record<string, string>;
  /**
   * Attributes whose value is bytes, decoded: SQS and SNS `Binary` attributes (and custom
   * labels such as `Binary.gif`), Kafka headers that are not UTF-8. Never also in
   * `attributes`. Left out when the message has none.
   */
  binaryAttributes?: Record<string, Buffer>;
  /**
   * The data type the sender declared for each attribute, by name, where the provider carries
   * one (SQS `dataType`, SNS `Type`): `String`, `Number`, `Binary`, `String.Array` (SNS) or a
   * custom label (`Number.float`, `Binary.gif`). Left out when the provider declares no types
   * or the message has no attributes.
   */
  attributeTypes?: Record<string, string>;
  /**
   * The message's payload exactly as the provider delivered it, before the `body` option read
   * it: text as text (an SQS body, an SNS `Message` — for SNS → SQS the envelope's `Message`,
   * not the envelope), bytes as a `Buffer` (base64-decoded Kinesis, Kafka and Pub/Sub data; a
   * Service Bus or Event Hubs body the host passed as bytes). Only the payload: never the
   * attributes or the per-delivery envelope (receipt handle, attempt count). On Azure, the body
   * from the host's RPC data before `@azure/functions` parses it (a `cardinality: 'many'` batch
   * without `dataType`: each body as Json.NET re-serialised it — see the README). Undefined
   * where the runtime handed over an already-parsed value with nothing earlier to read (the
   * OpenWhisk Kafka feed with `isJSONData`) or the message has none (a Kafka tombstone).
   * `@steadyfn/idempotency` hashes it for `key: 'input'`. Read on first access and not
   * enumerable: it stays out of logs and `JSON.stringify(ctx.trigger)`, and a spread copy of
   * the trigger does not carry it.
   */
  readonly rawBody?: string | Buffer;
  /**
   * Kafka on Lambda (Amazon MSK, self-managed): every record header in the record's order, a
   * repeated key once per value, each value's exact bytes — what Kafka's `Headers` iterates.
   * `attributes` / `binaryAttributes` hold one value per key (UTF-8 repeats joined with `, `; a
   * binary key its last value, as `Headers.lastHeader(key)`). Left out when the record has no
   * headers, and for other streams.
   * @example
   * const hops = (ctx.trigger.headers ?? []).filter((h) => h.key === 'hop').map((h) => h.value.toString('utf8'));
   */
  headers?: Array<{ key: string; value: Buffer }>;
}

/** A pub/sub notification: SNS, Event Grid (Event Grid schema and CloudEvents schema). */
export interface NotificationTrigger extends InBatch {
  kind: 'notification';
  /** `sns`, `event-grid`. */
  source: string;
  /** Topic ARN or Event Grid topic. */
  topic: string;
  messageId: string;
  /** Event type (Event Grid `eventType`, CloudEvents `type`, SNS `Notification`). */
  type: string;
  subject?: string;
  time?: string;
  /**
   * SNS message attributes whose value is text (`String`, `Number` as its exact decimal text,
   * `String.Array` as its JSON text) / CloudEvents extension attributes (Event Grid). SNS
   * `Binary` attributes are in `binaryAttributes`.
   */
  attributes: Record<string, string>;
  /**
   * Attributes whose value is bytes, decoded: SQS and SNS `Binary` attributes (and custom
   * labels such as `Binary.gif`), Kafka headers that are not UTF-8. Never also in
   * `attributes`. Left out when the message has none.
   */
  binaryAttributes?: Record<string, Buffer>;
  /**
   * The data type the sender declared for each attribute, by name, where the provider carries
   * one (SQS `dataType`, SNS `Type`): `String`, `Number`, `Binary`, `String.Array` (SNS) or a
   * custom label (`Number.float`, `Binary.gif`). Left out when the provider declares no types
   * or the message has no attributes.
   */
  attributeTypes?: Record<string, string>;
  /**
   * The message's payload exactly as the provider delivered it, before the `body` option read
   * it: text as text (an SQS body, an SNS `Message` — for SNS → SQS the envelope's `Message`,
   * not the envelope), bytes as a `Buffer` (base64-decoded Kinesis, Kafka and Pub/Sub data; a
   * Service Bus or Event Hubs body the host passed as bytes). Only the payload: never the
   * attributes or the per-delivery envelope (receipt handle, attempt count). On Azure, the body
   * from the host's RPC data before `@azure/functions` parses it (a `cardinality: 'many'` batch
   * without `dataType`: each body as Json.NET re-serialised it — see the README). Undefined
   * where the runtime handed over an already-parsed value with nothing earlier to read (the
   * OpenWhisk Kafka feed with `isJSONData`) or the message has none (a Kafka tombstone).
   * `@steadyfn/idempotency` hashes it for `key: 'input'`. Read on first access and not
   * enumerable: it stays out of logs and `JSON.stringify(ctx.trigger)`, and a spread copy of
   * the trigger does not carry it.
   */
  readonly rawBody?: string | Buffer;
}

/**
 * An API Gateway Lambda authorizer call (REST `TOKEN` and `REQUEST`, HTTP API `REQUEST` v1/v2).
 * Answer with `authorizerPolicy()` / `allow()` / `deny()`, or `authorized()` (HTTP API simple
 * responses); `input` is an {@link AuthorizerRequest}.
 */
export interface AuthorizerTrigger {
  kind: 'authorizer';
  /** `apigw-token`, `apigw-request` (REST or HTTP API payload 1.0), `apigw-request-v2`. */
  source: string;
  /** The ARN being authorized (`methodArn`, or `routeArn` for HTTP APIs). */
  resource: string;
}

/** What an authorizer function receives. */
export interface AuthorizerRequest {
  type: 'TOKEN' | 'REQUEST';
  /** The ARN being authorized (`methodArn` / `routeArn`). */
  resource: string;
  /** TOKEN authorizers: the token header's value. */
  token?: string;
  /** REQUEST authorizers: the identity sources' values, in order. */
  identitySource?: string[];
  method?: string;
  path?: string;
  /**
   * Lower-case header names, read as the HTTP trigger reads them: every header of `headers` and
   * `multiValueHeaders` (REST and WebSocket authorizers list some only in the latter), a repeated
   * one joined with `, `, cookies with `; ` (payload 2.0: the `cookies` array).
   */
  headers: Record<string, string>;
  /**
   * Query parameters, a repeated one keeping its last value (all values in `multiQuery`), as the
   * HTTP trigger gives them: payload 2.0 reads `rawQueryString` (its `queryStringParameters`
   * joins repeated values with commas), REST and payload 1.0 `multiValueQueryStringParameters`.
   */
  query: Record<string, string>;
  /** Every value of each query parameter, in order (`?p=a&p=b` → `{ p: ['a', 'b'] }`). */
  multiQuery: Record<string, string[]>;
  pathParameters: Record<string, string>;
  stageVariables: Record<string, string>;
}

/** A plain call (`main.invoke(input)`, a Lambda direct invoke) or an event the wrapper does not normalise. */
export interface DirectTrigger {
  kind: 'direct';
  /** Where it came from: `direct`, the provider (`aws`, `azure`, `openwhisk`…), or a batch shape run whole (`sqs-batch`). */
  source: string;
  /** OpenWhisk: the activation's transaction id (`__OW_TRANSACTION_ID`), under which the controller and invoker log it; also on every log line as `transactionId`. Undefined on other providers. */
  transactionId?: string;
  /** An event the wrapper did not recognise: the provider shape it looked like (`aws:…` event source, CloudEvent type, Azure trigger type), also logged. */
  unrecognised?: string;
}

/** What started the invocation, normalised across providers: `ctx.trigger`; narrow it on `kind`. */
export type Trigger =
  | HttpTrigger
  | QueueTrigger
  | ScheduleTrigger
  | EventTrigger
  | ChangeTrigger
  | StorageTrigger
  | StreamTrigger
  | NotificationTrigger
  | AuthorizerTrigger
  | DirectTrigger;

/** What each invocation's function and plugins see. */
export interface BaseContext {
  provider: Provider;
  trigger: Trigger;
  /** Name of the deployed function, when the provider says. */
  functionName: string;
  /** This attempt; differs on every retry. */
  requestId: string;
  /**
   * Stable across redeliveries of the same message or event; undefined for plain HTTP. An Azure
   * Blob trigger's names the blob's version, which two writes may share (see `StorageTrigger.content`).
   */
  deliveryId: string | undefined;
  /** Epoch milliseconds at which the provider stops this invocation (`Infinity` when it gives no clock). */
  deadline: number;
  /** Milliseconds left before `deadline`. */
  remainingMs(): number;
  /**
   * Aborted `deadlineMarginMs` before the deadline (reason: `DeadlineExceededError`), or when
   * the caller goes away (Cloud Functions HTTP, reason code `CLIENT_CLOSED_REQUEST`). Every
   * hook and the function share it: pass it to every store or network call.
   */
  signal: AbortSignal;
  /**
   * `true` on this instance's first invocation (its cold start), `false` on every later (warm)
   * one; all messages of the first batch share it. Also on every log line as `coldStart`, the
   * adapter's own lines about the same provider call included. `false` on the first invocation
   * of a Lambda instance that provisioned concurrency initialised ahead of time
   * (`AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency`: it is warm when called, as
   * Powertools for AWS Lambda counts it); a SnapStart restore (`snap-start`) and an on-demand
   * instance are cold.
   */
  coldStart: boolean;
  /**
   * W3C Trace Context `traceparent` (version 00) of the work this invocation does: the one it
   * was called with (HTTP `traceparent` header, message attributes, the CloudEvents extension,
   * or an AWS X-Ray header mapped to W3C — see the README's "Trace context"), else a new trace.
   * The `tracing()` plugin replaces it with its span's context. Put it on everything the
   * invocation sends (outbox events, outgoing messages: `traceAttributes(ctx)`). Setting it to
   * anything but a valid `traceparent` throws `TraceparentInvalidError`.
   * https://www.w3.org/TR/trace-context/#traceparent-header
   */
  traceparent: string;
  /** W3C `tracestate` that came with `traceparent`, passed on unchanged; undefined when none came or it was invalid. */
  tracestate: string | undefined;
  /** The invocation's logger: its lines carry `fn`, `provider`, `requestId`, `deliveryId`, `coldStart`, `trigger` (and on OpenWhisk `transactionId`). */
  log: Logger;
  /**
   * The authenticated caller of an HTTP invocation, or undefined (anonymous, or not HTTP).
   * Read only from what the provider verified — API Gateway authorizers (Lambda `principalId`,
   * Cognito and JWT `sub` with `iss`), IAM (`userArn`, Cognito identity id), Function URLs with
   * IAM auth, an OpenWhisk web action's `__ow_user` — never from a header a client can send,
   * unless `handler({ trustIdentityHeaders })` names the ALB, App Service, Static Web Apps or
   * IAP authentication in front. Carries the verified `claims`, `roles` and `scopes` where the
   * source gives them. `handler({ principal })` replaces it with your own. `@steadyfn/idempotency`
   * scopes HTTP keys by it. See the README's "Who is calling: `ctx.principal`".
   */
  readonly principal: Principal | undefined;
  /** The provider's own arguments, for the rare need the normalised view does not cover. */
  raw: unknown;
  /** Validated input (the same value the function receives); undefined until validation. */
  input: unknown;
}

/** A plugin's contribution to `ctx`, merged in before the function runs. */
export type Context<Added extends object = {}> = BaseContext & Added;

/**
 * Returned by `before`, `after` or `onError` to answer instead of (or in place of) the
 * function's result: a cache hit, a replay, a recovery. On HTTP invocations `answer` is
 * rendered like a function result (an already rendered `HttpResponse` is kept as it is).
 */
export interface EarlyAnswer {
  answer: unknown;
}

/**
 * How an invocation ended. On an HTTP invocation a successful `value` is the rendered
 * `HttpResponse`.
 */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: SteadyError };

/** Where a message of an unordered batch runs, from a plugin's `batchOrder`: its group (e.g. an aggregate) and its place in that group. */
export interface BatchOrder {
  /** Messages with the same group run one after another; different groups run concurrently. Non-empty. */
  group: string;
  /** Order within the group, ascending (e.g. the aggregate's event sequence number). Without it: after those with one, in arrival order. */
  seq?: number;
}

/**
 * Runs the rest of the onion (inner `wrap`s, then the function and, for HTTP, the rendering
 * of its result) and resolves to that result — on HTTP the rendered `HttpResponse`, also when
 * an inner `wrap` returned another value (rendered then, and rejecting with
 * `INVALID_HTTP_RESULT` when it cannot be sent). It may be called more than once — each call runs
 * the function again with the same ctx (e.g. MongoDB `withTransaction` retrying its callback);
 * it rejects with whatever the function threw, as thrown, or with `DEADLINE_EXCEEDED`.
 */
export type Next = () => Promise<unknown>;

/**
 * The one plugin shape (middy / Hono style). `Added` is what `extend` puts on `ctx`; `State`
 * is the plugin's private per-invocation slot, made by `state()` and passed to every hook.
 *
 * Order for one invocation:
 *
 *   extend (in order) → validation → before (in order) → wrap (outermost first) → function
 *   → render (HTTP) → wrap unwinds → after (reverse) → onError (reverse) → finally (reverse)
 *
 * An `onError` that recovers sends its answer out through the `after` of the plugins before
 * it (see `onError`).
 *
 * Every hook up to and including `after` runs under the invocation's deadline: nothing new
 * starts once `deadline − deadlineMarginMs` has passed, and a hook still running then is
 * abandoned and the invocation answers `DEADLINE_EXCEEDED`. `onError`, `finally` and
 * `afterBatch` still run after that, each cut off at `deadline − deadlineMarginMs / 2`.
 *
 * @example
 * const timing: Plugin<{}, { startedAt: number }> = {
 *   name: 'timing',
 *   state: () => ({ startedAt: Date.now() }),
 *   finally: (ctx, _outcome, state) => ctx.log.info('done', { ms: Date.now() - state.startedAt }),
 * };
 */
export interface Plugin<Added extends object = {}, State = undefined> {
  /** Names the plugin in logs. */
  name: string;
  /**
   * Makes this plugin's state for one invocation (each message of a batch gets its own),
   * before any hook runs. Hooks receive it as their last argument. Keep it small: it is made
   * on every invocation.
   */
  state?(): State;
  /**
   * Adds typed members to `ctx` (e.g. `ctx.redis`). Runs first, before validation and before `beforeBatch`.
   * @throws ConfigurationError (`CONFIG_INVALID`, field `use.<name>.extend`), raised by the handler when
   *   the members name one every ctx has (`log`, `signal`, …) or one an earlier plugin added.
   */
  extend?(ctx: Context, state: State): Added | Promise<Added>;
  /** Before the function, after validation; return `{ answer }` to answer without calling it. */
  before?(ctx: Context<Added>, state: State): void | EarlyAnswer | Promise<void | EarlyAnswer>;
  /**
   * Around the function: call `next()` to run it (and inner `wrap`s) and return what it
   * resolves to, or another value to replace it. Not calling `next` answers without the function.
   * `next()` works only while this `wrap` runs: called after it settled or after the invocation
   * ended, it rejects with `WRAP_NEXT_AFTER_END` (`ConfigurationError`) and the function does not run.
   */
  wrap?(ctx: Context<Added>, next: Next, state: State): Promise<unknown>;
  /**
   * After the function succeeded (with the rendered response for HTTP), or with the answer an
   * inner plugin's `onError` recovered with (`recoveredFrom(ctx)` then names the error); return
   * `{ answer }` to replace the result.
   */
  after?(ctx: Context<Added>, result: unknown, state: State): void | EarlyAnswer | Promise<void | EarlyAnswer>;
  /**
   * After the function (or a hook) failed, innermost plugin first; return `{ answer }` to recover
   * — except for a message an ordered batch did not run (`NOT_PROCESSED`), whose answer is
   * ignored so the queue redelivers it.
   *
   * Onion (Hono/Koa) semantics: once this plugin recovers, the plugins before it in `use` get no
   * `onError`; the answer flows outward through their `after` instead (as an early answer from
   * `before` does), so they see it and may decorate or replace it (CORS headers), and
   * `recoveredFrom(ctx)` tells them it is a recovery, not the function's result (idempotency
   * releases its record then, rather than storing it). An `after` that throws there fails the
   * invocation again: `onError` runs for its plugin and those before it. Every plugin's `finally`
   * runs with the final outcome. Each of these hooks is cut off at the cleanup bound.
   *
   * A throw replaces the error, under `handler()` and `toMiddy()` alike, as in an onion (Hono's
   * and Koa's compose, middy's `request.error`): the plugins before it receive the replacement
   * here, and the invocation ends with it unless one of them recovers. It is logged (`warn`,
   * `plugin onError hook replaced the error`) with the plugin and both codes, never a message or
   * a stack. Replace only what you mean to: the plugins before it act on the replacement (an
   * idempotency plugin keeps its record for a `DEADLINE_EXCEEDED` only when it sees one).
   *
   * middy differs: its `onError` middlewares all run in reverse until one returns a value (or
   * sets `request.earlyResponse`), which ends the chain — outer middlewares then get neither
   * `onError` nor `after` (middyjs/middy#671); one that only sets `request.response` lets the rest
   * run as error handlers. Under middy, `toMiddy()` gives steadyfn plugins the semantics above,
   * an `after` that throws on a recovered answer included (middy/recover.ts); a failure no
   * steadyfn `onError` recovers from goes on down middy's own `onError` chain.
   */
  onError?(ctx: Context<Added>, error: SteadyError, state: State): void | EarlyAnswer | Promise<void | EarlyAnswer>;
  /** Always, last; cannot change the outcome. A throw here is logged, not raised. */
  finally?(ctx: Context<Added>, outcome: Outcome, state: State): void | Promise<void>;
  /**
   * Once per batch (SQS, Kafka feed, Service Bus), after every message's `extend` and
   * validation and before any message runs: one store round trip for the whole batch instead
   * of one per message. `states[i]` is this plugin's state for `ctxs[i]`; each `ctx.input` is
   * validated (undefined for a message that failed validation). A throw fails every message
   * of the batch; their `onError`, `finally` and every plugin's `afterBatch` still run.
   */
  beforeBatch?(ctxs: ReadonlyArray<Context<Added>>, states: ReadonlyArray<State>): void | Promise<void>;
  /**
   * Per message of an unordered batch (a standard SQS queue, an SNS or S3 record batch, a
   * Service Bus batch without sessions — not FIFO queues, Service Bus sessions or streams, which run in order already), after `extend`, validation
   * and `beforeBatch`: names the ordering group the message belongs to (an aggregate) and its
   * place in it. Messages of one group run one after another in ascending `seq` (those without
   * `seq` after them, in arrival order); different groups, and messages without a group, run
   * concurrently. When a message fails, the later messages of its group are not run and fail
   * with the retryable `NOT_PROCESSED` (their `onError` and `finally` still run; an `onError`
   * answer does not recover them), so the queue
   * redelivers them — the same rule as a FIFO batch, per group. The first plugin (in `use`
   * order) that returns a group decides; `undefined` leaves the decision to the next plugin. A
   * throw, or an answer that is not `{ group: non-empty string, seq?: finite number }`, is
   * logged (`warn`) and the message runs on its own. Runs under the deadline; skipped for a
   * message whose `extend` or validation failed.
   *
   * @example
   * // Events of one account run in seq order within a batch; accounts run side by side.
   * const perAccount: Plugin = {
   *   name: 'per-account',
   *   batchOrder: (ctx) => {
   *     const body = ctx.input as { accountId: string; seq: number };
   *     return { group: body.accountId, seq: body.seq };
   *   },
   * };
   */
  batchOrder?(ctx: Context<Added>, state: State): BatchOrder | undefined | Promise<BatchOrder | undefined>;
  /** Once per batch, after every message has settled; plugins in reverse order. */
  afterBatch?(ctxs: ReadonlyArray<Context<Added>>, outcomes: ReadonlyArray<Outcome>, states: ReadonlyArray<State>): void | Promise<void>;
}

/**
 * A zod schema of one trigger's input, from `@steadyfn/handler/schemas` (`storageObject()`,
 * `changeRecord(schema)`, …). Inside an invocation it also refuses every trigger but `K`, and
 * `handler({ input })` types `ctx.trigger` as that trigger. `T` is the validated input.
 */
export type TriggerSchema<T, K extends TriggerKind> = ZodType<T, unknown> & {
  /** Type-level only (not present at runtime): the trigger kind the schema requires. Kept by `.refine()`, which returns the same type. */
  readonly '~steadyfnTrigger': K;
};

/** A schema the wrapper can validate with: any zod schema. */
export interface InputSchema<T = unknown> {
  safeParseAsync(input: unknown): Promise<
    | { success: true; data: T }
    | { success: false; error: { issues: ReadonlyArray<ZodLikeIssue> } }
  >;
}

export type { ZodLikeIssue } from './internal/issues.js';

export type { FieldIssue };
