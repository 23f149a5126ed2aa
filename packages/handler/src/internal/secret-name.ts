/**
 * Which names hold a secret: one rule for log field names, header names and the parameters
 * `scrubText` reads inside strings.
 */

// Names that hold a secret wherever they appear (in them, case-insensitive; `-`, `_`, `.` or a
// space may separate the words). A key named for what it does is a secret key: Cosmos DB's
// `masterKey`, Azure's `primaryKey`/`secondaryKey`, `encryptionKey`, `signingKey`, `hmacKey`,
// S3's SSE-C `SSECustomerKey` (`x-amz-server-side-encryption-customer-key`). A database schema's
// `primaryKey` (a column name) is masked too: the safe side (`primaryKeyName` is kept).
const SECRET_NAME =
  /authorization|cookie|api[-_. ]?key|passw(?:or)?d|passcode|secret|token|credential|session|private[-_. ]?key|signature|whisk[-_. ]?auth|functions[-_. ]?key|jwt[-_. ]?assertion|oidc[-_. ]?data|subscription[-_. ]?key|(?:account|shared[-_. ]?access|master|primary|secondary|encryption|signing|hmac|(?:sse|encryption)[-_. ]?customer)[-_. ]?key/i;

// Words that contain a secret word but are about text, not secrets: `tokenizer`, `tokenize`,
// `tokenization` (an LLM's `tokenizer: 'cl100k_base'`). Left out before the name is read.
const NOT_SECRET_WORDS = /tokeni[sz](?:ers?|e[ds]?|ation|ing)/gi;

// A last word that says what the secret is, not what it holds: `token_type`, `tokenType`,
// `signatureVersion`, `FUNCTION_SIGNATURE_TYPE`, `SharedAccessKeyName`, `secretName`,
// `authMechanism` (a MongoDB URI's).
const DESCRIBES = /(?:type|kind|name|method|mechanism|algorithm|version)$/i;

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
// a policy, a time, a place, a use, a source, a consent (`tokens_used`, `tokenCount`,
// `passwordPolicy`, `secretArn`, `tokenExpiresAt`, `auth_time`, `cookieDomain`, `tokenUrl`,
// Cognito's `token_use`, a MongoDB URI's `authSource`, `cookieConsent`), an error's class name
// (`TokenExpiredError`, `ExpiredTokenException`, `SignatureDoesNotMatch`, `TokenExpired`,
// `AuthFailed`). Anything else after a
// secret word keeps the name secret (`SecretString`, `password1`, `password_confirmation`,
// `JSESSIONID`, `private_key_pem`, `clientSecretValue`, `cookieHeader`, `credentialsJson`).
const NOT_SECRET_LAST = /^(?:counts?|used|usage|limits?|max|min|polic(?:y|ies)|arn|at|time|expires|expiry|expiration|ttl|length|size|valid|scope|domain|path|changed|enabled|required|use|source|consent|endpoint|url|uri|error|exception|expired|failed|match|mismatch)$/;

// `tokens` last is a list of tokens (Firebase's `sendEachForMulticast({ tokens })`,
// `refreshTokens`), unless a counting word comes before it: an LLM's usage (`max_tokens`,
// `promptTokens`, `completion_tokens`, `total_tokens`, `cache_read_input_tokens`).
const COUNTING = /^(?:max|min|prompt|completion|total|input|output|num|count|cached|reasoning|remaining)$/;

// Secrets whose last word would read as not secret: a SAS URL carries its token.
// Matched against the last two words joined.
const SECRET_TAIL = /^(?:sasur[il])$/;

// Not secrets whatever came before: a key's id (`signingKeyId`, `apiKeyId`, `private_key_id`).
// Matched against the last two words joined.
const NOT_SECRET_TAIL = /^keyids?$/;

/** The words of `name`, lower case; a trailing number is a variant, not a word (`x-hub-signature-256`). */
function wordsOf(name: string): string[] {
  return name.split(WORD_BREAK).filter((word) => word !== '' && !/^\d+$/.test(word)).map((word) => word.toLowerCase());
}

function lastWordIsSecret(name: string): boolean {
  const words = wordsOf(name);
  const last = words[words.length - 1] ?? '';
  const tail = words.slice(-2).join('');
  if (SECRET_TAIL.test(tail)) return true;
  if (NOT_SECRET_TAIL.test(tail)) return false;
  if (last === 'tokens') return !COUNTING.test(words[words.length - 2] ?? '');
  return !NOT_SECRET_LAST.test(last);
}

/**
 * Whether a field, header or parameter named `name` holds a secret: one rule for the logger's
 * field names and `scrubText`'s parameter names (see `SECRET_FIELD_NAMES` in logger.ts). The
 * name must contain a secret word (`token`, `secret`, `password`, `passcode`, `credential`,
 * `cookie`, `session`, `signature`, `authorization`, an API/account/shared access/private key, a
 * master/primary/secondary/encryption/signing/HMAC/SSE-C customer key; as whole words `auth`,
 * `pwd`, `pass`, `sig`, `jwt`, `sas`, `passphrase`, `assertion`; not `tokenizer`), and its last
 * word (split at `-`, `_`, `.`, spaces and camelCase) must not say it is about the secret rather
 * than the secret: a counter, limit, policy, time, place, use, source or consent (`tokenCount`,
 * `tokens_used`, `passwordPolicy`, `secretArn`, `tokenExpiresAt`, `auth_time`, `token_use`,
 * `authSource`, `cookieConsent`), a key's id (`signingKeyId`), or a description (`token_type`,
 * `SharedAccessKeyName`, `authMechanism`). `tokens` last is a list of tokens (`tokens`,
 * `refreshTokens`) unless a counting word comes before it (`max_tokens`, `promptTokens`,
 * `completion_tokens`, `total_tokens`, `input_tokens`, `output_tokens`, `num_tokens`). Any other
 * last word keeps it secret (`SecretString`, `password1`, `JSESSIONID`, `clientSecretValue`): a
 * name not on those lists is masked, never shown.
 *
 * @example
 * isSecretName('x-api-key'); // true
 * isSecretName('basicAuth'); // true
 * isSecretName('sessionId'); // true
 * isSecretName('author'); // false
 * isSecretName('token_type'); // false
 * isSecretName('tokens_used'); // false
 * isSecretName('refreshTokens'); // true
 * isSecretName('max_tokens'); // false
 */
export function isSecretName(name: string): boolean {
  const read = name.replace(NOT_SECRET_WORDS, ' ');
  return (SECRET_NAME.test(read) || SECRET_WORD.test(read)) && !DESCRIBES.test(name) && lastWordIsSecret(name);
}


// Secrets whose value is one token, never spaces: a bare `token`, a session id, an `auth` result,
// a signature. Matched against the name's words joined by `_` (`Session`, `sessionId`,
// `SESSION_ID`). Any other secret name may hold spaces (`credentials: admin hunter2`,
// `cookies: sid=abc; uid=xyz`, `api_key: Bearer …`, `JWT_SIGNING_KEY: -----BEGIN …`).
const ONE_WORD_NAMES: ReadonlySet<string> = new Set(['token', 'session', 'session_id', 'auth', 'signature', 'sig']);

/**
 * Whether `name` is secret (`isSecretName`) and its value is one token: exactly `token`,
 * `session`, `session_id` (`sessionId`), `auth`, `signature` or `sig`, in any case and with any
 * separator. `scrubText` masks the value of any other secret name at the start of a line to the
 * end of the line; such a value there is one word, so prose after it is kept
 * (`Session: [redacted] for user 42`), unless it opens a PEM block (`-----BEGIN`).
 *
 * @example
 * isOneWordSecretName('Session'); // true
 * isOneWordSecretName('sessionId'); // true
 * isOneWordSecretName('credentials'); // false (may hold spaces)
 * isOneWordSecretName('session_token'); // false
 * isOneWordSecretName('signatureVersion'); // false (not secret)
 */
export function isOneWordSecretName(name: string): boolean {
  return isSecretName(name) && ONE_WORD_NAMES.has(wordsOf(name).join('_'));
}
