/**
 * Turns one `OutboundMessage` into what goes on the wire, or into a sender-fault failure, before
 * anything is sent: SQS would refuse it anyway, and refusing it here costs no call and names
 * the field.
 */
import type { SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { CLAIM_CHECK_ATTRIBUTE, CONTENT_ENCODING_ATTRIBUTE, type ClaimCheckPointer } from './claim-check.js';
import { codePointLabel, findInvalidCharacter } from './chars.js';
import { SendFailureCode } from './errors.js';
import { attributeNameProblem, isSqsToken, messageGroupId } from './ids.js';
import { MAX_DEDUPLICATION_ID_LENGTH, MAX_DELAY_MS, MAX_MESSAGE_ATTRIBUTES } from './limits.js';
import { messageBytes, stringAttributeBytes } from './size.js';
import type { FailedEntry, OutboundMessage } from './types.js';

/** A message ready to be packed (or, with `claimBody`, to be stored in S3 first). */
export interface Prepared {
  /** Position in the `send()` input; also the batch entry `Id` (`m<index>`). */
  index: number;
  id: string;
  /** Ordering group: the `MessageGroupId` on FIFO queues, the raw group key on standard queues. */
  group: string | undefined;
  body: string;
  attributes: Record<string, string>;
  bytes: number;
  delaySeconds: number | undefined;
  /** Set when the body must go to S3 first; `body` is then replaced by the pointer. */
  claimBody?: string;
  claimCheck?: ClaimCheckPointer;
  /** The batch entry, built when the message is first sent and reused by a split's or a retry's call (deliver.ts). */
  wire?: SendMessageBatchRequestEntry;
}

export interface PrepareContext {
  fifo: boolean;
  maxMessageBytes: number;
  /** Bodies above this go to S3; `undefined` when no claim check is configured. */
  claimThresholdBytes: number | undefined;
  invalidCharacters: 'reject' | 'base64';
}

function fail(id: string, code: string, message: string): FailedEntry {
  return { id, code, senderFault: true, retryable: false, judged: true, message };
}

/** Validates and encodes one message: a `Prepared` entry, or a sender-fault `FailedEntry`. */
export function prepareMessage(message: OutboundMessage, index: number, ctx: PrepareContext): Prepared | FailedEntry {
  const { id, body } = message;
  if (!isSqsToken(id, MAX_DEDUPLICATION_ID_LENGTH)) {
    return fail(id, SendFailureCode.invalidMessage, `id must be 1–${MAX_DEDUPLICATION_ID_LENGTH} printable ASCII characters without space (length ${id.length})`);
  }
  let group: string | undefined;
  if (message.groupKey !== undefined) {
    if (typeof message.groupKey !== 'string' || message.groupKey === '') return fail(id, SendFailureCode.invalidMessage, 'groupKey must be a non-empty string');
    group = ctx.fifo ? messageGroupId(message.groupKey) : message.groupKey;
  } else if (ctx.fifo) {
    return fail(id, SendFailureCode.invalidMessage, 'groupKey is required on a FIFO queue (it becomes the MessageGroupId)');
  }
  let delaySeconds: number | undefined;
  if (message.delayMs !== undefined && message.delayMs !== 0) {
    if (typeof message.delayMs !== 'number' || !Number.isInteger(message.delayMs) || message.delayMs < 0 || message.delayMs > MAX_DELAY_MS) {
      return fail(id, SendFailureCode.invalidMessage, `delayMs must be a whole number of milliseconds from 0 to ${MAX_DELAY_MS}`);
    }
    if (ctx.fifo) return fail(id, SendFailureCode.invalidMessage, 'delayMs is not allowed on a FIFO queue (SQS takes a delay only as the queue setting DelaySeconds)');
    delaySeconds = Math.ceil(message.delayMs / 1000);
  }
  const attributes: Record<string, string> = {};
  // null counts as none (as it did before), like undefined: a JS caller's `attributes: null`.
  const given: unknown = message.attributes ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    return fail(id, SendFailureCode.invalidMessage, 'attributes must be an object of attribute name → non-empty string');
  }
  // The attributes' bytes are counted as they are checked: one walk over them, not a second in messageBytes.
  let attributeBytes = 0;
  let count = 0;
  for (const name of Object.keys(given)) {
    const value = (given as Record<string, unknown>)[name];
    const problem = attributeNameProblem(name);
    if (problem !== undefined) return fail(id, SendFailureCode.invalidMessage, `attribute name ${JSON.stringify(name.slice(0, 64))} ${problem}`);
    if (name === CLAIM_CHECK_ATTRIBUTE || name === CONTENT_ENCODING_ATTRIBUTE) return fail(id, SendFailureCode.invalidMessage, `attribute name "${name}" is reserved by the sender`);
    if (typeof value !== 'string' || value === '') return fail(id, SendFailureCode.invalidMessage, `attribute "${name}" must be a non-empty string`);
    const bad = findInvalidCharacter(value);
    if (bad !== undefined) return fail(id, SendFailureCode.invalidCharacters, `attribute "${name}" holds ${codePointLabel(bad.codePoint)} at index ${bad.index}, which SQS refuses`);
    attributes[name] = value;
    // Assigning `__proto__` on a plain object sets no own property: it is not sent, so not counted (as before).
    if (name === '__proto__') continue;
    attributeBytes += stringAttributeBytes(name, value);
    count++;
  }
  // One slot stays free for the sender's own marker (claim check or base64).
  if (count > MAX_MESSAGE_ATTRIBUTES - 1) {
    return fail(id, SendFailureCode.invalidMessage, `at most ${MAX_MESSAGE_ATTRIBUTES - 1} attributes (SQS allows ${MAX_MESSAGE_ATTRIBUTES}; the sender keeps one for its marker)`);
  }

  const prepared: Prepared = { index, id, group, body, attributes, bytes: Buffer.byteLength(body, 'utf8') + attributeBytes, delaySeconds };
  const bad = findInvalidCharacter(body);
  if (bad?.loneSurrogate) {
    return fail(id, SendFailureCode.invalidCharacters, `body holds a lone surrogate ${codePointLabel(bad.codePoint)} at index ${bad.index}: not valid Unicode, cannot be sent or encoded`);
  }
  if (ctx.claimThresholdBytes !== undefined && prepared.bytes > ctx.claimThresholdBytes) {
    // S3 takes any bytes: the characters SQS refuses do not matter here.
    prepared.claimBody = body;
    return prepared;
  }
  if (bad !== undefined) {
    if (ctx.invalidCharacters === 'reject') {
      return fail(id, SendFailureCode.invalidCharacters, `body holds ${codePointLabel(bad.codePoint)} at index ${bad.index}, which SQS refuses (option invalidCharacters: 'base64' sends such bodies encoded)`);
    }
    prepared.body = Buffer.from(body, 'utf8').toString('base64');
    prepared.attributes = { ...attributes, [CONTENT_ENCODING_ATTRIBUTE]: 'base64' };
    prepared.bytes = messageBytes(prepared.body, prepared.attributes);
    if (ctx.claimThresholdBytes !== undefined && prepared.bytes > ctx.claimThresholdBytes) {
      prepared.body = body;
      prepared.attributes = attributes;
      prepared.claimBody = body;
      return prepared;
    }
  }
  if (prepared.bytes > ctx.maxMessageBytes) {
    return fail(id, SendFailureCode.tooLarge, `message is ${prepared.bytes} bytes (body + attributes), the queue takes ${ctx.maxMessageBytes}; configure claimCheck to send it through S3`);
  }
  return prepared;
}
