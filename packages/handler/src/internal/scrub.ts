/**
 * Secrets by shape: text that may come from a driver or a URL is scrubbed before it reaches a
 * log line or an error message.
 */

// scheme://userinfo@host — the userinfo (RFC 3986 §3.2.1) is everything between `//` and the
// last `@` of the authority (a password may hold an unencoded `@`), which ends at `/`, `?`,
// `#` or whitespace.
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi;

// A secret-named query (or fragment, or form) parameter: `?access_token=…`, `&sig=…`,
// `#id_token=…` (OAuth implicit flow), `;AccountKey=…` (an Azure connection string), or one
// at the start of the text (a form body). The name must be the whole parameter name
// (`monkey=`, `keyboard=` pass), case-insensitive; the value ends at `&`, `#`, `;`,
// whitespace or a quote.
const QUERY_SECRETS =
  /(^|[?&#;])((?:access|id|refresh)_token|code|sig|signature|key|api[-_]?key|subscription-key|token|password|passwd|pwd|secret|client_secret|accountkey|sharedaccesskey|x-amz-(?:signature|security-token|credential)|x-goog-(?:signature|credential))=[^&#;\s"'<>`]+/gi;

/**
 * Masks secrets by shape in `text`, wherever they appear:
 * - the credentials of every URL (`scheme://user:pass@host`) become `[redacted]`;
 * - the value of every secret-named query, fragment or form parameter becomes `[redacted]`:
 *   `access_token`, `id_token`, `refresh_token`, `code`, `sig`, `signature`, `key`,
 *   `api_key`/`apikey`/`api-key`, `subscription-key`, `token`, `password`, `passwd`, `pwd`,
 *   `secret`, `client_secret`, `AccountKey`/`SharedAccessKey` (Azure connection strings, `;`-separated),
 *   `X-Amz-Signature`, `X-Amz-Security-Token`, `X-Amz-Credential`,
 *   `X-Goog-Signature`, `X-Goog-Credential` (names case-insensitive; other parameters are kept).
 *
 * Text without `@` or `=` is returned as it is, unscanned.
 *
 * @example
 * scrubText('connect ECONNREFUSED mongodb://app:s3cret@db:27017'); // 'connect ECONNREFUSED mongodb://[redacted]@db:27017'
 * scrubText('GET https://h/p?page=2&access_token=abc'); // 'GET https://h/p?page=2&access_token=[redacted]'
 */
export function scrubText(text: string): string {
  const scrubbed = text.includes('@') ? text.replace(URL_CREDENTIALS, '$1[redacted]@') : text;
  return scrubbed.includes('=') ? scrubbed.replace(QUERY_SECRETS, '$1$2=[redacted]') : scrubbed;
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
