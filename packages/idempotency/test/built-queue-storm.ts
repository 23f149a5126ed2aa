/**
 * A queue in front of the built-storm fleet (built-storm-fleet.ts) for the queue-trigger storms
 * (built-storm-queues.test.ts), as SQS and Service Bus deliver at least once:
 *
 * - a new message (its id is its key) arrives every 150 ms and is delivered at once to TWO
 *   instances concurrently (a duplicate delivery), each copy in a batch with other visible messages;
 * - a poller delivers visible messages in batches of up to `batchSize` to a random live instance;
 * - a message is deleted once a delivery of it is answered without it among the failures;
 *   a failed one is visible again after 100–300 ms (`ApproximateReceiveCount` / `deliveryCount`
 *   one higher); one lost with a killed instance after the visibility timeout.
 *
 * A failure the instance reports by code (a rejected Service Bus batch) must carry a documented
 * retryable code; per-message codes come from the instances' reported outcomes.
 */
import { RETRYABLE, send, sleep, type Fleet } from './built-storm-fleet.js';

/** How long a delivered message stays invisible when its delivery is lost (the queue's visibility timeout). */
const VISIBILITY_MS = 1_000;
/** How long the storm may run past its chaos before the keys still on the queue count as stuck. */
const DRAIN_MS = 40_000;

export type QueueAnswer = { id: string; failed?: string[]; error?: { code?: string; retryable?: boolean; message?: string }; thrown?: string };

interface Message {
  key: string;
  /** Deliveries so far (the next one's receive count is one more). */
  attempts: number;
  deleted: boolean;
  inFlight: number;
  visibleAt: number;
}

export interface QueueStormOutcome {
  keys: string[];
  deliveries: number;
  /** Message deliveries answered as failed (redelivered). */
  failedDeliveries: number;
  /** Batches lost with a killed instance. */
  lost: number;
  /** Answers outside the documented ones, and keys still on the queue when the storm gave up. */
  unexpected: unknown[];
}

/**
 * Runs the queue until `chaos` resolves and at least `minKeys` arrived, then until every message
 * is deleted (or DRAIN_MS passed: the rest are reported stuck).
 */
export async function queueStorm(fleet: Fleet, minKeys: number, batchSize: number, chaos: () => Promise<void>): Promise<QueueStormOutcome> {
  const outcome: QueueStormOutcome = { keys: [], deliveries: 0, failedDeliveries: 0, lost: 0, unexpected: [] };
  const queue = new Map<string, Message>();
  const deliveries: Promise<void>[] = [];
  const live = () => fleet.instances.filter((i) => !i.dead);

  const deliver = (instanceIndex: number | undefined, batch: Message[]): void => {
    const instances = live();
    if (instances.length === 0 || batch.length === 0) return;
    const instance = instances[(instanceIndex ?? Math.floor(Math.random() * instances.length)) % instances.length]!;
    for (const m of batch) {
      m.attempts++;
      m.inFlight++;
    }
    outcome.deliveries += batch.length;
    const messages = batch.map((m) => ({ messageId: m.key, key: m.key, attempt: m.attempts }));
    deliveries.push(
      send<QueueAnswer>(instance, { messages }).then((answer) => {
        for (const m of batch) m.inFlight--;
        if (!answer) {
          outcome.lost++;
          for (const m of batch) m.visibleAt = Math.max(m.visibleAt, Date.now() + VISIBILITY_MS);
          return;
        }
        if (answer.thrown || !Array.isArray(answer.failed) || (answer.error && !(RETRYABLE.has(answer.error.code ?? '') && answer.error.retryable === true))) {
          outcome.unexpected.push({ messages: messages.map((m) => m.key), answer });
        }
        const failed = new Set(answer.failed ?? batch.map((m) => m.key));
        for (const m of batch) {
          if (!failed.has(m.key)) m.deleted = true;
          else {
            outcome.failedDeliveries++;
            m.visibleAt = Math.max(m.visibleAt, Date.now() + 100 + Math.random() * 200);
          }
        }
      }),
    );
  };

  /** Visible messages (not deleted, not in flight, past their visibility), oldest first, up to `n`. */
  const visible = (n: number, except?: Message): Message[] => {
    const now = Date.now();
    return [...queue.values()].filter((m) => m !== except && !m.deleted && m.inFlight === 0 && m.visibleAt <= now).slice(0, n);
  };

  let chaosDone = false;
  let arrivalsDone = false;
  const arrivals = (async () => {
    while (!chaosDone || outcome.keys.length < minKeys) {
      const key = `order-${crypto.randomUUID()}`;
      outcome.keys.push(key);
      const message: Message = { key, attempts: 0, deleted: false, inFlight: 0, visibleAt: Date.now() };
      queue.set(key, message);
      // The duplicate: two instances receive the same message at the same time.
      const first = Math.floor(Math.random() * 1_000);
      deliver(first, [message, ...visible(batchSize - 1, message)]);
      deliver(first + 1, [message, ...visible(batchSize - 1, message)]);
      await sleep(150);
    }
    arrivalsDone = true;
  })();
  const poller = (async () => {
    let drainUntil = Number.POSITIVE_INFINITY;
    for (;;) {
      if (arrivalsDone) {
        drainUntil = Math.min(drainUntil, Date.now() + DRAIN_MS);
        const left = [...queue.values()].filter((m) => !m.deleted);
        if (left.length === 0) return;
        if (Date.now() > drainUntil) {
          outcome.unexpected.push({ stuck: left.map((m) => ({ key: m.key, attempts: m.attempts, inFlight: m.inFlight })) });
          return;
        }
      }
      deliver(undefined, visible(batchSize));
      await sleep(50);
    }
  })();
  try {
    await chaos();
  } finally {
    chaosDone = true;
  }
  await arrivals;
  await poller;
  await Promise.all(deliveries);
  return outcome;
}

/**
 * Delivers every key once more after the storm (one batch each of up to `batchSize`): none may
 * fail, and none may run the function again — a deleted message's redelivery replays — unless
 * `mayRun` (a consumer whose record may be left to expire, its effect kept once by other means).
 */
export async function redeliverAll(fleet: Fleet, keys: string[], batchSize: number, mayRun = false): Promise<unknown[]> {
  const problems: unknown[] = [];
  const instance = fleet.instances.find((i) => !i.dead)!;
  for (let i = 0; i < keys.length; i += batchSize) {
    const batch = keys.slice(i, i + batchSize);
    const began = instance.outcomes.filter((o) => o.began).length;
    const answer = await send<QueueAnswer>(instance, { messages: batch.map((key) => ({ messageId: key, key, attempt: 99 })) });
    if (!answer || answer.thrown || answer.failed?.length !== 0) problems.push({ batch, answer });
    if (!mayRun && instance.outcomes.filter((o) => o.began).length !== began) problems.push({ batch, ranAgain: true });
  }
  return problems;
}

/** Delivers a new message to every live instance: each must take it (no dead cached client after the restarts). */
export async function freshOnEvery(fleet: Fleet): Promise<unknown[]> {
  const problems: unknown[] = [];
  for (const instance of fleet.instances) {
    const key = `after-${crypto.randomUUID()}`;
    const answer = await send<QueueAnswer>(instance, { messages: [{ messageId: key, key, attempt: 1 }] });
    if (!answer || answer.thrown || answer.failed?.length !== 0) problems.push({ pid: instance.pid, answer });
  }
  return problems;
}
