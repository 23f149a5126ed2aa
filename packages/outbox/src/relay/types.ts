/**
 * The small interfaces the relay works through: a store of pending events, a lease per
 * aggregate, and a sender to SQS. Each store (Redis, MongoDB embedded, MongoDB collection)
 * implements `RelayStore`; `@steadyfn/lease` provides the lease; the SQS sender
 * (`src/sqs/`) the sender.
 */
import type { LeaseStore, RedisLeaseStore } from '@steadyfn/lease';

/** One pending event as the relay reads it. */
export interface StoredEvent {
  /** The store's handle for it (a stream entry id, a document id). */
  ref: string;
  /** Event id (UUIDv7). */
  id: string;
  /** `aggregateType/aggregateId`. */
  aggregate: string;
  /** The aggregate id alone (the FIFO message group is `aggregate`, which includes the type). */
  aggregateId: string;
  type: string;
  seq: number;
  /** The envelope as JSON text: the message body. */
  body: string;
  /** The envelope's W3C `traceparent`, kept beside it so the relay need not parse the body. */
  traceparent?: string | undefined;
  /** Epoch ms the event was committed (store clock where it has one). */
  committedAt: number;
  /** Relay attempts begun, this one included. */
  started: number;
  /** Relay attempts that ended (SQS refused it, or the send failed without a verdict); crashes leave `started` ahead. */
  finished: number;
  /**
   * Of the finished attempts, those SQS never judged: the whole call failed (network, timeout,
   * throttling, 5xx, queue missing), the send was aborted by the deadline, or the event waited
   * behind a failed one of its group. Not counted toward `maxAttempts`: an outage alone never
   * makes an event poison.
   */
  unjudged: number;
}

/** Where an aggregate's events live in a store (a partition, a collection). */
export interface AggregateRef {
  /** The store's locator of the aggregate's events (a Redis partition tag, a collection name). */
  where: string;
  /** `aggregateType/aggregateId` (embedded mode: the document id as text). */
  aggregate: string;
  /**
   * Epoch ms of its oldest pending event, as `listPending` read it (the sweeper orders by it);
   * 0 where the caller does not know it (a watchdog message, a redrive). Not a quarantine's
   * time: that is `QuarantineRef.quarantinedAt`.
   */
  since: number;
}

/**
 * One quarantine as a redrive names it, as the `outbox aggregate quarantined` warning and
 * `listQuarantined` give it: the aggregate, its `where`, and the quarantine's identity
 * (`fromSeq` and `quarantinedAt`). Only that quarantine is released — never one taken again
 * since the reference was read, even from the same seq.
 *
 * @example { where: 'o-42', aggregate: 'order/o-42', fromSeq: 3, quarantinedAt: 1764586800000 }
 */
export interface QuarantineRef {
  /** The store's locator of the aggregate's events (a Redis partition tag, a collection name). */
  where: string;
  /** `aggregateType/aggregateId`. */
  aggregate: string;
  /** The quarantine's first held seq: the event it was taken on; it and the later ones are held. */
  fromSeq: number;
  /** Epoch ms the quarantine was taken (the store's clock: Redis `TIME`; the relay's on MongoDB). */
  quarantinedAt: number;
}

/** One quarantine as `listQuarantined` gives it: a complete redrive reference, and why it was taken. */
export interface QuarantineEntry extends QuarantineRef {
  /** Why: the poison rule that fired (attempts), or `sender fault: <code>`. */
  reason: string;
}

/**
 * A quarantine entry `listQuarantined` could not read (Redis: its hash field does not hold the
 * relay's JSON `{ fromSeq, reason, at }`; MongoDB: the state document's `q` is not that
 * sub-document), left out of the listing. Says no value of the store.
 *
 * @example { where: 'o-42', aggregate: 'order/o-42', code: 'OUTBOX_QUARANTINE_UNREADABLE', reason: 'the quarantine entry of "order/o-42" in "outbox:{o-42}:quarantine" is not …' }
 */
export interface UnreadableQuarantine {
  /** The partition (Redis hash tag) or the outbox collection (MongoDB). */
  where: string;
  /** The aggregate the entry is for (the hash field; MongoDB: from the document's `_id`). */
  aggregate: string;
  /** Stable code: `OUTBOX_QUARANTINE_UNREADABLE`. */
  code: 'OUTBOX_QUARANTINE_UNREADABLE';
  /** Why: the key and field, and what was expected — never what it holds. */
  reason: string;
}

/**
 * What a store's `redrive` found: released it; the aggregate is not quarantined (already
 * redriven); it is quarantined, but not as the reference says (`fromSeq` / `quarantinedAt` differ:
 * quarantined again since); or no such aggregate was ever at that `where`.
 */
export type RedriveOutcome = 'redriven' | 'not-quarantined' | 'quarantine-changed' | 'unknown';

/** What `begin` read for one aggregate. */
export interface AggregateHead {
  /** The aggregate is quarantined: nothing may be sent until a redrive. */
  quarantined: boolean;
  /** Its first pending events in seq order (each counted as one more started attempt). */
  events: StoredEvent[];
  /** More events wait behind these (the read stopped at its count limit or the round's byte budget). */
  more: boolean;
  /**
   * The aggregate could not be read for a reason of its own partition (Redis: one of its own
   * keys holds another type): nothing read or counted; the round's other aggregates go on.
   * `reason` names the key's role, name and type, never what it holds.
   */
  refused?: { code: string; reason: string };
}

/** The relay lease an operation is done under (from `@steadyfn/lease`). */
export interface HeldLease {
  key: string;
  owner: string;
  fence: number;
}

/** One leased aggregate, as `begin` takes it. */
export interface LeasedRef {
  ref: AggregateRef;
  lease: HeldLease;
}

/** What SQS did with one aggregate's events, as `settle` takes it. */
export interface SettleItem extends LeasedRef {
  /** Accepted: removed (or marked sent), each only if still pending at its seq. */
  sent: ReadonlyArray<StoredEvent>;
  /** Not accepted: one more finished attempt on each that is still pending. Events the `begin` of this round returned: a finished attempt ends a started one. */
  refused: ReadonlyArray<StoredEvent>;
  /**
   * The events of `refused` SQS never judged (see `StoredEvent.unjudged`): their finished
   * attempt is also counted as unjudged. Omitted: all of `refused` was judged.
   */
  unjudged?: ReadonlyArray<StoredEvent>;
}

/** Options of a store call made during a relay run. */
export interface StoreCallOptions {
  signal?: AbortSignal | undefined;
}

/**
 * A store of pending events, as the relay needs it. Batch calls take many aggregates at once
 * and cost one round trip per group the store can serve together (Redis: one script per
 * server, per partition on a cluster). Every write is conditional: `settle` removes exactly
 * the events given, by (ref, seq), and only while the aggregate's lease is still held where
 * the store can check it atomically (`settleReleasesLease`).
 */
export interface RelayStore {
  /** Short name for logs and metrics: `redis`, `mongo-embedded`, `mongo-collection`. */
  readonly kind: string;
  /** The lease key of an aggregate: in the same slot / database as its events. */
  leaseKey(ref: AggregateRef): string;
  /**
   * Aggregates with pending events committed before `before` (epoch ms), oldest first, at most
   * `limit` — quarantined ones left out (nothing of them is relayed until a redrive; listed,
   * they would take the places of aggregates the sweep can relay). A partition that cannot be
   * read for a reason of its own (Redis: one of its keys holds another type) is skipped and
   * told to `onSkip`, the others listed: one bad partition must not stop every aggregate.
   * Partitions in `exclude` are left out (the sweep's partitions whose read was refused).
   */
  listPending(options: { limit: number; before: number; onSkip?: (skip: SkippedPartition) => void; exclude?: ReadonlySet<string> } & StoreCallOptions): Promise<AggregateRef[]>;
  /**
   * Reads each aggregate's head — up to `limit` events each, in seq order — and counts one
   * more started attempt on them. One result per item, in order. `maxBytes` is the round's
   * budget of body bytes across all the items, spent round-robin (`relay/budget.ts`: every
   * item's first event, then every second, …): an aggregate whose next event no longer fits
   * reads no more, and no pass follows the one where that happened (the others still take their
   * event of that pass when it fits); one whose head no longer fits in what is left reads nothing (`events: []`,
   * `more: true`, no attempt counted); the round's first event is read even when it alone is
   * larger than the budget.
   */
  begin(items: ReadonlyArray<LeasedRef>, options: { limit: number; maxBytes: number } & StoreCallOptions): Promise<AggregateHead[]>;
  /**
   * After the send: per aggregate, removes (or marks sent) the accepted events, each only
   * if it is still the pending event with that seq, and counts one finished attempt on the
   * refused ones (also an unjudged one on those in `unjudged`). With `settleReleasesLease`, also releases each lease in the same atomic
   * step and marks nothing for an aggregate whose lease is no longer the caller's (-1).
   * Returns how many events were marked, per item; -2 where the store marked nothing and ended
   * the head's attempt unjudged (the embedded store, when writers kept moving the document):
   * the events stay pending, for a later run.
   */
  settle(items: ReadonlyArray<SettleItem>, options?: StoreCallOptions): Promise<number[]>;
  /**
   * Holds the aggregate from `fromSeq` on: no event of it is sent until `redrive`. Returns
   * `quarantinedAt`, the epoch ms the quarantine was taken (the store's clock where it has
   * one): with `fromSeq`, the quarantine's identity, which a redrive reference must carry.
   */
  quarantine(ref: AggregateRef, entry: { fromSeq: number; reason: string; lease: HeldLease } & StoreCallOptions): Promise<number>;
  /**
   * Releases a quarantined aggregate and resets its attempt counts, in one conditional step:
   * only while it is quarantined as `ref` says (its `fromSeq` and `quarantinedAt`). Changes nothing
   * otherwise. Callers serialise calls for one quarantine under a lease (`releaseQuarantine`,
   * relay/redrive.ts): a store need not decide between concurrent ones (FerretDB cannot, with a
   * conditional update), only answer each call from the quarantine it reads.
   *
   * @throws QuarantineUnreadableError (`OUTBOX_QUARANTINE_UNREADABLE`, 409) when the
   *   aggregate's quarantine entry is not the relay's record: nothing released or reset.
   */
  redrive(ref: QuarantineRef, options?: StoreCallOptions): Promise<RedriveOutcome>;
  /**
   * Why `ref` cannot be one of this store's aggregates, judged from its text alone (a
   * partition tag with braces, another collection, another aggregate type); undefined when it
   * can be.
   */
  refIssue(ref: Pick<AggregateRef, 'where' | 'aggregate'>): { field: 'where' | 'aggregate'; expected: string } | undefined;
  /**
   * Quarantined aggregates (at most `limit`): each entry, passed whole, is a redrive reference.
   * An entry the store cannot read (Redis: a quarantine hash field that is not the relay's
   * JSON record; MongoDB: a state document whose `q` is not the relay's sub-document) is left
   * out and told to `onUnreadable`, the others listed (it does not count toward `limit`).
   * With `signal`: once it aborts, nothing more is read — checked before each command (Redis: each
   * partition-list page and quarantine hash) or document (MongoDB), a read in flight given up —
   * and the call rejects with the signal's reason (`ctx.signal`'s: `DeadlineExceededError`, `DEADLINE_EXCEEDED`).
   * Redis: once `limit` entries are listed, each remaining partition costs one `TYPE` (for the
   * 409 below), not an `HGETALL` of a hash it will not list; an unreadable entry there is not told.
   *
   * @throws PreconditionFailedError (`OUTBOX_PRECONDITION_FAILED`, 409), Redis, when a
   *   partition's quarantine hash (or the partition list) holds another type, past `limit` too:
   *   the message names its role, name and type, never what it holds.
   */
  listQuarantined(options: { limit: number; onUnreadable?: (entry: UnreadableQuarantine) => void } & StoreCallOptions): Promise<QuarantineEntry[]>;
  /**
   * With `mark: 'sent'`: deletes up to `limit` events sent more than `olderThanMs` ago. Returns
   * how many. A partition whose own key cannot be read for a reason of its own (Redis: its sent
   * set or stream holds another type) is skipped and told to `onSkip`, the others cleaned.
   */
  cleanup?(options: { limit: number; olderThanMs: number; onSkip?: (skip: SkippedPartition) => void } & StoreCallOptions): Promise<number>;
  /**
   * The lease a sweep holds while it runs `cleanup`, named after this outbox (its prefix or
   * collection), so outboxes sharing one lease store clean independently. Defaults to
   * `<kind>:cleanup`.
   */
  cleanupLeaseKey?: string;
  /**
   * Housekeeping a sweep runs after relaying, bounded by `limit` (Redis Cluster: drops
   * partitions that hold nothing and were not written for a long time from the partition
   * list). Returns how many entries it removed.
   */
  prune?(options: { limit: number } & StoreCallOptions): Promise<number>;
  /**
   * True when `settle` also releases the lease in the same atomic step (and marks nothing
   * if the lease is no longer the caller's): Redis with `@steadyfn/lease`'s settle fragment,
   * MongoDB transaction mode with the lease's settle in the marks' transaction. Otherwise the
   * relay releases the leases itself after `settle`.
   */
  readonly settleReleasesLease?: boolean;
  /** The same store, settling through `lease` where it can (Redis: its script fragment). */
  withLease?(lease: RelayLease): RelayStore;
}

/**
 * The lease primitive as the relay uses it: a `@steadyfn/lease` store (`redisLeaseStore`,
 * `mongoLeaseStore`). A Redis one also gives its settle as a Lua fragment, which the Redis
 * outbox includes in its mark script.
 */
export type RelayLease = LeaseStore & Partial<Pick<RedisLeaseStore, 'settleFragment' | 'settleCall'>>;

/**
 * One SQS message the relay asks the sender to send: the shape `sqsSender` (src/sqs) takes.
 * `groupKey` is the aggregate, `aggregateType/aggregateId`; the sender makes the FIFO
 * `MessageGroupId` from it (hashed when SQS would refuse it) and uses `id` as the `MessageDeduplicationId`.
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
  /**
   * `judged: false`: nothing judged the message (the whole call failed, aborted, held behind
   * its group) — the attempt does not count toward `maxAttempts`. Absent: judged.
   */
  failed: ReadonlyArray<{ id: string; code: string; senderFault: boolean; retryable: boolean; judged?: boolean }>;
  /** `SendMessageBatch` calls made, retries and splits included. */
  batches: number;
  /** How full the calls were, 0-1: entries / (calls × 10) and bytes / (calls × the batch byte limit). */
  fill: { entries: number; bytes: number };
  /** Calls repeated after a retryable failure. */
  retries: number;
}

/**
 * Sends messages to one queue: `sqsSender(...)` from `@steadyfn/outbox/sqs` satisfies it
 * (batched byte-exact, claim checks, retries). A custom sender must keep the contract below, or
 * the relay's per-aggregate order no longer holds.
 *
 * **What `send` is handed.** Messages of several aggregates, and of one aggregate a run of its
 * pending events from the oldest, in seq order: a group's (`groupKey`'s) messages appear in the
 * array in the order they must reach the queue. Messages of different groups are independent
 * and may be sent in any order, in parallel, in one batch.
 *
 * **Group blocking (what keeps order).** Per group, a message may be sent only once the one
 * before it was accepted:
 * - at most one message of a group per underlying call that judges its entries one by one
 *   (`SendMessageBatch`: SQS may refuse entry 1 and accept entry 2 of the same call), and the
 *   group's next message only after that call was answered;
 * - once a message of a group failed in this `send` — refused, or no verdict — none of the
 *   group's later messages is sent in it: report each failed with `judged: false`,
 *   `retryable: true`, `senderFault: false` (`sqsSender` uses `OUTBOX_SQS_GROUP_BLOCKED`);
 * - never reorder a group: no later message sent ahead of an earlier one, no earlier one
 *   retried after a later one was sent, no message split from its group (on FIFO,
 *   `MessageGroupId` from `groupKey` and `MessageDeduplicationId` = `id`).
 *
 * **What the relay does with the report.** Every `id` in `sent` is marked and leaves the store,
 * whatever else failed — an accepted message behind a refused one of its group would leave the
 * store, and reach the consumer, out of order: that is why the sender must block. Every
 * message not in `sent` stays pending at its aggregate's head and is sent again by a later run,
 * in order; report each in `failed` (one missing from both counts as a judged refusal). A
 * failure with `judged: true` (or no `judged`) counts toward `relay.poison.maxAttempts`;
 * `judged: false` counts nothing. `senderFault: true` on the first failed message of an
 * aggregate quarantines the aggregate from that message on (SQS will never take it as it is).
 * A `send` that throws is taken as every message failed with no verdict (warned, nothing
 * counted, all pending).
 *
 * @example
 * import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
 * import type { Sender } from '@steadyfn/outbox';
 *
 * // One SendMessage per message, in order; a failed message blocks the rest of its group.
 * export function oneByOneSender(sqs: SQSClient, queueUrl: string): Sender {
 *   const fifo = queueUrl.endsWith('.fifo');
 *   return {
 *     fifo,
 *     async send(messages, { signal } = {}) {
 *       const sent: Array<{ id: string }> = [];
 *       const failed: Array<{ id: string; code: string; senderFault: boolean; retryable: boolean; judged?: boolean }> = [];
 *       const blocked = new Set<string>();
 *       let batches = 0;
 *       for (const m of messages) {
 *         const group = m.groupKey ?? m.id;
 *         if (blocked.has(group)) {
 *           // Behind a failed message of its group: not sent, not judged, retried next run.
 *           failed.push({ id: m.id, code: 'GROUP_BLOCKED', senderFault: false, retryable: true, judged: false });
 *           continue;
 *         }
 *         try {
 *           batches++;
 *           const attributes = Object.entries(m.attributes ?? {}).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]);
 *           const fifoIds = fifo ? { MessageGroupId: group, MessageDeduplicationId: m.id } : {};
 *           await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: m.body, MessageAttributes: Object.fromEntries(attributes), ...fifoIds }), signal ? { abortSignal: signal } : {});
 *           sent.push({ id: m.id });
 *         } catch (error) {
 *           blocked.add(group);
 *           failed.push({ id: m.id, code: error instanceof Error ? error.name : 'SendFailed', senderFault: false, retryable: true });
 *         }
 *       }
 *       return { sent, failed, batches, fill: { entries: 0, bytes: 0 }, retries: 0 };
 *     },
 *   };
 * }
 */
export interface Sender {
  /** Whether the queue is FIFO. */
  readonly fifo: boolean;
  /**
   * Sends `messages` keeping each group's order (see the interface: one message of a group per
   * call that judges entries one by one, a failed message blocks the rest of its group in this
   * call, never reordered) and reports each message once, in `sent` or `failed`.
   * @param options.signal The run's deadline: stop sending; what was not confirmed fails with `judged: false`.
   * @returns the report the relay marks, retries and quarantines by.
   */
  send(messages: ReadonlyArray<OutboundMessage>, options?: { signal?: AbortSignal }): Promise<SendReport>;
  /**
   * The queue's message size limit (`sqsSender` reads it once and caches it). When present, the
   * relay reads it before beginning any attempt: a queue it cannot read (missing, access denied,
   * SQS unreachable) then stops the run with no attempt counted toward poison.
   */
  maxMessageBytes?(options?: { signal?: AbortSignal }): Promise<number>;
}

/**
 * A partition a sweep could not read for a reason of its own (Redis: one of its own keys holds
 * another type) and skipped, serving the others. Says no value of the store: the key's role,
 * name and type.
 */
export interface SkippedPartition {
  /** The partition (Redis hash tag). */
  where: string;
  /** The refusal's stable code, e.g. `OUTBOX_PRECONDITION_FAILED`. */
  code: string;
  /** Why: the key's role, name, type and the type expected — never what it holds. */
  reason: string;
}
