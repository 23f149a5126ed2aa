/**
 * `@steadyfn/handler/schemas`: zod schemas of what the wrapper hands a function for one kind
 * of trigger, for `handler({ input })`. Each one types the input and `ctx.trigger`, validates
 * the input, and refuses an invocation of any other trigger with a `ValidationError` — an SQS
 * message or an HTTP request whose body merely looks like an upload never runs a function
 * written for uploads.
 *
 * Its own entry because it loads zod (a peer dependency) when imported; the provider entries
 * never import it.
 *
 * @example
 * import { handler } from '@steadyfn/handler';
 * import { storageObject } from '@steadyfn/handler/schemas';
 *
 * export const thumbnails = handler({ input: storageObject() }, async (upload, ctx) => {
 *   ctx.trigger.eventType; // ctx.trigger is a StorageTrigger
 *   return upload.key;
 * });
 *
 * @packageDocumentation
 */
import { z, type ZodType, type output } from 'zod';
import { currentContext } from './context.js';
import type { AuthorizerRequest, StorageObject, Trigger, TriggerKind, TriggerSchema } from './types.js';

export type { TriggerSchema } from './types.js';


/** How an issue names each trigger kind: what the schema expected, and what came instead. */
const KIND_NAMES: Record<TriggerKind, string> = {
  http: 'an HTTP request',
  queue: 'a queue message',
  schedule: 'a schedule tick',
  event: 'an event',
  change: 'a change record',
  storage: 'a storage event',
  stream: 'a stream record',
  notification: 'a notification',
  authorizer: 'an API Gateway authorizer call',
  direct: 'a plain call',
};

function mismatch(expected: TriggerKind, trigger: Trigger): string {
  const got = trigger.kind === 'direct' && trigger.source === 'direct' ? `${KIND_NAMES.direct} (give main.invoke a \`trigger\` option to test with one)` : `${KIND_NAMES[trigger.kind]} (${trigger.source})`;
  return `Expected ${KIND_NAMES[expected]} trigger; this invocation is ${got}`;
}

/**
 * `schema`, run only when the invocation running now (if any) is a `kind` trigger. Outside an
 * invocation (a unit test parsing a value) only `schema` applies.
 */
function forTrigger<K extends TriggerKind, S extends ZodType>(kind: K, schema: S): TriggerSchema<output<S>, K> {
  const gate = z.unknown().check((payload) => {
    const trigger = currentContext()?.trigger;
    if (trigger === undefined || trigger.kind === kind) return;
    payload.issues.push({ code: 'custom', input: payload.value, message: mismatch(kind, trigger), expected: `${kind} trigger` });
  });
  return gate.pipe(schema) as unknown as TriggerSchema<output<S>, K>;
}

/**
 * A trigger schema around your own schema of the payload (the record, value, message or body):
 * `z.unknown()` when called without one.
 */
export interface PayloadSchema<K extends TriggerKind> {
  (): TriggerSchema<unknown, K>;
  <S extends ZodType>(payload: S): TriggerSchema<output<S>, K>;
}

function payloadSchema<K extends TriggerKind>(kind: K): PayloadSchema<K> {
  return ((payload: ZodType = z.unknown()) => forTrigger(kind, payload)) as PayloadSchema<K>;
}

/** Strings by name: the header, query, path-parameter and stage-variable maps of an authorizer call. */
const stringMap = () => z.record(z.string(), z.string());

/** Fails to compile when the schema's output and the declared interface drift apart. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function exact<T>() {
  return <S extends ZodType>(schema: S & (Same<Required<output<S>>, Required<T>> extends true ? unknown : never)): S => schema;
}

/**
 * The object of a storage event, the same from every provider: S3 (direct, via SNS, SQS or
 * EventBridge), Azure Blob trigger, Event Grid `BlobCreated` / `BlobDeleted` /
 * `BlobTierChanged` events, Cloud Storage (also as a background function). `op` is `created`, `deleted` or `updated`; `bucket` and `key`
 * are non-empty (the key decoded); `size` is a whole number of bytes.
 *
 * Refuses, with a `ValidationError` (`VALIDATION_FAILED`, 400, terminal), any other trigger and
 * any other shape. `ctx.trigger` is a `StorageTrigger` (with `content` on an Azure Blob trigger).
 *
 * @example
 * export const thumbnails = handler({ input: storageObject() }, async (upload, ctx) => {
 *   if (upload.op !== 'created') return;
 *   ctx.log.info('thumbnail', { bucket: upload.bucket, key: upload.key, bytes: upload.size });
 * });
 */
export function storageObject(): TriggerSchema<StorageObject, 'storage'> {
  const shape = exact<StorageObject>()(
    z.object({
      op: z.enum(['created', 'deleted', 'updated']),
      bucket: z.string().min(1),
      key: z.string().min(1),
      size: z.number().int().nonnegative().optional(),
      etag: z.string().optional(),
      contentType: z.string().optional(),
      versionId: z.string().optional(),
      noncurrent: z.literal(true).optional(),
      time: z.string().optional(),
    }),
  );
  return forTrigger('storage', shape) as TriggerSchema<StorageObject, 'storage'>;
}

/**
 * What an API Gateway Lambda authorizer receives (REST `TOKEN` and `REQUEST`, HTTP API
 * payload 1.0 and 2.0), as the wrapper normalises it: `type`, the `resource` (ARN) being
 * authorized, `token` (TOKEN) or `identitySource` (REQUEST), and string maps of headers
 * (lower-case names), query, path parameters and stage variables, and `multiQuery` (every value
 * of each query parameter; `{}` when a hand-built request leaves it out).
 *
 * Refuses any other trigger and any other shape with a `ValidationError`, which an authorizer
 * answers as `Unauthorized` (401). `ctx.trigger` is an `AuthorizerTrigger`.
 *
 * @example
 * export const authorize = handler({ input: authorizerRequest() }, (req) =>
 *   req.token === `Bearer ${process.env.API_TOKEN}` ? allow('service-a') : deny('anonymous'),
 * );
 */
export function authorizerRequest(): TriggerSchema<AuthorizerRequest, 'authorizer'> {
  const shape = exact<AuthorizerRequest>()(
    z.object({
      type: z.enum(['TOKEN', 'REQUEST']),
      resource: z.string().min(1),
      token: z.string().optional(),
      identitySource: z.array(z.string()).optional(),
      method: z.string().optional(),
      path: z.string().optional(),
      headers: stringMap(),
      query: stringMap(),
      // Defaulted: a request built by hand in the shape before `multiQuery` existed still passes.
      multiQuery: z.record(z.string(), z.array(z.string())).default({}),
      pathParameters: stringMap(),
      stageVariables: stringMap(),
    }),
  );
  return forTrigger('authorizer', shape) as TriggerSchema<AuthorizerRequest, 'authorizer'>;
}

/**
 * A changed database record — DynamoDB Streams, Cosmos DB change feed, Firestore, Firebase
 * Realtime Database, CouchDB/Cloudant changes feed — validated by `record` (the record after
 * the change; for a delete, as it was). `ctx.trigger` is a `ChangeTrigger`: `op`, `key`,
 * `collection`, `sequence`, `before`.
 *
 * Refuses any other trigger, and a record `record` refuses, with a `ValidationError`.
 *
 * Takes a zod schema of the record; without one, any record (`z.unknown()`).
 * @example
 * const Order = z.object({ id: z.string(), total: z.number() });
 * export const audit = handler({ input: changeRecord(Order) }, async (order, ctx) => {
 *   ctx.log.info('order changed', { op: ctx.trigger.op, id: order.id });
 * });
 */
export const changeRecord: PayloadSchema<'change'> = payloadSchema('change');

/**
 * One record of an ordered stream — Kinesis, Amazon MSK and self-managed Kafka, Azure Event
 * Hubs, the OpenWhisk Kafka feed — validated by `value` (the record's value as the `body`
 * option gives it: parsed JSON, text, or a `Buffer`). `ctx.trigger` is a `StreamTrigger`:
 * `stream`, `partition`, `sequence`, `key`.
 *
 * Refuses any other trigger, and a value `value` refuses, with a `ValidationError`.
 *
 * Takes a zod schema of the value; without one, any value (`z.unknown()`).
 */
export const streamRecord: PayloadSchema<'stream'> = payloadSchema('stream');

/**
 * A pub/sub notification — SNS, Event Grid (Event Grid and CloudEvents schemas) — validated
 * by `message` (the SNS message / the event's `data`). `ctx.trigger` is a
 * `NotificationTrigger`: `topic`, `type`, `subject`, `attributes` (text), `binaryAttributes`
 * (SNS `Binary` values as bytes), `attributeTypes`.
 *
 * Refuses any other trigger, and a message `message` refuses, with a `ValidationError`.
 *
 * Takes a zod schema of the message; without one, any message (`z.unknown()`).
 */
export const notification: PayloadSchema<'notification'> = payloadSchema('notification');

/**
 * A queue message — SQS, Pub/Sub, Azure storage queue, Service Bus — validated by `body`
 * (the message body as the `body` option gives it). `ctx.trigger` is a `QueueTrigger`:
 * `messageId`, `attempt`, `attributes` (text), `binaryAttributes` (SQS `Binary` values as bytes),
 * `attributeTypes`, `queue`, `sns` (the SNS notification an SQS message carried; then `body`
 * validates its `Message`, see the `snsEnvelope` option).
 *
 * Refuses any other trigger (an HTTP request with the same body, an S3 notification carried
 * by SQS, which is a storage trigger), and a body `body` refuses, with a `ValidationError`.
 *
 * Takes a zod schema of the body; without one, any body (`z.unknown()`).
 */
export const queueMessage: PayloadSchema<'queue'> = payloadSchema('queue');
