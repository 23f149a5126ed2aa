/**
 * What a fault test prints when an event it expected was never applied: where that event was
 * last seen on each side — the relay's verdicts (SQS accepted it, when, through which sender),
 * the Redis outbox's state of its aggregate, the queue's message counts, what the harness
 * consumer did with each delivery, and the inbox's records of it and of its predecessor — so
 * one failed CI run says whether the event was lost, left in the queue, or held by the inbox.
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { redisStore, scopeOf, storeKey } from '@steadyfn/idempotency';
import { aggregateKey } from '../../src/envelope.js';
import { partitionKeys } from '../../src/stores/redis-keys.js';
import type { Sender } from '../../src/relay/types.js';
import type { RedisBackend } from '../support.js';
import type { Consumed } from './harness.js';

/** Per `<aggregateId>#<seq>`: each send's verdict, `<label>:sent:<ms since start>` or `<label>:<code>`. */
export type Verdicts = Map<string, string[]>;

/** `sender`, recording the verdict of each message it sends in `verdicts` under `label`. */
export function recordVerdicts(sender: Sender, label: string, verdicts: Verdicts, since = Date.now()): Sender {
  return {
    fifo: sender.fifo,
    ...(sender.maxMessageBytes ? { maxMessageBytes: sender.maxMessageBytes.bind(sender) } : {}),
    async send(messages, options) {
      const slots = new Map(messages.map((m) => {
        const e = JSON.parse(m.body) as { aggregateId: string; seq: number };
        return [m.id, `${e.aggregateId}#${e.seq}`] as const;
      }));
      const note = (id: string, verdict: string) => {
        const slot = slots.get(id) ?? id;
        verdicts.set(slot, [...(verdicts.get(slot) ?? []), verdict]);
      };
      try {
        const report = await sender.send(messages, options);
        for (const s of report.sent) note(s.id, `${label}:sent:${Date.now() - since}`);
        for (const f of report.failed) note(f.id, `${label}:${f.code}`);
        return report;
      } catch (error) {
        for (const m of messages) note(m.id, `${label}:threw`);
        throw error;
      }
    },
  };
}

/**
 * Where the missing events of `agg` went: `seqs` are the ones expected but not applied.
 * The inbox keys are built as `inbox()` builds them (consumer `harness`, aggregate type `tick`).
 */
export async function whereMissing(
  b: RedisBackend,
  sqs: SQSClient,
  url: string,
  consumed: Consumed,
  verdicts: Verdicts,
  agg: string,
  seqs: number[],
): Promise<Record<string, unknown>> {
  const k = partitionKeys(b.prefix, agg);
  const aggregate = aggregateKey('tick', agg);
  const idem = redisStore({ client: b.client, prefix: `${b.prefix}idem:`, hashTag: 'scope' });
  const scope = scopeOf('inbox:harness');
  const record = async (value: string) => {
    const r = await idem.get(storeKey(scope, { kind: 'custom', value }));
    return r ? r.status : 'none';
  };
  const queue = await sqs
    .send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }))
    .then((a) => a.Attributes ?? {}, (error: unknown) => ({ error: String(error) }));
  const events: Record<string, unknown> = {};
  for (const seq of [...new Set([Math.max(1, seqs[0]! - 1), ...seqs])]) {
    const slot = `${agg}#${seq}`;
    const id = consumed.idOf.get(slot);
    events[seq] = {
      relay: verdicts.get(slot) ?? [],
      consumer: consumed.outcomes.get(slot) ?? 'never received',
      inboxEvent: id === undefined ? 'id unknown (never received)' : await record(`event:${id}`),
      inboxSeqMarker: await record(`seq:${aggregate}#${seq}`),
    };
  }
  return {
    aggregate: agg,
    missing: seqs,
    consume: { endedBy: consumed.endedBy, receives: consumed.receives, ms: consumed.ms },
    store: {
      streamEntries: await b.client.xlen(k.events),
      pendingIds: await b.client.zcard(k.aggregate(aggregate)),
      quarantine: await b.client.hget(k.quarantine, aggregate),
    },
    queue,
    events,
  };
}
