/**
 * The small interfaces the relay works through: a store of pending events, a lease per
 * aggregate, and a sender to SQS. Each store (Redis, MongoDB embedded, MongoDB collection)
 * implements `RelayStore`; `@steadyfn/lease` provides the lease; the SQS sender
 * (`src/sqs/`) the sender.
 */

/** One pending event as the relay reads it. */
export interface StoredEvent {
  /** The store's handle for it (a stream entry id, a document id). */
  ref: string;
  /** Event id (UUIDv7). */
  id: string;
  /** `aggregateType/aggregateId`. */
  aggregate: string;
  /** The aggregate id alone (the FIFO message group). */
  aggregateId: string;
  type: string;
  seq: number;
  /** The envelope as JSON text: the message body. */
  body: string;
  /** Epoch ms the event was committed (store clock where it has one). */
  committedAt: number;
  /** Relay attempts begun, this one included. */
  started: number;
  /** Relay attempts that ended with an answer from SQS (a refusal); crashes leave `started` ahead. */
  finished: number;
}

/** Where an aggregate's events live in a store (a partition, a collection). */
export interface AggregateRef {
  /** The store's locator of the aggregate's events (a Redis partition tag, a collection name). */
  where: string;
  /** `aggregateType/aggregateId` (embedded mode: the document id as text). */
  aggregate: string;
  /** Epoch ms of its oldest pending event. */
  since: number;
}

/** What `begin` read for one aggregate. */
export interface AggregateHead {
  /** The aggregate is quarantined: nothing may be sent until a redrive. */
  quarantined: boolean;
  /** Its first pending events in seq order (each counted as one more started attempt). */
  events: StoredEvent[];
}

/** The relay lease an operation is done under (from `@steadyfn/lease`). */
export interface HeldLease {
  key: string;
  owner: string;
  fence: number;
}

/**
 * A store of pending events, as the relay needs it. Every write is conditional: `settle`
 * removes exactly the events given, by (ref, seq), and only while `lease` is still held
 * where the store can check it atomically.
 */
export interface RelayStore {
  /** Short name for logs and metrics: `redis`, `mongo-embedded`, `mongo-collection`. */
  readonly kind: string;
  /** The lease key of an aggregate: in the same slot / database as its events. */
  leaseKey(ref: AggregateRef): string;
  /** Aggregates with pending events committed before `before` (epoch ms), oldest first, at most `limit`. */
  listPending(options: { limit: number; before: number; signal?: AbortSignal | undefined }): Promise<AggregateRef[]>;
  /** Reads up to `limit` head events in seq order and counts one more started attempt on each. */
  begin(ref: AggregateRef, options: { limit: number; lease: HeldLease; signal?: AbortSignal | undefined }): Promise<AggregateHead>;
  /**
   * After SQS answered: removes (or marks sent) the accepted events, each only if it is
   * still the pending event with that seq; counts one finished attempt on each refused one.
   * Returns how many were marked.
   */
  settle(ref: AggregateRef, result: { sent: ReadonlyArray<StoredEvent>; refused: ReadonlyArray<StoredEvent>; lease: HeldLease; signal?: AbortSignal | undefined }): Promise<number>;
  /** Holds the aggregate from `fromSeq` on: no event of it is sent until `redrive`. */
  quarantine(ref: AggregateRef, entry: { fromSeq: number; reason: string; lease: HeldLease; signal?: AbortSignal | undefined }): Promise<void>;
  /** Releases a quarantined aggregate and resets its attempt counts; true if it was quarantined. */
  redrive(ref: AggregateRef, options?: { signal?: AbortSignal | undefined }): Promise<boolean>;
  /** Quarantined aggregates (at most `limit`). */
  listQuarantined(options: { limit: number; signal?: AbortSignal | undefined }): Promise<Array<AggregateRef & { fromSeq: number; reason: string }>>;
  /** With `mark: 'sent'`: deletes up to `limit` events sent more than `olderThanMs` ago. Returns how many. */
  cleanup?(options: { limit: number; olderThanMs: number; signal?: AbortSignal | undefined }): Promise<number>;
  /**
   * True when `settle` also releases the lease in the same atomic step (and marks nothing
   * if the lease is no longer the caller's): the Redis store with `@steadyfn/lease`'s settle
   * fragment. Otherwise the relay releases the lease itself after `settle`.
   */
  readonly settleReleasesLease?: boolean;
  /** The same store, settling through `lease`'s script fragment where it can (Redis). */
  withLease?(lease: LeaseClient): RelayStore;
}

/** The lease primitive as the relay uses it: the shape of `@steadyfn/lease`'s `LeaseStore`. */
export interface LeaseClient {
  claim(request: { key: string; owner: string; leaseMs: number }, options?: { signal?: AbortSignal }): Promise<{ claimed: true; fence: number } | { claimed: false }>;
  settle(request: { key: string; owner: string; fence: number }, options?: { signal?: AbortSignal }): Promise<boolean>;
  /** Redis lease stores: Lua defining `steadyfn_lease_settle(key, owner, fence, mode, data, keepMs)`. */
  readonly settleFragment?: { source: string };
  /** Redis lease stores: the Redis key and the five arguments of `steadyfn_lease_settle` for a request. */
  settleCall?(request: { key: string; owner: string; fence: number }): { key: string; args: ReadonlyArray<string | number> };
}

/**
 * One SQS message the relay asks the sender to send: the shape `sqsSender` (src/sqs) takes.
 * `groupKey` is the aggregate id; the sender makes the FIFO `MessageGroupId` from it (hashed
 * when SQS would refuse it) and uses `id` as the `MessageDeduplicationId`.
 */
export interface OutboundMessage {
  /** The event id; unique within one `send` call. */
  id: string;
  groupKey?: string;
  body: string;
  attributes?: Readonly<Record<string, string>>;
}

/** What `send` reports (the fields of `sqsSender`'s report the relay reads). */
export interface SendReport {
  sent: ReadonlyArray<{ id: string }>;
  failed: ReadonlyArray<{ id: string; code: string; senderFault: boolean; retryable: boolean }>;
  /** `SendMessageBatch` calls made, retries and splits included. */
  batches: number;
  /** How full the calls were, 0-1: entries / (calls × 10) and bytes / (calls × the batch byte limit). */
  fill: { entries: number; bytes: number };
  /** Calls repeated after a retryable failure. */
  retries: number;
}

/** Sends messages to one queue, batched byte-exact: `sqsSender(...)` from src/sqs satisfies it. */
export interface Sender {
  /** Whether the queue is FIFO. */
  readonly fifo: boolean;
  send(messages: ReadonlyArray<OutboundMessage>, options?: { signal?: AbortSignal }): Promise<SendReport>;
}
