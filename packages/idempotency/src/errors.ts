/**
 * The errors the idempotency plugin answers with: each a `SteadyError` with a stable `code`
 * and the HTTP status of the IETF `Idempotency-Key` header draft. Options it cannot work with
 * throw `ConfigurationError` from `@steadyfn/handler` when `idempotency()` is called.
 */
import type { FieldIssue } from '@steadyfn/handler';
// From the internal entry, not the root: it loads no provider adapter (cold start).
import { SteadyError } from '@steadyfn/handler/internal';

/** What a client-sent key may be. */
export const KEY_EXPECTED = '1 to 255 printable ASCII characters, bare or as a quoted structured-field string (with optional parameters)';

/** The longest `Retry-After` a 409 `IDEMPOTENCY_IN_PROGRESS` gives, in seconds. */
export const IN_PROGRESS_RETRY_AFTER_MAX_S = 5;

/**
 * The `Retry-After` of a 409 for a record held until `leaseUntil` (epoch ms), in whole seconds
 * (RFC 9110 delay-seconds): the time left on the lease — when the first invocation must have
 * completed or the key frees itself — rounded up, at least 1 and at most
 * `IN_PROGRESS_RETRY_AFTER_MAX_S` (5: the lease follows the invocation's deadline, up to 15
 * minutes on Lambda, while the first usually completes in well under a second, so the time left
 * is a worst case, not an estimate; a client that waited it out would wait minutes for a result
 * that was ready); 1 when the lease or the time is not known.
 */
export function inProgressRetryAfter(leaseUntil: number | undefined, now: number): number {
  if (leaseUntil === undefined || !Number.isFinite(leaseUntil) || !Number.isFinite(now)) return 1;
  return Math.min(IN_PROGRESS_RETRY_AFTER_MAX_S, Math.max(1, Math.ceil((leaseUntil - now) / 1000)));
}

/**
 * 409 `IDEMPOTENCY_IN_PROGRESS`: a duplicate arrived while the first invocation still runs.
 * Retryable (a queue redelivers it later, and it then replays). Its `Retry-After` (HTTP only)
 * is the time left on the first one's lease in whole seconds, from 1 to 5
 * (`inProgressRetryAfter`).
 */
export class IdempotencyInProgressError extends SteadyError {
  override readonly name = 'IdempotencyInProgressError';
  /** The `Retry-After` sent, in seconds. */
  readonly retryAfterSeconds: number;
  /**
   * @param leaseUntil - epoch ms when the running invocation's lease ends, when known.
   * @param now - the current time, epoch ms. @default Date.now()
   */
  constructor(leaseUntil?: number, now: number = Date.now()) {
    const retryAfter = inProgressRetryAfter(leaseUntil, now);
    super('IDEMPOTENCY_IN_PROGRESS', 'A request with this idempotency key is still being processed', {
      status: 409,
      retryable: true,
      expose: true,
      headers: { 'Retry-After': String(retryAfter) },
    });
    this.retryAfterSeconds = retryAfter;
  }
}

/** 422 `IDEMPOTENCY_KEY_REUSED`: the key was already used with a different payload (or HTTP method/path). Terminal. */
export class IdempotencyKeyReusedError extends SteadyError {
  override readonly name = 'IdempotencyKeyReusedError';
  constructor() {
    super('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was already used with a different request payload', { status: 422, retryable: false, expose: true });
  }
}

/** 400 `IDEMPOTENCY_KEY_MISSING`: a key is required (`required: true`) but none was found. Terminal. */
export class IdempotencyKeyMissingError extends SteadyError {
  override readonly name = 'IdempotencyKeyMissingError';
  constructor(isHttp: boolean) {
    const issue: FieldIssue = isHttp
      ? { field: 'headers.idempotency-key', message: 'Missing', expected: KEY_EXPECTED }
      : { field: 'idempotencyKey', message: 'Missing', expected: 'a non-empty string' };
    super('IDEMPOTENCY_KEY_MISSING', isHttp ? 'This request requires an Idempotency-Key header' : 'No idempotency key could be found for this invocation', {
      status: 400,
      retryable: false,
      expose: true,
      issues: [issue],
    });
  }
}

/**
 * 400 `IDEMPOTENCY_KEY_INVALID`: the `Idempotency-Key` header is not a valid key (empty, too
 * long, control characters, a broken quoted string), or a key function returned a non-string
 * (500, a defect of the function). Terminal.
 */
export class IdempotencyKeyInvalidError extends SteadyError {
  override readonly name = 'IdempotencyKeyInvalidError';
  constructor(reason: string, status: 400 | 500 = 400) {
    super('IDEMPOTENCY_KEY_INVALID', status === 400 ? 'The Idempotency-Key header is not a valid key' : 'The idempotency key function returned a non-string', {
      status,
      retryable: false,
      expose: status === 400,
      issues: status === 400 ? [{ field: 'headers.idempotency-key', message: reason, expected: KEY_EXPECTED }] : [],
    });
  }
}

/**
 * 500 `IDEMPOTENCY_SCOPE_INVALID`: a `scope` function returned something other than a string
 * or undefined — a defect of the function, the same on every retry. Terminal; nothing runs.
 */
export class IdempotencyScopeInvalidError extends SteadyError {
  override readonly name = 'IdempotencyScopeInvalidError';
  constructor() {
    super('IDEMPOTENCY_SCOPE_INVALID', 'The idempotency scope function returned a non-string', {
      status: 500,
      retryable: false,
      issues: [{ field: 'scope', message: 'Not a string', expected: 'string | undefined' }],
    });
  }
}

/**
 * 400 `IDEMPOTENCY_KEY_AMBIGUOUS`: the request carries more than one `Idempotency-Key` (the
 * header repeated, which every provider joins as `a, b`, or a list in one header). Which one
 * the client meant cannot be told, so nothing runs. Terminal.
 */
export class IdempotencyKeyAmbiguousError extends SteadyError {
  override readonly name = 'IdempotencyKeyAmbiguousError';
  constructor() {
    super('IDEMPOTENCY_KEY_AMBIGUOUS', 'The request carries more than one Idempotency-Key', {
      status: 400,
      retryable: false,
      expose: true,
      issues: [{ field: 'headers.idempotency-key', message: 'More than one key', expected: `exactly one key: ${KEY_EXPECTED}` }],
    });
  }
}

/** What `canonicalHash` can count a value by. */
export const HASHABLE_EXPECTED = 'JSON data, a Date, Map, Set, RegExp or bytes, or an object with its own fields or a toJSON()';

/**
 * 500 `IDEMPOTENCY_INPUT_UNHASHABLE`: the input (or a value given to `canonicalHash`) holds an
 * object whose value cannot be seen — an instance of a class keeping its state in private
 * fields with no `toJSON()`, a `WeakMap`, a `Promise`, an `Error` — which JSON writes as `{}`.
 * Hashed as `{}`, two different inputs would share one key and the second be answered the
 * first one's replay, so it is refused: give the class a `toJSON()` or map it to plain data in
 * the input schema. A defect of the input's shape, the same on every retry: terminal, and
 * thrown before any record is claimed. The issue names the field (`input.token`) and the
 * value's type, never the value.
 */
export class IdempotencyInputUnhashableError extends SteadyError {
  override readonly name = 'IdempotencyInputUnhashableError';
  /** The name of the refused value's class (`Token`), or `object`. */
  readonly typeName: string;
  /**
   * @param field - dotted path of the value (`input.auth.0.token`); empty for the root.
   * @param typeName - the name of its class, or `object`.
   */
  constructor(field: string, typeName: string) {
    super('IDEMPOTENCY_INPUT_UNHASHABLE', 'The input holds a value no idempotency key can be computed from', {
      status: 500,
      retryable: false,
      issues: [{ field, message: `${typeName} instance with no own fields and no toJSON(): its value cannot be seen`, expected: HASHABLE_EXPECTED }],
    });
    this.typeName = typeName;
  }
}

/** 503 `IDEMPOTENCY_STORE_UNAVAILABLE`: the store could not be reached before the function ran. Retryable. */
export class IdempotencyStoreUnavailableError extends SteadyError {
  override readonly name = 'IdempotencyStoreUnavailableError';
  constructor(cause: unknown) {
    super('IDEMPOTENCY_STORE_UNAVAILABLE', 'The idempotency store could not be reached', { status: 503, retryable: true, expose: true, cause });
  }
}

/**
 * 500 `IDEMPOTENCY_RECORD_CORRUPT`: a stored record could not be read back — a completed
 * record's answer this version cannot decode, or a value under the record's key that
 * `@steadyfn/lease` did not write (`SET idem:<key> hello`, a hash, a document of another shape
 * in the collection: the store's `LEASE_RECORD_UNREADABLE`, kept as the `cause`). Terminal: the
 * function does not run, so it never runs without a claim, and every retry meets the same until
 * the value is deleted. The failure's log line names the record's store key (`storeKey`: the
 * scope and a hash of the key, never the client's key) and never the stored value.
 */
export class IdempotencyRecordCorruptError extends SteadyError {
  override readonly name = 'IdempotencyRecordCorruptError';
  /**
   * @param storeKey - the record's store key (`<scope>:<kind><hash>`), logged; absent when not known.
   * @param cause - the store's error (`LEASE_RECORD_UNREADABLE`), when it refused the record.
   */
  constructor(storeKey?: string, cause?: unknown) {
    super('IDEMPOTENCY_RECORD_CORRUPT', 'A stored idempotency record could not be read', {
      status: 500,
      retryable: false,
      ...(cause === undefined ? {} : { cause }),
      ...(storeKey === undefined ? {} : { logFields: { storeKey } }),
    });
  }
}
