/**
 * The fault-injection harness (events are recorded per backend by `backends.ts`): relays them
 * through faults injected at each relay step, consumes the queue through an inbox consumer whose
 * effect is exactly-once, and checks the invariants: nothing lost, duplicates carry the same
 * event id, each event applied once, each aggregate applied in seq order.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Cluster, Redis } from 'ioredis';
import { handler, type Plugin } from '@steadyfn/handler';
import { redisStore } from '@steadyfn/idempotency';
import { inbox, outbox, redisOutbox } from '../../src/index.js';
import type { RelayStore, Sender } from '../../src/relay/types.js';

export const events = { Tick: { aggregateType: 'tick', schema: z.object({ n: z.number().int() }) } };

/** A seeded PRNG (mulberry32), so a run's faults can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Faults a sender injects, each with a probability per call. */
export interface SenderFaults {
  /** The whole call fails before anything is sent (a connection reset, an unsplittable BatchRequestTooLong). */
  wholeCall?: number;
  /** Some entries are refused (retryable), the rest accepted: a partial batch failure. */
  partial?: number;
  /** Everything is sent, then the relay dies before marking (the report is lost). */
  afterSendBeforeMark?: number;
}

/**
 * Each fault also happens once for sure, whatever the random draws: a whole-call failure on the
 * 2nd call, a partial failure on the first call from the 3rd on that carries two messages or
 * more, a death after the send on the first call from the 4th on that gets that far.
 */
export function faultySender(inner: Sender, faults: SenderFaults, random: () => number = Math.random): Sender & { injected: Record<string, number> } {
  const injected: Record<string, number> = { wholeCall: 0, partial: 0, afterSendBeforeMark: 0 };
  let calls = 0;
  return {
    fifo: inner.fifo,
    injected,
    async send(messages, options) {
      calls++;
      if (calls === 2 || random() < (faults.wholeCall ?? 0)) {
        injected.wholeCall!++;
        throw new Error('injected: the call failed as a whole');
      }
      if (((calls >= 3 && injected.partial === 0) || random() < (faults.partial ?? 0)) && messages.length > 1) {
        injected.partial!++;
        const cut = 1 + Math.floor(random() * (messages.length - 1));
        const report = await inner.send(messages.slice(0, cut), options);
        return { ...report, failed: [...report.failed, ...messages.slice(cut).map((m) => ({ id: m.id, code: 'InternalError', senderFault: false, retryable: true }))] };
      }
      const report = await inner.send(messages, options);
      if ((calls >= 4 && injected.afterSendBeforeMark === 0) || random() < (faults.afterSendBeforeMark ?? 0)) {
        injected.afterSendBeforeMark!++;
        throw new Error('injected: died after SQS accepted, before the mark');
      }
      return report;
    },
  };
}

/** A store that dies right after claiming (begin counted the attempt, nothing sent); surely on the 2nd begin. */
export function crashAfterClaim(store: RelayStore, probability: number, random: () => number = Math.random): RelayStore & { injected: number } {
  const wrapped = Object.create(store) as RelayStore & { injected: number };
  wrapped.injected = 0;
  let calls = 0;
  wrapped.begin = async (ref, options) => {
    const head = await store.begin(ref, options);
    if (++calls === 2 || random() < probability) {
      wrapped.injected++;
      throw new Error('injected: died after the claim');
    }
    return head;
  };
  return wrapped;
}

/** The event an SQS event source mapping hands a function for `messages` (received from `ReceiveMessage`). */
export function sqsEvent(messages: Message[], fifo = false) {
  return {
    Records: messages.map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body!,
      attributes: { ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:us-east-1:1:q${fifo ? '.fifo' : ''}`,
      awsRegion: 'us-east-1',
    })),
  };
}

/** What the consumer saw and did. */
export interface Consumed {
  /** Deliveries per event id. */
  deliveries: Map<string, number>;
  /** (aggregate, seq) → event id, to prove duplicates carry the same id. */
  idOf: Map<string, string>;
  /** Ids delivered under an (aggregate, seq) that already had another id. */
  conflictingIds: number;
  /** Order of first arrival per aggregate (FIFO check). */
  arrival: Map<string, number[]>;
  /** Per `<aggregateId>#<seq>`: deliveries and what the consumer did with the last few (`ok`, or the failure's code). */
  outcomes: Map<string, { deliveries: number; last: string[] }>;
  /** Why the loop ended: `done()` held, nothing was applied for `stallMs`, or `limitMs` passed. */
  endedBy: 'done' | 'stall' | 'limit';
  /** `ReceiveMessage` calls made, and how long the loop ran (ms). */
  receives: number;
  ms: number;
}

/**
 * Consumes the queue through an inbox consumer (Redis idempotency store) whose effect — a
 * per-aggregate list of applied seqs — is written exactly-once by the Redis capture with the
 * inbox key. Stops when the queue stayed empty 3 polls in a row and `done()` holds; gives up
 * when no message was handled for `stallMs` (default: `limitMs`), or after `limitMs` in all.
 *
 * Bound it by `stallMs`, not by a tight `limitMs`: how long the loop needs is set by the SQS
 * server's speed, not by the code under test. On moto each `ReceiveMessage` costs CPU in
 * proportion to the messages in the queue, and its calls queue up behind every other test's;
 * moto also hands out messages in queue order, so a failed event made visible again at once
 * is handed out again in each receive (measured on a loaded machine with that: 33–60 receives
 * of 300–1100 ms each, 20–61 s for 240 events, two runs in 40 cut off at 60 s with 24 and 73
 * events still visible in the queue). A stall is what a lost or stuck event looks like;
 * slowness with progress is not.
 */
export async function consume(
  sqs: SQSClient,
  url: string,
  redis: Redis | Cluster,
  prefix: string,
  done: () => Promise<boolean>,
  options: { fifo: boolean; limitMs: number; stallMs?: number },
): Promise<Consumed> {
  const idem = redisStore({ client: redis, prefix: `${prefix}idem:`, hashTag: 'scope' });
  const effects = outbox({ events, store: redisOutbox({ client: redis, prefix }) });
  const started = Date.now();
  const consumed: Consumed = { deliveries: new Map(), idOf: new Map(), conflictingIds: 0, arrival: new Map(), outcomes: new Map(), endedBy: 'limit', receives: 0, ms: 0 };
  // Listed first, so its onError runs last and sees every failure's code (gap, in progress, not processed…).
  const failures = new Map<string, string>();
  const recorder: Plugin = { name: 'harness-outcomes', onError: (ctx, error) => void (ctx.trigger.kind === 'queue' && failures.set(ctx.trigger.messageId, error.code)) };
  const apply = handler({ use: [recorder, inbox({ store: idem, consumer: 'harness', onGap: 'retry', maxGapRetries: 1000 }), effects] }, async (_input, ctx) => {
    const e = ctx.inbox.event;
    ctx.outbox.call('RPUSH', `${prefix}applied:{${e.aggregateId}}`, e.seq);
  });
  const until = started + options.limitMs;
  const stallMs = options.stallMs ?? options.limitMs;
  let progressAt = started;
  let quiet = 0;
  while (Date.now() < until) {
    if (Date.now() - progressAt > stallMs) {
      consumed.endedBy = 'stall';
      break;
    }
    consumed.receives++;
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'], AttributeNames: ['All'], VisibilityTimeout: 30 }));
    if (Messages.length === 0) {
      if (++quiet >= 3 && (await done())) {
        consumed.endedBy = 'done';
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    quiet = 0;
    const slots = new Map<string, string>();
    for (const m of Messages) {
      const e = JSON.parse(m.Body!) as { id: string; aggregateId: string; seq: number };
      consumed.deliveries.set(e.id, (consumed.deliveries.get(e.id) ?? 0) + 1);
      const slot = `${e.aggregateId}#${e.seq}`;
      slots.set(m.MessageId!, slot);
      const known = consumed.idOf.get(slot);
      if (known === undefined) {
        consumed.idOf.set(slot, e.id);
        const list = consumed.arrival.get(e.aggregateId) ?? [];
        list.push(e.seq);
        consumed.arrival.set(e.aggregateId, list);
      } else if (known !== e.id) consumed.conflictingIds++;
    }
    const event = sqsEvent(Messages, options.fifo);
    const result = (await apply.aws(event, { awsRequestId: randomUUID(), functionName: 'harness', getRemainingTimeInMillis: () => 60_000 })) as { batchItemFailures: Array<{ itemIdentifier: string }> };
    const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
    const ok = Messages.filter((m) => !failed.has(m.MessageId!));
    const again = Messages.filter((m) => failed.has(m.MessageId!));
    for (const m of Messages) {
      const slot = slots.get(m.MessageId!)!;
      const outcome = consumed.outcomes.get(slot) ?? { deliveries: 0, last: [] };
      outcome.deliveries++;
      outcome.last = [...outcome.last, failed.has(m.MessageId!) ? (failures.get(m.MessageId!) ?? 'failed') : 'ok'].slice(-5);
      consumed.outcomes.set(slot, outcome);
    }
    failures.clear();
    if (ok.length > 0) progressAt = Date.now();
    if (ok.length > 0) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: ok.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    // On a standard queue a failed message comes back after 1 s, not at once (Lambda's event
    // source mapping leaves it for the whole visibility timeout): moto hands out the oldest
    // visible messages first, so events waiting for a predecessor, made visible at once, took
    // most of every receive (7 of 10, the same ones 50 times) and 10 of them would take all of
    // it — no progress until their receive count reached maxGapRetries (harness-order.test.ts).
    // A FIFO queue hands out a group's next message only after it, so it comes back at once.
    const visibility = options.fifo ? 0 : 1;
    if (again.length > 0) await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: url, Entries: again.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: visibility })) }));
  }
  consumed.ms = Date.now() - started;
  return consumed;
}
