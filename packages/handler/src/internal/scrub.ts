/**
 * Secrets by shape: text that may come from a driver or a URL is scrubbed before it reaches a
 * log line or an error message.
 */

// scheme://userinfo@host — the userinfo (RFC 3986 §3.2.1) is everything between `//` and the
// last `@` of the authority (a password may hold an unencoded `@`), which ends at `/`, `?`,
// `#` or whitespace.
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi;

// Names that hold a secret wherever they appear (in them, case-insensitive; `-`, `_`, `.` or a
// space may separate the words).
const SECRET_NAME =
  /authorization|cookie|api[-_. ]?key|passw(?:or)?d|secret|token|credential|session|private[-_. ]?key|signature|whisk[-_. ]?auth|functions[-_. ]?key|jwt[-_. ]?assertion|oidc[-_. ]?data|subscription[-_. ]?key|(?:account|shared[-_. ]?access)[-_. ]?key/i;

// A last word that says what the secret is, not what it holds: `token_type`, `tokenType`,
// `signatureVersion`, `FUNCTION_SIGNATURE_TYPE`, `SharedAccessKeyName`, `secretName`.
const DESCRIBES = /(?:type|kind|name|method|algorithm|version)$/i;

// Short or common names, as whole words only (`author`, `signal`, `sigma`, `assertions` pass).
const SECRET_WORDS = ['auth', 'authentication', 'pwd', 'pass', 'sig', 'jwt', 'sas', 'passphrase', 'assertion'];

// A whole word: after the start, a non-letter or (capitalised) a lower-case letter (camelCase),
// and not followed by a letter of the same word (`author`, `signal`, `SIGNAL`).
const SECRET_WORD = (() => {
  const lower = SECRET_WORDS.join('|');
  const capital = SECRET_WORDS.map((word) => word[0]!.toUpperCase() + word.slice(1)).join('|');
  const upper = SECRET_WORDS.join('|').toUpperCase();
  return new RegExp(`(?:^|[^A-Za-z])(?:(?:${lower}|${capital})(?![a-z])|(?:${upper})(?![A-Za-z]))|(?<=[a-z])(?:(?:${capital})(?![a-z])|(?:${upper})(?![A-Za-z]))`);
})();

// The words of a name: split at `-`, `_`, `.`, spaces and camelCase (`tokenExpiresAt` → token,
// expires, at; `XAmzSignature` → x, amz, signature).
const WORD_BREAK = /[-_. ]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/;

// A last word that says the name is about a secret, not the secret itself: a counter, a limit,
// a policy, a time, a place (`tokens_used`, `max_tokens`, `tokenCount`, `passwordPolicy`,
// `secretArn`, `tokenExpiresAt`, `cookieDomain`, `tokenUrl`). Anything else after a secret word
// keeps the name secret (`SecretString`, `password1`, `password_confirmation`, `JSESSIONID`,
// `private_key_pem`, `clientSecretValue`, `cookieHeader`, `credentialsJson`).
const NOT_SECRET_LAST = /^(?:counts?|used|usage|limits?|max|min|polic(?:y|ies)|arn|at|expires|expiry|expiration|ttl|length|size|valid|scope|domain|path|changed|enabled|required|tokens|endpoint|url|uri)$/;

// Secrets whose last word would read as not secret: a SAS URL carries its token.
// Matched against the last two words joined.
const SECRET_TAIL = /^(?:sasur[il])$/;

function lastWordIsSecret(name: string): boolean {
  // A trailing number is a variant, not a word (`x-hub-signature-256`).
  const words = name.split(WORD_BREAK).filter((word) => word !== '' && !/^\d+$/.test(word));
  const last = (words[words.length - 1] ?? '').toLowerCase();
  if (SECRET_TAIL.test(words.slice(-2).join('').toLowerCase())) return true;
  return !NOT_SECRET_LAST.test(last);
}

/**
 * Whether a field, header or parameter named `name` holds a secret: one rule for the logger's
 * field names and `scrubText`'s parameter names (see `SECRET_FIELD_NAMES` in logger.ts). The
 * name must contain a secret word (`token`, `secret`, `password`, `credential`, `cookie`,
 * `session`, `signature`, `authorization`, an API/account/shared access/private key; as whole
 * words `auth`, `pwd`, `pass`, `sig`, `jwt`, `sas`, `passphrase`, `assertion`), and its last
 * word (split at `-`, `_`, `.`, spaces and camelCase) must not say it is about the secret rather
 * than the secret: a counter, limit, policy, time or place (`tokenCount`, `tokens_used`,
 * `passwordPolicy`, `secretArn`, `tokenExpiresAt`), or a description (`token_type`,
 * `SharedAccessKeyName`). Any other last word keeps it secret (`SecretString`, `password1`,
 * `JSESSIONID`, `clientSecretValue`): a name not on those lists is masked, never shown.
 *
 * @example
 * isSecretName('x-api-key'); // true
 * isSecretName('basicAuth'); // true
 * isSecretName('sessionId'); // true
 * isSecretName('author'); // false
 * isSecretName('token_type'); // false
 * isSecretName('tokens_used'); // false
 */
export function isSecretName(name: string): boolean {
  return (SECRET_NAME.test(name) || SECRET_WORD.test(name)) && !DESCRIBES.test(name) && lastWordIsSecret(name);
}

// `name=value` at the start of the text or after a character no name holds: `?`, `&`, `#` (a
// URL, an OAuth fragment), `;` (an Azure connection string), `,` (StackExchange.Redis),
// whitespace (libpq), a quote. The value ends at `&`, `#`, `;`, whitespace, a quote, `<`, `>`,
// or a `,` that starts another `name=`.
const PARAMETER = /(^|[^\w.[\]-])([\w.[\]-]+)=((?:[^&#;,\s"'<>`]|,(?![\w.[\]-]+=))+)/g;

// Secret only as a URL parameter (after `?`, `&`, `#`): Google's `key`, OAuth's authorization `code`.
const URL_ONLY_NAME = /^(?:key|code)$/i;

function isSecretParameter(before: string, name: string): boolean {
  if (URL_ONLY_NAME.test(name)) return before === '?' || before === '&' || before === '#';
  return isSecretName(name);
}

/**
 * Masks secrets by shape in `text`, wherever they appear:
 * - the credentials of every URL (`scheme://user:pass@host`) become `[redacted]`;
 * - the value of every secret-named parameter becomes `[redacted]` — in a URL's query or
 *   fragment, a form body, an Azure connection string (`;AccountKey=`), a libpq (`host=db
 *   password=…`) or StackExchange.Redis (`host:6380,password=…`) connection string, quoted text
 *   (any `name=` at the start or after a character no name holds: `-`, `_`, `.` and brackets are
 *   part of a name). A name is
 *   secret by the logger's field-name rule (`isSecretName`: `access_token`, `accessToken`,
 *   `auth_token`, `sig`, `jwt`, `client_assertion`, `X-Amz-Signature`, …); `key` and `code`
 *   only after `?`, `&` or `#` (`code=ECONNRESET` in a message is kept).
 *
 * Text without `@` or `=` is returned as it is, unscanned.
 *
 * @example
 * scrubText('connect ECONNREFUSED mongodb://app:s3cret@db:27017'); // 'connect ECONNREFUSED mongodb://[redacted]@db:27017'
 * scrubText('GET https://h/p?page=2&access_token=abc'); // 'GET https://h/p?page=2&access_token=[redacted]'
 * scrubText('host=db user=app password=pw'); // 'host=db user=app password=[redacted]'
 */
export function scrubText(text: string): string {
  const scrubbed = text.includes('@') ? text.replace(URL_CREDENTIALS, '$1[redacted]@') : text;
  if (!scrubbed.includes('=')) return scrubbed;
  return scrubbed.replace(PARAMETER, (whole, before: string, name: string) => (isSecretParameter(before, name) ? `${before}${name}=[redacted]` : whole));
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
