/**
 * The lease package's errors: subclasses of `SteadyError` with stable codes. Option mistakes
 * in store factories are `ConfigurationError`s from `@steadyfn/handler`.
 */
import { SteadyError } from '@steadyfn/handler/internal';

/**
 * A request the store refuses before sending anything: a missing key, an owner token with a
 * `|`, a lease that is not a whole number of milliseconds. Code `LEASE_REQUEST_INVALID`;
 * terminal (the same request fails again).
 */
export class LeaseRequestError extends SteadyError {
  override readonly name = 'LeaseRequestError';
  /** The request field at fault, e.g. `owner` or `requests[2].leaseMs`. */
  readonly field: string;
  constructor(field: string, expected: string) {
    super('LEASE_REQUEST_INVALID', `lease request field "${field}" must be ${expected}`, {
      status: 500,
      retryable: false,
      expose: false,
      issues: [{ field, message: `must be ${expected}`, expected }],
    });
    this.field = field;
  }
}

/**
 * The server cannot give a guarantee the store relies on (found by the start-up probe), so
 * the store refuses to run rather than risk running a claim twice. Code
 * `LEASE_STORE_UNSUPPORTED`; terminal: `reason` says which guarantee failed.
 */
export class LeaseStoreUnsupportedError extends SteadyError {
  override readonly name = 'LeaseStoreUnsupportedError';
  /** Which check failed, e.g. `unique-insert`. */
  readonly check: string;
  constructor(check: string, reason: string) {
    super('LEASE_STORE_UNSUPPORTED', `lease store refused: ${reason}`, { status: 500, retryable: false, expose: false });
    this.check = check;
  }
}

/**
 * A record under the store's prefix that this package did not write (another program shares
 * the prefix or collection). Never overwritten. Code `LEASE_RECORD_UNREADABLE`; terminal.
 */
export class LeaseRecordUnreadableError extends SteadyError {
  override readonly name = 'LeaseRecordUnreadableError';
  constructor() {
    // The key stays out of the message: keys may name users or orders.
    super('LEASE_RECORD_UNREADABLE', 'a record under the lease store\'s prefix was not written by @steadyfn/lease; it is left alone', {
      status: 500,
      retryable: false,
      expose: false,
    });
  }
}

/**
 * The store's server could not be reached or could not serve: the driver's connection failed
 * (refused, reset, timed out), gave up retrying (ioredis `MaxRetriesPerRequestError`,
 * `Connection is closed`, `Stream isn't writeable`), or a Redis Cluster could not route the call
 * (`Cluster isn't ready`, `Too many Cluster redirections`, `CLUSTERDOWN`, `LOADING`), or the
 * MongoDB driver failed to select a server or lost its connection (`MongoServerSelectionError`,
 * `MongoNetworkError`, `MongoPoolClearedError`, …), or the S3 endpoint refused, reset or timed
 * out the connection. Code
 * `LEASE_STORE_UNAVAILABLE`, HTTP 503, retryable: the same call may succeed once the server is
 * back. A claim or settle that failed so may or may not have been applied; read the key (`get`)
 * to know. The driver's error is the `cause`; the message names no key, owner or data.
 */
export class LeaseStoreUnavailableError extends SteadyError {
  override readonly name = 'LeaseStoreUnavailableError';
  /** The kind of store: `redis`, `mongodb` or `s3`. */
  readonly store: string;
  constructor(store: string, cause: unknown) {
    super('LEASE_STORE_UNAVAILABLE', `the lease store (${store}) could not be reached`, { status: 503, retryable: true, expose: true, cause });
    this.store = store;
  }
}
