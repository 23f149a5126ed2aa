/**
 * Reading back whether a settle took effect: the idempotency plugin and the outbox inbox both
 * settle records of an idempotency store and, when a retried settle is refused, must tell "it
 * was applied before its answer was lost" from "another invocation took the record over". One
 * implementation, typed by the shapes both use (`@steadyfn/idempotency`'s requests and records),
 * so lease does not depend on idempotency.
 */

/** A completion (it carries the encoded `result`) or a release (no `result`) of the record `key`. */
export interface SettleRequestLike {
  key: string;
  fingerprint?: string;
  result?: string;
}

/** A stored record, as far as this check reads it. */
export interface SettledRecordLike {
  status: string;
  fingerprint?: string;
  result?: string;
}

/**
 * Whether a settle whose answer was lost took effect: for a completion, the record is completed
 * with its fingerprint and result; for a release, the record is gone.
 *
 * @param get the store's read of one record (`IdempotencyStore.get`); its errors propagate.
 */
export async function appliedBefore(get: (key: string) => Promise<SettledRecordLike | undefined>, request: SettleRequestLike): Promise<boolean> {
  const record = await get(request.key);
  if (typeof request.result !== 'string') return record === undefined;
  return record?.status === 'completed' && record.fingerprint === request.fingerprint && record.result === request.result;
}
