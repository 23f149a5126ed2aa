/**
 * Typed errors. Every error that leaves a wrapped function is a SteadyError with a stable
 * `code`, an HTTP `status`, and whether a retry could succeed (`retryable`). Providers map
 * `retryable` onto their own retry signal; callers only ever see `code`, `title` and the
 * message of errors marked `expose` — never a stack trace or a payload.
 */

import { normalizeIssues } from './internal/issues.js';

/** One thing wrong with an input or an option: where, what, and what was expected. */
export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `items.0.sku`; empty for the root. */
  field: string;
  /** What was wrong, in words. */
  message: string;
  /** What was expected there, when the validator says (e.g. `number`). */
  expected?: string;
}

/** Options of `new SteadyError(code, message, options)`. */
export interface SteadyErrorOptions {
  /**
   * HTTP status, 400–599; any other value (99, 302, NaN) is answered as 500 (message hidden, logged as an error) while `retryable` still follows the value given
   * are derived from it. @default 500
   */
  status?: number;
  /**
   * Whether a retry could succeed.
   * @default true for a status ≥ 500, 408 (Request Timeout), 425 (Too Early, RFC 8470 §5.2) and 429 (Too Many Requests); false otherwise — judged on the status given, so a 302 or 0 answered as 500 stays terminal
   */
  retryable?: boolean;
  /** Whether `message` may be shown to the caller. @default true for a 4xx status */
  expose?: boolean;
  /**
   * What was wrong, field by field. Kept as `{ field, message, expected? }` alone: an entry that
   * is not an object is dropped, every other key (zod 4's `input`, the refused value) too; a
   * validator's issue (`{ path, message, code }`, zod's) gets its dotted `path` as `field` and
   * its `expected` in the schema's words, as `ValidationError`'s do.
   */
  issues?: FieldIssue[];
  headers?: Record<string, string>;
  cause?: unknown;
  /**
   * The level the handler logs this failure at. `warn` suits an expected, retried failure
   * (an out-of-order message a standard queue redelivers), so alerts on `error` stay meaningful.
   * @default 'error' when status >= 500, else 'warn'
   */
  logLevel?: 'warn' | 'error';
  /**
   * Facts an operator needs, added to the failure's log line (ids, counts, sequence numbers).
   * Never a payload value or a secret: they are logged as given (secret-looking names masked).
   */
  logFields?: Readonly<Record<string, string | number | boolean>>;
}

/** `status` as an error carries it: an integer in 400–599, any other value 500 (an error is neither a success nor a redirect). */
function errorStatus(status: unknown): number {
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}

/**
 * Whether a retry of a failure with `status` could succeed, by default: a server error (5xx),
 * `408 Request Timeout`, `425 Too Early` (RFC 8470 §5.2: the client may retry it) and
 * `429 Too Many Requests` — the caller's own fault otherwise.
 */
function retryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 425 || status === 429;
}

/**
 * Where an error records its class lineage: a registry symbol (`Symbol.for`), so every copy of
 * this package (the ESM and the CJS build loaded side by side, two installed versions) reads
 * the brand another copy set.
 */
const CLASS_CHAIN = Symbol.for('steadyfn.error.classChain');

const chains = new WeakMap<object, readonly string[]>();

/** The class names from `ctor` up to `SteadyError`, most derived first: a class's identity another copy can compare. Computed once per class. */
function classChainOf(ctor: object): readonly string[] {
  let chain = chains.get(ctor);
  if (chain === undefined) {
    const names: string[] = [];
    for (let c: unknown = ctor; typeof c === 'function' && c !== Error && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
      names.push((c as { name: string }).name);
    }
    chain = Object.freeze(names);
    chains.set(ctor, chain);
  }
  return chain;
}

/** The lineage branded on `value` by any copy of this package, if it is one of our errors. */
function brandedChain(value: unknown): readonly string[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const chain = (value as Record<symbol, unknown>)[CLASS_CHAIN];
  return Array.isArray(chain) ? (chain as string[]) : undefined;
}

/**
 * The error every failure becomes: a stable `code`, an HTTP `status` (default 500; a value
 * outside 400–599 becomes 500), whether a retry could succeed (`retryable`, default: status ≥ 500,
 * 408, 425 or 429) and whether `message` may be shown to a caller (`expose`, default: status < 500).
 *
 * `instanceof` works across copies of the package (the dual-package hazard: a CommonJS
 * dependency `require`s steadyfn while your ESM code `import`s it, so each has its own
 * classes): every instance is branded with its class lineage under a `Symbol.for` registry
 * key, and `x instanceof C` (for `SteadyError` and every subclass, in any steadyfn package)
 * holds when `x` was made by `C` in this copy, or when `x`'s lineage ends with `C`'s (by class
 * name, the same in every copy). A subclass stays apart from its siblings:
 * a `ConfigurationError` is not an `IdempotencyKeyReusedError` in any copy. Class names are
 * the identity, so a bundle minified with renamed identifiers keeps this only with names kept
 * (esbuild `keepNames`); without it, an error from the other copy is only recognised by
 * `toSteadyError` (by its `code`, `status`, `retryable` and `expose`).
 *
 * @example
 * throw new SteadyError('OUT_OF_STOCK', 'No stock left for this item', { status: 409, retryable: false });
 */
export class SteadyError extends Error {
  /**
   * `value instanceof this class`, across copies of the package: made by this class in this
   * copy, or branded by any copy with a lineage that ends with this class's lineage. A value
   * that throws when read (a revoked Proxy, a Proxy whose traps throw) answers false: never throws.
   */
  static override [Symbol.hasInstance]<T>(this: abstract new (...args: never[]) => T, value: unknown): value is T {
    if (typeof value !== 'object' || value === null) return false;
    let chain: readonly string[] | undefined;
    try {
      if (Object.prototype.isPrototypeOf.call(this.prototype, value)) return true;
      chain = brandedChain(value);
    } catch {
      // A thrown Proxy whose traps throw (or a revoked one) cannot be read: it is not ours.
      return false;
    }
    if (chain === undefined) return false;
    const own = classChainOf(this);
    const offset = chain.length - own.length;
    if (offset < 0) return false;
    for (let i = 0; i < own.length; i++) if (chain[offset + i] !== own[i]) return false;
    return true;
  }

  override readonly name: string = 'SteadyError';
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly expose: boolean;
  readonly issues: FieldIssue[] | undefined;
  /** Extra response headers for HTTP callers (e.g. `Retry-After`). */
  readonly headers: Record<string, string> | undefined;
  /** The level the handler logs this failure at (see {@link SteadyErrorOptions.logLevel}). */
  readonly logLevel: 'warn' | 'error';
  /** Facts added to the failure's log line (see {@link SteadyErrorOptions.logFields}). */
  readonly logFields: Readonly<Record<string, string | number | boolean>> | undefined;

  constructor(code: string, message: string, options: SteadyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = errorStatus(options.status);
    // Retry follows the status the caller chose, even one answered as 500: a 3xx/2xx/0 thrown by
    // mistake stays terminal (a queue would otherwise retry it to its dead-letter queue).
    const chosen = typeof options.status === 'number' ? options.status : this.status;
    this.retryable = options.retryable ?? retryableStatus(chosen);
    this.expose = options.expose ?? this.status < 500;
    this.issues = normalizeIssues(options.issues);
    this.headers = options.headers;
    this.logLevel = options.logLevel ?? (this.status >= 500 ? 'error' : 'warn');
    this.logFields = options.logFields;
    // Not enumerable: logs, JSON and equality checks see the error as before.
    Object.defineProperty(this, CLASS_CHAIN, { value: classChainOf(new.target) });
  }
}

/** The input did not match the declared schema. Terminal: the same input fails again. */
export class ValidationError extends SteadyError {
  override readonly name = 'ValidationError';
  constructor(issues: FieldIssue[], message = 'Input failed validation') {
    super('VALIDATION_FAILED', message, { status: 400, retryable: false, expose: true, issues });
  }
}

/**
 * An HTTP request whose method the function does not answer (the `methods` option of
 * `handler()`): `405 Method Not Allowed`, code `METHOD_NOT_ALLOWED`, terminal, with an `Allow`
 * header listing `allowed` and one issue on field `method` (RFC 9110 §15.5.6). The method
 * received is not quoted: it is the caller's text.
 */
export class MethodNotAllowedError extends SteadyError {
  override readonly name = 'MethodNotAllowedError';
  /** The methods the function answers, as the `Allow` header lists them. */
  readonly allowed: ReadonlyArray<string>;
  constructor(allowed: ReadonlyArray<string>) {
    const list = allowed.join(', ');
    super('METHOD_NOT_ALLOWED', `This function answers ${list} only`, {
      status: 405,
      retryable: false,
      expose: true,
      headers: { allow: list },
      issues: [{ field: 'method', message: 'method not allowed', expected: `one of ${list}` }],
    });
    this.allowed = allowed;
  }
}

/** The provider event itself could not be understood (not the user's schema). Terminal. */
export class MalformedEventError extends SteadyError {
  override readonly name = 'MalformedEventError';
  constructor(message: string, issues?: FieldIssue[]) {
    super('MALFORMED_EVENT', message, { status: 400, retryable: false, expose: true, issues: issues ?? [] });
  }
}

/**
 * A Kinesis record aggregated by the Kinesis Producer Library reached a handler created without
 * `kinesisDeaggregate` (`KINESIS_AGGREGATED_RECORD`, 503). Retryable: the record is intact, the deployment cannot read it. Failing it keeps it in the
 * stream (Lambda retries from it) until the function is deployed with `kinesisDeaggregate`.
 */
export class KinesisAggregatedRecordError extends SteadyError {
  override readonly name = 'KinesisAggregatedRecordError';
  constructor(field: string) {
    super(
      'KINESIS_AGGREGATED_RECORD',
      'The Kinesis record is a KPL aggregated record: pass `kinesisDeaggregate: deaggregateSync` from the aws-kinesis-agg package to run its user records, or `kinesisDeaggregate: false` to receive the aggregated bytes',
      {
        status: 503,
        retryable: true,
        issues: [{ field, message: 'KPL aggregated record (magic bytes f3 89 9a c2)', expected: 'the kinesisDeaggregate option' }],
      },
    );
  }
}

/** The invocation ran out of time before the function finished. Retryable. */
export class DeadlineExceededError extends SteadyError {
  override readonly name = 'DeadlineExceededError';
  constructor(message = 'The invocation deadline was reached') {
    super('DEADLINE_EXCEEDED', message, { status: 504, retryable: true, expose: true });
  }
}

/** A failure that a later attempt may not repeat (a dependency was down, a lock was held). */
export class RetryableError extends SteadyError {
  override readonly name = 'RetryableError';
  constructor(code: string, message: string, options: Omit<SteadyErrorOptions, 'retryable'> = {}) {
    super(code, message, { status: 503, ...options, retryable: true });
  }
}

/** A failure that no retry can fix (bad data, a business rule). */
export class TerminalError extends SteadyError {
  override readonly name = 'TerminalError';
  constructor(code: string, message: string, options: Omit<SteadyErrorOptions, 'retryable'> = {}) {
    super(code, message, { status: 422, ...options, retryable: false });
  }
}

/**
 * The `principal` option of `handler()` returned something other than a string or undefined:
 * a bug in the function, the same on every retry (terminal, 500, message not shown to callers).
 */
export class PrincipalInvalidError extends SteadyError {
  override readonly name = 'PrincipalInvalidError';
  constructor(value: unknown) {
    super('PRINCIPAL_INVALID', `handler(): option "principal" must return a string or undefined; got ${value === null ? 'null' : typeof value}`, {
      status: 500,
      retryable: false,
      expose: false,
      issues: [{ field: 'principal', message: 'Not a string', expected: 'string | undefined' }],
    });
  }
}

/**
 * A value set as `ctx.traceparent` is not a W3C `traceparent`
 * (https://www.w3.org/TR/trace-context/#traceparent-header). A programming error in the code
 * that set it: terminal. The value itself is not in the message (it came from outside).
 */
export class TraceparentInvalidError extends SteadyError {
  override readonly name = 'TraceparentInvalidError';
  constructor(value: unknown) {
    super('TRACEPARENT_INVALID', `ctx.traceparent must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>, ids not all zero); got ${typeof value === 'string' ? `a string of ${value.length} characters` : typeof value}`, {
      status: 500,
      retryable: false,
      expose: false,
      issues: [{ field: 'traceparent', message: 'Not a W3C traceparent', expected: '00-<32 hex>-<16 hex>-<2 hex>' }],
    });
  }
}

/**
 * A factory was given options it cannot work with (a negative `ttlMs`, a missing `store`, a
 * driver that is not installed). Thrown when the function is defined (at cold start), or as
 * the invocation's error when it is only found at first use. Terminal: no retry can fix it.
 * Its message names the option, what was expected and what was given, never a secret.
 *
 * @example
 * throw new ConfigurationError('idempotency(): option "ttlMs" must be a positive integer (milliseconds); got -1', { field: 'ttlMs', expected: 'a positive integer (milliseconds)' });
 */
export class ConfigurationError extends SteadyError {
  // `string`: subclasses (`LeaseRecordUnreadableError`, …) keep their own names.
  override readonly name: string = 'ConfigurationError';
  /** The option at fault (dotted path), e.g. `ttlMs` or `store`. */
  readonly field: string;
  /**
   * @param message - The whole explanation, e.g. `redis(): option "url" must be a redis:// URL; got "x"`.
   * @param details.field - The option at fault.
   * @param details.expected - What it must be, in words.
   * @param details.code - A more specific stable code. Default `CONFIG_INVALID`.
   * @param details.issues - Every option at fault, when more than one is (`configFromEnv`); default: `field`'s alone.
   */
  constructor(message: string, details: { field: string; expected: string; code?: string; cause?: unknown; issues?: FieldIssue[] }) {
    super(details.code ?? 'CONFIG_INVALID', message, {
      status: 500,
      retryable: false,
      expose: false,
      issues: details.issues ?? [{ field: details.field, message, expected: details.expected }],
      ...(details.cause === undefined ? {} : { cause: details.cause }),
    });
    this.field = details.field;
  }
}

/** An HTTP error with a chosen status; retryable when the status is 5xx, 408, 425 or 429. */
export function httpError(status: number, code: string, message: string, options: Omit<SteadyErrorOptions, 'status'> = {}): SteadyError {
  return new SteadyError(code, message, { ...options, status });
}

/**
 * Anything thrown that is not a SteadyError is an unexpected failure: `INTERNAL`, status 500,
 * retryable (the platform's retry is the safe default for an unknown cause) and never exposed,
 * with the thrown value as `cause`. A status of another library is never read (`status`,
 * `statusCode`, `expose` of `http-errors`, Boom's `output.statusCode`, the AWS SDK's
 * `$metadata.httpStatusCode`): a downstream call's 404 is not the function's 404. The one
 * exception is a SteadyError of another copy of this package: a value with a string `code` and
 * `message`, a number `status` and a boolean `retryable` and `expose` keeps them. To keep the
 * status of errors you trust, map them in a plugin's `onError` (a throw there replaces the error).
 * Total: a thrown value that throws when read (a Proxy whose traps throw, a revoked Proxy, a
 * getter that throws) is such a failure too, kept without it as `cause` (nothing could read it
 * safely).
 */
export function toSteadyError(thrown: unknown): SteadyError {
  if (thrown instanceof SteadyError) return thrown;
  let like: SteadyErrorFields | undefined;
  try {
    like = steadyErrorFields(thrown);
    // What the failure log reads of a cause (its class and code): a value that throws there is not kept.
    // A function is an object too (a revoked Proxy of one is `typeof` 'function').
    if ((typeof thrown === 'object' && thrown !== null) || typeof thrown === 'function') void [Object.getPrototypeOf(thrown), (thrown as Error).name, (thrown as { code?: unknown }).code];
  } catch {
    return new SteadyError('INTERNAL', 'Internal error', { status: 500, retryable: true, expose: false });
  }
  if (like) return new SteadyError(like.code, like.message, { ...like.options, cause: thrown });
  return new SteadyError('INTERNAL', 'Internal error', { status: 500, retryable: true, expose: false, cause: thrown });
}

interface SteadyErrorFields {
  code: string;
  message: string;
  options: Pick<SteadyErrorOptions, 'status' | 'retryable' | 'expose' | 'issues' | 'headers'>;
}

/**
 * Errors from another copy of this package (two versions installed) are still ours: their
 * fields, each read once (a getter answers the same value everywhere it is used). Throws when
 * `value` throws as it is read.
 */
function steadyErrorFields(value: unknown): SteadyErrorFields | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { code, status, retryable, expose, message, issues, headers } = value as Record<string, unknown>;
  if (typeof code !== 'string' || typeof status !== 'number' || typeof retryable !== 'boolean' || typeof expose !== 'boolean' || typeof message !== 'string') {
    return undefined;
  }
  return { code, message, options: { status, retryable, expose, issues: normalizeIssues(issues), headers: headers as SteadyError['headers'] } };
}

/** RFC 9457 problem details, as sent to HTTP callers. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  errors?: FieldIssue[];
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  425: 'Too Early',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The RFC 9457 problem details an HTTP caller receives for `error` (no stack, no unexposed message). */
export function toProblem(error: SteadyError): ProblemDetails {
  const problem: ProblemDetails = {
    type: `urn:steadyfn:error:${error.code.toLowerCase()}`,
    title: TITLES[error.status] ?? (error.status >= 500 ? 'Server Error' : 'Client Error'),
    status: error.status,
    code: error.code,
  };
  if (error.expose) problem.detail = error.message;
  // Issues of an unexposed error (a configuration error names options and values) stay in the logs.
  if (error.expose && error.issues && error.issues.length > 0) problem.errors = error.issues;
  return problem;
}

/** Code, public message, `retryable` and an exposed error's issues whole (messages too, which may quote the input): not for logs or stored results — use `loggedIssues` there. */
export function toErrorSummary(error: SteadyError): { code: string; message: string; retryable: boolean; errors?: FieldIssue[] } {
  const summary: { code: string; message: string; retryable: boolean; errors?: FieldIssue[] } = {
    code: error.code,
    message: error.expose ? error.message : 'Internal error',
    retryable: error.retryable,
  };
  if (error.expose && error.issues && error.issues.length > 0) summary.errors = error.issues;
  return summary;
}

/** An issue as a log line may hold it: where, and what was expected — never its message. */
export interface LoggedIssue {
  /** Dotted path of the offending field (at most 200 characters). */
  field: string;
  /** What was expected there, in the schema's words (at most 200 characters). */
  expected?: string;
}

/**
 * Issues as a log line may hold them: at most 10, each `{ field, expected? }` with both cut to
 * 200 characters. The message is left out: a refinement's may quote the value it refused.
 */
export function loggedIssues(issues: ReadonlyArray<{ field: string; expected?: string | undefined }>): LoggedIssue[] {
  const out: LoggedIssue[] = [];
  // Read defensively: a caller's array may hold anything (the types are not checked in plain JS).
  for (const issue of issues.slice(0, 10)) {
    if (typeof issue !== 'object' || issue === null) continue;
    const field = typeof issue.field === 'string' ? issue.field.slice(0, 200) : '';
    out.push(typeof issue.expected === 'string' ? { field, expected: issue.expected.slice(0, 200) } : { field });
  }
  return out;
}

/** The error `toPublicError` makes. */
export type PublicError = Error & { code: string; retryable: boolean; errors?: LoggedIssue[] | FieldIssue[] };

/**
 * The error to throw where a provider requires a throw to signal failure: it carries the
 * code and public message only. The stack is removed because runtimes such as Lambda's
 * send `stack` back to the caller.
 *
 * A runtime logs what it is thrown, every enumerable property included (Lambda's Node runtime
 * writes them to CloudWatch as its `Invoke Error` line), and its caller never sees them: the
 * `errors` of a thrown error are `loggedIssues` — field and expected, not the messages a
 * refinement may write the input into. `issues: 'full'` keeps each issue whole, for a throw
 * that reaches the calling code itself (`main.invoke`), not a runtime.
 */
export function toPublicError(error: SteadyError, issues: 'logged' | 'full' = 'logged'): PublicError {
  const summary = toErrorSummary(error);
  const out = new Error(`${summary.code}: ${summary.message}`) as PublicError;
  out.name = summary.code;
  out.code = summary.code;
  out.retryable = summary.retryable;
  if (summary.errors) out.errors = issues === 'full' ? summary.errors : loggedIssues(summary.errors);
  // The message already starts with the code, which is the name: one line, no frames.
  out.stack = out.message;
  return out;
}
