/**
 * Secrets by shape: text that may come from a driver or a URL is scrubbed before it reaches a
 * log line or an error message.
 */

// scheme://userinfo@host — the userinfo (RFC 3986 §3.2.1) is everything between `//` and the
// last `@` of the authority (a password may hold an unencoded `@`), which ends at `/`, `?`,
// `#` or whitespace.
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi;

/**
 * Replaces the credentials of every URL in `text` (`scheme://user:pass@host`) with `[redacted]`.
 *
 * @example
 * scrubText('connect ECONNREFUSED mongodb://app:s3cret@db:27017'); // 'connect ECONNREFUSED mongodb://[redacted]@db:27017'
 */
export function scrubText(text: string): string {
  return text.includes('@') ? text.replace(URL_CREDENTIALS, '$1[redacted]@') : text;
}

/**
 * What may be logged about a thrown value that came from a driver or a user-supplied source:
 * its class name and its `code`, never its message (messages carry values and secrets).
 * Never throws: a value that throws when read gives only its `typeof`.
 */
export function errorFacts(thrown: unknown): { cause: string; causeCode?: string | number } {
  try {
    if (thrown instanceof Error) {
      const code = (thrown as { code?: unknown }).code;
      return typeof code === 'string' || typeof code === 'number' ? { cause: thrown.name, causeCode: code } : { cause: thrown.name };
    }
  } catch {
    // A value that throws when read (a revoked Proxy, a trap or getter that throws): its type only.
  }
  return { cause: typeof thrown };
}

/**
 * `errorFacts` of `error.cause` when that is an `Error`; `{}` when there is none, it is not an
 * `Error`, or reading it throws (a getter that throws, a revoked Proxy whose `instanceof` check
 * throws). Never throws: the failure log reads a cause the function chose, which may be hostile.
 *
 * @example
 * causeFacts(new SteadyError('X', 'm', { status: 500, retryable: true, expose: false, cause: err })); // { cause: 'MongoNetworkError' }
 */
export function causeFacts(error: unknown): { cause?: string; causeCode?: string | number } {
  let cause: unknown;
  try {
    cause = (error as { cause?: unknown } | null)?.cause;
    if (!(cause instanceof Error)) return {};
  } catch {
    return {};
  }
  return errorFacts(cause);
}
