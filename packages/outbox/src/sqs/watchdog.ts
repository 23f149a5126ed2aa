/**
 * Watchdog: before committing, a function sends one delayed message (SQS `DelaySeconds`) to a
 * relay queue naming what to flush. If the function dies before its own flush, the message
 * arrives a few seconds later and the relay queue's consumer flushes what is still pending —
 * recovery in seconds instead of a sweeper's schedule period. If the flush did happen, the
 * consumer finds nothing pending. A standard queue is needed: FIFO queues take no per-message delay.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { awsClientOption, checkKnownKeys, intOption, invalidOption, isRecord, keysOf, stringOption } from '@steadyfn/handler/internal';
import { stringifyForSqs } from './chars.js';
import { classifyCallError } from './classify.js';
import { WatchdogUnavailableError } from './errors.js';
import { MAX_DELAY_MS } from './limits.js';
import { queueUrlOption } from './queue-url.js';
import { MAX_KEYS, MAX_WATCHDOG_KEY_LENGTH, WATCHDOG_ATTRIBUTE, type WatchdogTarget } from './watchdog-message.js';

export { MAX_WATCHDOG_KEYS, parseWatchdogMessage, readWatchdogMessage, WATCHDOG_ATTRIBUTE, type WatchdogTarget } from './watchdog-message.js';

/** Options of {@link outboxWatchdog}. */
export interface OutboxWatchdogOptions {
  client: SQSClient;
  /** URL of the relay queue (`http:` or `https:`): a standard queue (FIFO queues take no per-message delay). */
  queueUrl: string;
  /**
   * How long after sending the message becomes visible, in milliseconds; rounded up to whole
   * seconds, 0–900 000 (SQS's 15-minute `DelaySeconds` limit). Choose it longer than the flush
   * normally takes, and at least the relay's `relay.leaseMs`: a relay killed mid-flush holds its
   * lease that long, and a message that meets it is failed (`OUTBOX_RELAY_INCOMPLETE`) and
   * delivered again. @default 30_000
   */
  delayMs?: number;
}

/**
 * Creates a watchdog for one relay queue.
 *
 * @throws {ConfigurationError} for invalid options, an unknown option key, a `queueUrl` that is not an `http(s)` URL, or a `.fifo` queue URL (`CONFIG_INVALID`, naming the option).
 * @example
 * const watchdog = outboxWatchdog({ client: sqs, queueUrl: relayQueueUrl, delayMs: 30_000 });
 * // before the commit; a key names the aggregate's partition (the hash tag of `order:{o-42}`) and `type/id`:
 * await watchdog.arm({ outbox: 'orders', keys: [watchdogKey('o-42', 'order/o-42')] }, { signal: ctx.signal });
 * // in the relay queue's consumer (the outbox plugin named 'orders'):
 * await orders.relayWatchdog(ctx, record.body); // flushes those aggregates (all of the outbox without keys)
 */
export function outboxWatchdog(options: OutboxWatchdogOptions) {
  if (!isRecord(options)) invalidOption('outboxWatchdog', 'options', 'an object', options);
  checkKnownKeys('outboxWatchdog', '', options, keysOf<OutboxWatchdogOptions>({ client: true, queueUrl: true, delayMs: true }));
  const { client } = options;
  awsClientOption('outboxWatchdog', 'client', client, 'SQS', 'an SQSClient from @aws-sdk/client-sqs');
  const { queueUrl, fifo } = queueUrlOption('outboxWatchdog', 'queueUrl', options.queueUrl);
  if (fifo) invalidOption('outboxWatchdog', 'queueUrl', 'a standard queue URL (FIFO queues take no per-message DelaySeconds)', queueUrl);
  const delaySeconds = Math.ceil(intOption('outboxWatchdog', 'delayMs', options.delayMs, 30_000, 0, MAX_DELAY_MS) / 1000);
  return {
    /**
     * Sends the delayed flush request. Call it before the commit: sent after, a crash in between
     * would leave nothing to recover the events.
     * @returns SQS's `MessageId`.
     * @throws {WatchdogUnavailableError} `OUTBOX_SQS_WATCHDOG_UNAVAILABLE` (503) when SQS did not take the message.
     */
    async arm(target: WatchdogTarget, { signal }: { signal?: AbortSignal } = {}): Promise<string> {
      // Keys may hold U+FFFE/U+FFFF (a Redis hash tag): escaped as the envelope is, or SQS refuses the body.
      const body = stringifyForSqs(checkTarget(target));
      try {
        const answer = await client.send(
          new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, DelaySeconds: delaySeconds, MessageAttributes: { [WATCHDOG_ATTRIBUTE]: { DataType: 'String', StringValue: '1' } } }),
          signal === undefined ? undefined : { abortSignal: signal },
        );
        return answer.MessageId!;
      } catch (error) {
        const verdict = classifyCallError(error);
        throw new WatchdogUnavailableError(verdict.code, verdict.kind === 'retry' || signal?.aborted === true, error);
      }
    },
  };
}

function checkTarget(target: WatchdogTarget): { watchdog: 1; outbox: string; keys?: string[] } {
  if (!isRecord(target)) invalidOption('outboxWatchdog.arm', 'target', 'an object { outbox, keys? }', target);
  const outbox = stringOption('outboxWatchdog.arm', 'target.outbox', target.outbox);
  // Read once: every check below is of the same value (a getter could answer differently).
  const keys: unknown = target.keys;
  if (keys !== undefined && !Array.isArray(keys)) invalidOption('outboxWatchdog.arm', 'target.keys', 'an array of non-empty strings (≤ 1024 characters each)', keys);
  if (keys === undefined || keys.length === 0 || keys.length > MAX_KEYS) return { watchdog: 1, outbox };
  if (!keys.every((k): k is string => typeof k === 'string' && k !== '' && k.length <= MAX_WATCHDOG_KEY_LENGTH)) {
    invalidOption('outboxWatchdog.arm', 'target.keys', 'an array of non-empty strings (≤ 1024 characters each)', keys);
  }
  return { watchdog: 1, outbox, keys: [...new Set(keys)] };
}
