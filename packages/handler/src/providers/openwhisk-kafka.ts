/**
 * Apache OpenWhisk: Kafka / Message Hub feed batches, `{ messages: [{ topic, partition, offset,
 * key, value }] }` (apache/openwhisk-package-kafka), one `stream` invocation per message, run in
 * order and stopped at the first failure. The activation entry is providers/openwhisk.ts.
 */
import { MalformedEventError, SteadyError } from '../errors.js';
import { isRecord as isRec, str, type Rec } from '../internal/record.js';
import { reportsFailure, runBatch, type Definition, type Frame, type Invocation } from '../invoke.js';
import { anyPayload, bytesPayload } from '../message.js';
import { rawBase64, withRawBody } from '../events/item.js';
import { decodeBase64Strict } from '../internal/base64.js';
import type { Trigger } from '../types.js';
import { activationError, adapterLog, stamped } from './openwhisk-activation.js';

const isKafkaMessage = (m: unknown): boolean => isRec(m) && Object.hasOwn(m, 'topic') && Object.hasOwn(m, 'partition') && Object.hasOwn(m, 'offset');

/**
 * One feed message makes it a Kafka batch: a damaged message beside it then fails the batch
 * with a typed error (`messages.<i>`), instead of the whole batch reaching the function as if
 * it were a direct invocation's params.
 */
export function isKafkaBatch(params: Rec): params is Rec & { messages: unknown[] } {
  const messages = params.messages;
  return Array.isArray(messages) && messages.some(isKafkaMessage);
}

const isFlag = (v: unknown): boolean => v === true || v === 'true';
const isPosition = (v: unknown): v is number | string =>
  (typeof v === 'number' && Number.isInteger(v) && v >= 0) || (typeof v === 'string' && /^\d+$/.test(v));

/**
 * The cluster a feed reads, when the action knows it: the feed's `brokers` (`/messaging/kafkaFeed`)
 * or `kafka_brokers_sasl` (`/messaging/messageHubFeed`) bound as a trigger or action parameter
 * too — a list or comma-separated text of `host:port`, joined with `,` as Lambda's
 * `bootstrapServers`. The feed's messages name no cluster (apache/openwhisk-package-kafka
 * `provider/consumer.py`, `__getMessagePayload`: value, topic, partition, offset, key).
 */
function kafkaCluster(params: Rec): string | undefined {
  const brokers = params.brokers ?? params.kafka_brokers_sasl;
  const list = Array.isArray(brokers) ? brokers : typeof brokers === 'string' ? brokers.split(',') : [];
  const hosts = list.filter((b): b is string => typeof b === 'string').map((b) => b.trim()).filter((b) => b !== '');
  return hosts.length > 0 ? hosts.join(',') : undefined;
}

function kafkaInvocations(params: Rec & { messages: unknown[] }, activationId: string, mode: Definition['body']): Invocation[] {
  // The feed's `isBinaryValue` / `isBinaryKey` are feed settings, not per-message fields: the
  // action only knows them when they are also bound as trigger or action parameters.
  const binaryValue = isFlag(params.isBinaryValue);
  const cluster = kafkaCluster(params);
  const { messages } = params;
  // Array.from: a hole in the list is a message too (and a malformed one).
  return Array.from(messages).map((message, index): Invocation => {
    const m: Rec = isRec(message) ? message : {};
    const topic = str(m.topic);
    if (topic === undefined || topic === '' || !isPosition(m.partition) || !isPosition(m.offset)) {
      throw new MalformedEventError('Kafka message lacks a topic, partition or offset', [
        { field: `messages.${index}`, message: 'Missing or invalid topic, partition or offset', expected: '{ topic: string, partition: integer, offset: integer }' },
      ]);
    }
    const partition = String(m.partition);
    const offset = String(m.offset);
    // Offsets are unique only inside one cluster's topic partition: scoped by the cluster when known.
    const id = `${cluster === undefined ? '' : `${cluster}/`}${topic}/${partition}/${offset}`;
    const attributes: Record<string, string> = { partition, offset };
    if (typeof m.key === 'string') attributes.key = m.key;
    const field = `messages.${index}.value`;
    const value = m.value;
    const trigger: Trigger = {
      kind: 'stream',
      source: 'kafka',
      stream: topic,
      partition,
      sequence: offset,
      ...(typeof m.key === 'string' ? { key: m.key } : {}),
      attributes,
      batchIndex: index,
      batchSize: messages.length,
    };
    // The feed passes a value as its text unless it parsed it (`isJSONData`: no raw body left)
    // or base64-encoded it (`isBinaryValue`: its bytes).
    withRawBody(trigger, () => (typeof value !== 'string' ? undefined : binaryValue ? rawBase64(value) : value));
    return {
      trigger,
      requestId: `${activationId}:${id}`,
      deliveryId: id,
      payload: () => {
        if (binaryValue && typeof m.value === 'string') {
          const bytes = decodeBase64Strict(m.value);
          if (!bytes) throw new MalformedEventError('Kafka value is not base64', [{ field, message: 'Not base64', expected: 'base64 text (isBinaryValue)' }]);
          return mode === 'auto' ? bytes : bytesPayload(bytes, mode, { field });
        }
        return anyPayload(m.value, mode, { field });
      },
    };
  });
}

/**
 * Runs a feed batch: `{ processed, acknowledged? }`, or `{ error }` with the first failure, the
 * counts and the messages to re-drive (`failed`: delivery id, code, retryable).
 */
export async function runKafka(def: Definition, frame: Frame, params: Rec & { messages: unknown[] }, activationId: string): Promise<Rec> {
  let invocations: Invocation[];
  try {
    invocations = kafkaInvocations(params, activationId, def.body).map((inv) => stamped(inv, frame));
  } catch (thrown) {
    const error = thrown instanceof SteadyError ? thrown : new MalformedEventError('Could not read the Kafka batch');
    adapterLog(def, frame, activationId).warn('invocation rejected', { trigger: 'stream', code: error.code, batchSize: params.messages.length });
    return { error: activationError(error) };
  }
  // Kafka orders messages within a partition: run in order and stop at the first failure.
  const outcomes = await runBatch(def, frame, invocations, true);
  const failed: Array<{ deliveryId: string; code: string; retryable: boolean }> = [];
  let firstError: SteadyError | undefined;
  let processed = 0;
  let acknowledged = 0;
  outcomes.forEach((outcome, i) => {
    if (outcome.ok) processed++;
    else if (!reportsFailure(def, outcome)) acknowledged++;
    else {
      firstError ??= outcome.error;
      failed.push({ deliveryId: invocations[i]!.deliveryId!, code: outcome.error.code, retryable: outcome.error.retryable });
    }
  });
  const counts: Rec = acknowledged > 0 ? { processed, acknowledged } : { processed };
  // The feed commits offsets once the trigger fires, whatever the action returns: this result
  // records the failure (an application error) and names the messages to re-drive.
  if (!firstError) return counts;
  return { error: { ...activationError(firstError), ...counts, failed } };
}
