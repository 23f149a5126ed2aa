/**
 * What an SQS or S3 error means for the sender: split the batch, retry it, or give up.
 *
 * A `SendMessageBatch` call fails as a whole (an exception) or per entry (`Failed` list with
 * `SenderFault`). Whole-call answers split into three kinds:
 * - the batch is too long (`BatchRequestTooLong`): split it and resend the halves;
 * - a whole-call rejection caused by one entry (`InvalidParameterValue`,
 *   `InvalidMessageContents`, `MissingParameter` — moto rejects a whole batch for one bad entry):
 *   bisect until the entry is alone, then it is that entry's sender fault;
 * - throttling, 5xx and network errors: retry; anything else (queue missing, access denied, KMS):
 *   every entry fails, not as a sender fault, so the relay keeps them pending instead of
 *   quarantining them.
 * Error names arrive as `BatchRequestTooLong`, `AWS.SimpleQueueService.BatchRequestTooLong`,
 * `com.amazonaws.sqs#BatchRequestTooLong` (a Smithy shape id, as ElasticMQ sends it in
 * `x-amzn-query-error`) or `BatchRequestTooLongException` depending on protocol and server;
 * they are normalised first.
 */

const SPLIT = new Set(['BatchRequestTooLong']);
const ENTRY = new Set(['InvalidParameterValue', 'InvalidMessageContents', 'MissingParameter', 'InvalidAttributeName', 'InvalidAttributeValue', 'UnsupportedOperation']);
const TRANSIENT = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'TooManyRequestsException',
  'SlowDown',
  'KmsThrottled',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalError',
  'InternalFailure',
]);

/**
 * `AWS.SimpleQueueService.NonExistentQueue` → `NonExistentQueue`; `com.amazonaws.sqs#InvalidAttributeValue`
 * or `InvalidAttributeValue:http://…` (AWS JSON `__type` forms) → `InvalidAttributeValue`;
 * `BatchRequestTooLongException` → `BatchRequestTooLong`.
 */
export function normaliseCode(code: string): string {
  let c = code;
  const colon = c.indexOf(':');
  if (colon >= 0) c = c.slice(0, colon);
  const cut = Math.max(c.lastIndexOf('.'), c.lastIndexOf('#'));
  if (cut >= 0) c = c.slice(cut + 1);
  if (c.endsWith('Exception') && c !== 'ThrottlingException' && c !== 'TooManyRequestsException') c = c.slice(0, -'Exception'.length);
  return c;
}

/** The error's code: its SDK name or `Code`, normalised; a network error's `code` (`ECONNRESET`); else its class name. */
export function errorCode(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'Unknown';
  const e = error as { name?: unknown; Code?: unknown; code?: unknown };
  const raw = typeof e.Code === 'string' ? e.Code : typeof e.name === 'string' && e.name !== 'Error' ? e.name : typeof e.code === 'string' ? e.code : 'Unknown';
  return normaliseCode(raw);
}

/** HTTP status of an SDK service error, when there was a response. */
export function httpStatus(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** What to do about a failed `SendMessageBatch` call. */
export type CallVerdict =
  | { kind: 'split'; code: string }
  | { kind: 'bisect'; code: string }
  | { kind: 'retry'; code: string }
  | { kind: 'fail'; code: string; retryable: boolean };

/** Classifies an exception thrown by `SendMessageBatch` (see the module comment). */
export function classifyCallError(error: unknown): CallVerdict {
  const code = errorCode(error);
  if (SPLIT.has(code)) return { kind: 'split', code };
  if (ENTRY.has(code)) return { kind: 'bisect', code };
  const status = httpStatus(error);
  const fault = (error as { $fault?: unknown } | null)?.$fault;
  // No HTTP status: the request never got an answer (reset, timeout, DNS) — or the answer was not
  // SQS's (moto answers some inputs with an HTML 500 page, which the SDK reports without a code).
  if (TRANSIENT.has(code) || status === undefined || status >= 500 || status === 429 || fault === 'server') return { kind: 'retry', code };
  return { kind: 'fail', code, retryable: false };
}

/** Whether a per-entry failure is worth retrying: every entry SQS does not blame on the sender. */
export function isRetryableEntry(entry: { SenderFault?: boolean }): boolean {
  return entry.SenderFault !== true;
}
