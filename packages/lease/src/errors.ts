/**
 * The lease package's errors: subclasses of `SteadyError` with stable codes. Option mistakes
 * in store factories are `ConfigurationError`s from `@steadyfn/handler`, and so are the two
 * faults of the deployment a store finds at run time (a server without a guarantee it relies
 * on, a foreign record under its prefix): `terminalErrors: 'ack'` never acknowledges a message
 * that met one, so it stays for the dead-letter queue until the deployment is fixed.
 */
import { ConfigurationError, SteadyError } from '@steadyfn/handler/internal';

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
 * `LEASE_STORE_UNSUPPORTED`; terminal: `reason` says which guarantee failed. A fault of the
 * deployment, not of any one message: a `ConfigurationError` (field `store`, `expected` what the
 * server must provide), so `terminalErrors: 'ack'` keeps the message for the dead-letter queue.
 */
export class LeaseStoreUnsupportedError extends ConfigurationError {
  override readonly name: string = 'LeaseStoreUnsupportedError';
  /** Which check failed, e.g. `unique-insert`. */
  readonly check: string;
  /**
   * @param check - Which check failed: `unique-insert`, `if-none-match`, `if-match`.
   * @param reason - What the server did, in words (no key, no data).
   * @param expected - What the server must provide, in words. Default: a server that passes `check`.
   */
  constructor(check: string, reason: string, expected = `a server that passes the ${check} check`) {
    super(`lease store refused: ${reason}`, { field: 'store', expected, code: 'LEASE_STORE_UNSUPPORTED' });
    this.check = check;
  }
}

/**
 * A record under the store's prefix that this package did not write (another program shares
 * the prefix or collection, or an older deployment wrote it). Never overwritten. Code
 * `LEASE_RECORD_UNREADABLE`; terminal. A fault of the deployment, not of the message that met
 * it: a `ConfigurationError` (field `prefix`, or `collection` for MongoDB), so
 * `terminalErrors: 'ack'` keeps the message for the dead-letter queue.
 */
export class LeaseRecordUnreadableError extends ConfigurationError {
  override readonly name: string = 'LeaseRecordUnreadableError';
  /** @param field - The option naming where the record is: `prefix` (Redis, S3) or `collection` (MongoDB). Default `prefix`. */
  constructor(field: 'prefix' | 'collection' = 'prefix') {
    // The key stays out of the message: keys may name users or orders.
    super('a record under the lease store\'s prefix was not written by @steadyfn/lease; it is left alone', {
      field,
      expected: field === 'collection' ? 'a collection that only @steadyfn/lease writes' : 'a key prefix that only @steadyfn/lease writes under',
      code: 'LEASE_RECORD_UNREADABLE',
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
