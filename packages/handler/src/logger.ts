/**
 * A structured JSON logger: one line per entry, with the invocation's identity attached.
 * It never logs payloads by itself, and it masks secrets at every depth of an entry: values
 * under secret-looking names (`SECRET_FIELD_NAMES`, also in header lists), and, inside any
 * string it writes (the message too), the credentials of URLs (`user:pass@`) and the values of
 * parameters named by the same rule (`access_token`, `sig`, `X-Amz-Signature`, `password` in a
 * connection string, … — see `scrubText`).
 */
import { isSecretName, scrubText } from './internal/scrub.js';

/** Severity, lowest first: `debug` < `info` < `warn` < `error`. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Writes JSON lines `{ level, time, msg, ...fields }`. Fields are masked before they are
 * written (see `SECRET_FIELD_NAMES`); a value JSON cannot encode never throws.
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose entries carry these fields too (masked the same way). */
  child(fields: Record<string, unknown>): Logger;
}

/** Where log lines go; defaults to stdout, which every provider collects. */
export type LogSink = (line: string) => void;

/**
 * One log entry as an object, for a sink that hands entries to another logger (Powertools
 * Logger, pino) instead of writing JSON lines. `msg` and every field are already masked.
 */
export interface LogRecord {
  level: LogLevel;
  /** ISO 8601. */
  time: string;
  msg: string;
  /** The logger's fields (`fn`, `provider`, `requestId`, `deliveryId`, `coldStart`, `trigger` on `ctx.log`) and the entry's own, masked. */
  fields: Record<string, unknown>;
}

/** A sink that takes entries as objects: `powertoolsLogSink(logger)`, `pinoLogSink(logger)` (`@steadyfn/handler/logging`), or your own. */
export interface LogRecordSink {
  write(record: LogRecord): void;
}

/** Whether `sink` takes entries as objects rather than JSON lines. */
export function isLogRecordSink(sink: unknown): sink is LogRecordSink {
  return typeof sink === 'object' && sink !== null && typeof (sink as { write?: unknown }).write === 'function';
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * A field whose name contains one of these (case-insensitive; `-`, `_`, `.` or a space may
 * separate the words) has its value written as `[redacted]`, at any depth of a log entry —
 * also in an array: the item after a secret header name (Node's flat `rawHeaders`), and the
 * value of a `[name, value]` pair (`[...headers]`). Short or common ones are matched as whole
 * words only (marked below): `auth`, `x-auth`, `basicAuth`, `pwd`, `sig`, `jwt`, `SAS` are
 * masked; `author`, `authorizer`, `oauthProvider`, `signal`, `sigma`, `design` are not, nor is
 * a name ending in `type`, `kind`, `name`, `method`, `mechanism`, `algorithm` or `version`
 * (`tokenType`, `authMechanism`), nor `tokenizer`. A name with a secret word is kept only when
 * its last word (split at `-`, `_`, `.`, spaces and camelCase) says it is about the secret — a
 * counter, limit, policy, time, place, use, source or consent, or a key's id: `tokenCount`,
 * `tokens_used`, `passwordPolicy`, `secretArn`, `tokenExpiresAt`, `auth_time`, `token_use`,
 * `authSource`, `cookieConsent`, `signingKeyId` are kept; any other last word keeps it masked
 * (`access_token`, `SecretString`, `password1`, `JSESSIONID`, `sessionId`, `clientSecretValue`,
 * `sasUrl`, `x-amzn-oidc-data`). A name ending in `tokens` is a list of tokens (`tokens`,
 * `refreshTokens`: masked) unless a counting word comes before it (`max_tokens`, `promptTokens`,
 * `completion_tokens`, `total_tokens`, `input_tokens`, `output_tokens`, `num_tokens`: kept); a
 * number under it is a count and is kept (`tokens: 3`). A database schema's `primaryKey` is
 * masked (log `primaryKeyName`). The same rule names the secret parameters `scrubText` masks
 * inside strings.
 */
export const SECRET_FIELD_NAMES: ReadonlyArray<string> = [
  'authorization', // authorization, proxy-authorization
  'cookie', // cookie, set-cookie
  'api key', // x-api-key, apiKey, api_key
  'password',
  'passwd',
  'passcode',
  'secret', // secret, client_secret, secretAccessKey
  'token', // token, accessToken, x-csrf-token
  'credential',
  'session', // sessionId, x-session
  'private key', // privateKey
  'signature', // x-hub-signature
  'whisk auth', // x-require-whisk-auth (OpenWhisk web action secret)
  'functions key', // x-functions-key (Azure Functions access key)
  'jwt assertion', // x-goog-iap-jwt-assertion (Google IAP)
  'oidc data', // x-amzn-oidc-data (ALB authentication, signed claims)
  'subscription key', // Ocp-Apim-Subscription-Key (Azure API Management)
  'account key', // AccountKey (Azure Storage)
  'shared access key', // SharedAccessKey (Azure Service Bus, Event Hubs); not SharedAccessKeyName
  'master key', // masterKey (Cosmos DB)
  'primary key', // primaryKey (Azure); a schema's primaryKey column too: the safe side
  'secondary key', // secondaryKey (Azure)
  'encryption key', // encryptionKey
  'signing key', // signingKey
  'hmac key', // hmacKey
  'sse customer key', // SSECustomerKey (S3 SSE-C)
  'encryption customer key', // x-amz-server-side-encryption-customer-key
  'auth', // whole word: auth, x-auth, basicAuth
  'authentication', // whole word: Authentication, x-authentication
  'pwd', // whole word
  'pass', // whole word: pass, db_pass
  'sig', // whole word: sig, x-sig (a SAS signature)
  'sas', // whole word: SAS, sasUrl (an Azure shared access signature)
  'jwt', // whole word: jwt, idJwt
  'passphrase', // whole word: passphrase, keyPassphrase
  'assertion', // whole word: client_assertion (OAuth client JWT), SAML assertion
];

/** Entries nested deeper than this are cut (`[depth limit]`), so a hostile structure cannot stall a log call. */
const MAX_DEPTH = 8;

const stdoutSink: LogSink = (line) => {
  process.stdout.write(line + '\n');
};

/** `STEADYFN_LOG_LEVEL` when it names a level (any case), else `info`. */
function levelFromEnv(): LogLevel {
  const raw = (process.env.STEADYFN_LOG_LEVEL ?? '').toLowerCase();
  // Own keys only: `constructor` or `toString` is no level.
  return Object.hasOwn(ORDER, raw) ? (raw as LogLevel) : 'info';
}

/** The unknown `STEADYFN_LOG_LEVEL` value last warned about: each is warned about once per process. */
let warnedEnvLevel: string | undefined;

/** Warns on `log`, once, that `STEADYFN_LOG_LEVEL` is set to no level (a typo such as `warning` or `bogus`), so `info` applies. */
function warnUnknownEnvLevel(log: Logger): void {
  const raw = process.env.STEADYFN_LOG_LEVEL ?? '';
  if (raw === '' || Object.hasOwn(ORDER, raw.toLowerCase()) || raw === warnedEnvLevel) return;
  warnedEnvLevel = raw;
  log.warn(`STEADYFN_LOG_LEVEL is not a log level; info applies (accepted: ${Object.keys(ORDER).join(', ')})`, {
    code: 'LOG_LEVEL_UNKNOWN',
    value: raw.length > 32 ? `${raw.slice(0, 32)}…` : raw,
  });
}

/** A copy of `value` with secrets masked at every depth; cycles become `[circular]`. */
function maskValue(value: unknown, depth: number, seen: Set<object>): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[depth limit]';
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  seen.add(value);
  try {
    if (Array.isArray(value)) return maskItems(value, depth, seen);
    if (value instanceof Error) return { name: value.name, message: scrubText(value.message) };
    if (value instanceof Date) return value;
    if (value instanceof Set) return maskItems(Array.from(value), depth, seen);
    // Map, Fetch `Headers`, URLSearchParams: iterables of [name, value] pairs, read as objects.
    const pairs = value as { entries?: () => Iterable<[unknown, unknown]>; [Symbol.iterator]?: unknown };
    if (typeof pairs[Symbol.iterator] === 'function' && typeof pairs.entries === 'function') {
      return maskFields(Array.from(pairs.entries(), ([k, v]): [string, unknown] => [String(k), v]), depth, seen);
    }
    return maskFields(Object.entries(value), depth, seen);
  } finally {
    seen.delete(value);
  }
}

// An HTTP header name (an RFC 9110 token): in a list, the item after one that is secret is its value.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const isSecretHeader = (item: unknown): boolean => typeof item === 'string' && HEADER_NAME.test(item) && isSecretName(item);

const present = (value: unknown): boolean => value !== undefined && value !== null;

/**
 * An array's items masked: an item after a secret header name (Node's flat `rawHeaders`) — even
 * when that name stands where a value should, so a value that looks like one cannot shift the
 * rest out of line — and the value of a `[name, value]` pair whose name is secret (`[...headers]`).
 */
function maskItems(items: readonly unknown[], depth: number, seen: Set<object>): unknown[] {
  return items.map((item, i) => {
    if (i > 0 && isSecretHeader(items[i - 1]) && present(item)) return '[redacted]';
    if (Array.isArray(item) && item.length === 2 && typeof item[0] === 'string' && isSecretName(item[0]) && present(item[1])) return [scrubText(item[0]), '[redacted]'];
    return maskValue(item, depth + 1, seen);
  });
}

// A number under a name ending in `tokens` is a count (a token bucket's `tokens: 3`), never a
// token: tokens are strings. Any other value under such a name is masked by the name rule.
const isTokenCount = (key: string, value: unknown): boolean => typeof value === 'number' && /tokens$/i.test(key);

function maskFields(entries: ReadonlyArray<[string, unknown]>, depth: number, seen: Set<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    const masked = isSecretName(key) && present(value) && !isTokenCount(key, value) ? '[redacted]' : maskValue(value, depth + 1, seen);
    // Own data property even for `__proto__`, which arrives in hostile headers.
    if (key === '__proto__') Object.defineProperty(out, key, { value: masked, enumerable: true, writable: true, configurable: true });
    else out[key] = masked;
  }
  return out;
}

/** Masks an entry's fields: by name at every depth, and URL credentials inside any string. */
export function maskLogFields(fields: Record<string, unknown>): Record<string, unknown> {
  return maskFields(Object.entries(fields), 0, new Set());
}

function safeStringify(entry: Record<string, unknown>): string {
  try {
    return JSON.stringify(entry, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
  } catch {
    return JSON.stringify({ level: entry.level, time: entry.time, msg: entry.msg, logError: 'unserialisable fields' });
  }
}

/**
 * A JSON-lines logger.
 *
 * @param base - Fields on every line (masked once, here).
 * @param sink - Where lines go (a function of the JSON line), or a `LogRecordSink` taking entries as objects. Default: stdout.
 * @param level - Lowest level written. Default: `STEADYFN_LOG_LEVEL` (`debug`, `info`, `warn`,
 *   `error`, any case), else `info`; a value that is none of these (`warning`, a typo) gives
 *   `info` and is warned about once per process on this logger (code `LOG_LEVEL_UNKNOWN`).
 * @example
 * const log = createLogger({ fn: 'orders' });
 * log.info('request', { headers: { authorization: 'Bearer x' } }); // {"level":"info",…,"headers":{"authorization":"[redacted]"}}
 */
export function createLogger(base: Record<string, unknown> = {}, sink: LogSink | LogRecordSink = stdoutSink, level?: LogLevel): Logger {
  const chosen = level ?? levelFromEnv();
  const log = makeLogger(maskLogFields(base), sink, ORDER[chosen] ?? ORDER.info, chosen);
  if (level === undefined) warnUnknownEnvLevel(log);
  return log;
}

function makeLogger(base: Record<string, unknown>, sink: LogSink | LogRecordSink, min: number, level: LogLevel): Logger {
  const write = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[lvl] < min) return;
    const time = new Date().toISOString();
    const text = scrubText(String(msg));
    if (typeof sink === 'function') sink(safeStringify({ level: lvl, time, msg: text, ...base, ...(fields ? maskLogFields(fields) : {}) }));
    else sink.write({ level: lvl, time, msg: text, fields: { ...base, ...(fields ? maskLogFields(fields) : {}) } });
  };
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    child: (fields) => makeLogger({ ...base, ...maskLogFields(fields) }, sink, min, level),
  };
}
