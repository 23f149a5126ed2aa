/**
 * Secrets by shape: text that may come from a driver or a URL is scrubbed before it reaches a
 * log line or an error message.
 */

import { isOneWordSecretName, isSecretName } from './secret-name.js';
import { maskUrlCredentials } from './url-credentials.js';

export { isSecretName };

// A quoted value: '…' or "…", backslash escapes inside (libpq's `password='it\'s'`, JSON's
// `"a\"b"`); one left open runs to the end of the line.
const QUOTED = String.raw`'(?:[^'\\\r\n]|\\.)*'?|"(?:[^"\\\r\n]|\\.)*"?`;
// A value quoted with escaped quotes — JSON inside a JSON string (`\"x\"`, `\\\"x\\\"`): with an
// opening run of e backslashes, it closes at a run of e + k·2(e+1) backslashes then a quote (`\"`,
// and `\\\\\"` — an escaped backslash ending the value, then the close). Any other run before a
// quote is a quote in the value (`\"p\\\"w\"`); a run before anything else is an escape in it.
const ESCAPED_CLOSE = String.raw`(?:\k<esc>\\\k<esc>\\)*\k<esc>"`;
const ESCAPED_QUOTED = String.raw`(?<esc>\\{1,3})"(?:[^"\\\r\n]|\\+(?=[^"\\\r\n])|(?!${ESCAPED_CLOSE})\\+")*(?:${ESCAPED_CLOSE})?`;
// A character no name holds: a name starts after one (or at the start of the text).
const NAME_START = String.raw`(?<![\w.[\]-])`;
// Not already masked (`scrubText` of its own output returns it unchanged) and not blank.
const NOT_MASKED = String.raw`(?=\S)(?!\[redacted\])`;
// A PEM block (`-----BEGIN PRIVATE KEY-----\nMIIE…` with literal `\n`s): to the end of the line.
const PEM = String.raw`-----BEGIN[^\r\n]*`;
const AUTH_SCHEME = String.raw`(?:bearer|basic|digest|negotiate|ntlm|token|bot|dpop|hoba|mutual|sharedaccesssignature|aws4-hmac-sha256)[ \t]`;

// Every pattern has four groups: quote (of the name), name, separator, value.

// `name=value` at the start of the text or after a character no name holds: `?`, `&`, `#` (a
// URL, an OAuth fragment), `;` (an Azure connection string), `,` (StackExchange.Redis),
// whitespace (libpq), a quote; spaces or tabs may stand around `=` (`password = x`). A quoted
// value is read to its closing quote (`\"…\"` in a JSON string too), an HTTP auth scheme and its credentials (`Authorization=Bearer
// abc`) to `&`, `;` or the end of the line; any other value ends at `&`, `#`, `;`, whitespace, a
// quote, `<`, `>`, or a `,` that starts another `name=`.
const PARAMETER = new RegExp(String.raw`${NAME_START}()([\w.[\]-]+)([ \t]*=[ \t]*)${NOT_MASKED}(${QUOTED}|${ESCAPED_QUOTED}|${AUTH_SCHEME}[^\r\n&;]*|${PEM}|(?:[^&#;,\s"'<>${'`'}]|,(?![\w.[\]-]+=))+)`, 'gi');

// A member of JSON (or a quoted-key literal): `"password":"x"`, `'pin': 1234`, and JSON inside a
// JSON string (`{\"password\":\"x\"}`, an SNS envelope in an SQS body). An unquoted value ends
// at `,`, `}`, `]` or whitespace; an array or object is masked to its matching close.
const MEMBER = new RegExp(String.raw`(\\{0,3}["'])([\w.[\]-]+)\1([ \t]*:[ \t]*)${NOT_MASKED}(${QUOTED}|${ESCAPED_QUOTED}|[^,}\]\s]+)`, 'g');

// `name: value` with a bare name. At the start of a line, the value of a credential header
// (`Authorization: Basic dXNl`, `Cookie: a=1; b=2`) or of any secret name (`password: correct
// horse battery staple`, `credentials: admin hunter2`, `JWT_SIGNING_KEY: -----BEGIN …`) runs to
// the end of the line, except a name whose value is one token (`isOneWordSecretName`: `token`,
// `session`, `session_id`, `auth`, `signature`, `sig`), read as inside a line: one word, so prose
// after it is kept (`Session: [redacted] for user 42`, `auth: [redacted], user=42`). An error's
// class name is not secret (`SignatureDoesNotMatch: The request signature…`). A PEM block
// (`-----BEGIN`) runs to the end of the line under any secret name, anywhere. Inside a
// line (`login failed, password: x`, `{ password: 'x' }`) an unquoted value is one word, or the rest of the line after an HTTP auth scheme (`…
// Authorization: Bearer abc.def`), so prose after it (`credentials: none in …`) keeps the rest.
const HEADER_LINE = new RegExp(String.raw`^[ \t]*()([\w.[\]-]+)([ \t]*:[ \t]*)${NOT_MASKED}(${QUOTED}|[^\r\n]+)`, 'gm');
// A name followed by `://` is a URL's scheme, not a `name: value`.
const COLON = new RegExp(String.raw`${NAME_START}()([\w.[\]-]+)([ \t]*:[ \t]*)${NOT_MASKED}(?!\/\/)(${QUOTED}|${ESCAPED_QUOTED}|${AUTH_SCHEME}[^\r\n]*|${PEM}|(?:\[redacted\]|\[(?!redacted\])|[^\s,;)\]}"'<>[])+)`, 'gi');

// Headers whose whole value is a credential.
const CREDENTIAL_HEADER =
  /^(?:(?:proxy-)?authorization|(?:set-)?cookie|x-api-key|api-key|x-amz-security-token|x-functions-key|x-goog-api-key|x-auth-token|x-access-token|x-vault-token|ocp-apim-subscription-key)$/i;

// Webhook URLs whose path is the secret: Slack's `hooks.slack.com/services/T…/B…/<secret>`,
// Discord's `discord.com/api/webhooks/<id>/<token>`.
const SECRET_PATH = /(\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/|\/\/(?:\w+\.)?discord(?:app)?\.com\/api\/webhooks\/)[^\s?#"'<>]+/gi;

// Secret only as a URL parameter (after `?`, `&`, `#`): Google's `key`, OAuth's authorization `code`.
const URL_ONLY_NAME = /^(?:key|code)$/i;

function isSecretParameter(name: string, before: string): boolean {
  if (URL_ONLY_NAME.test(name)) return before === '?' || before === '&' || before === '#';
  return isSecretName(name);
}

function isSecretLine(name: string): boolean {
  return CREDENTIAL_HEADER.test(name) || (isSecretName(name) && !isOneWordSecretName(name));
}

/** `[redacted]` for `value`, in the quotes it came in (`'[redacted]'`, `\"[redacted]\"`) when it was closed. */
function masked(value: string): string {
  const quote = /^\\{0,3}["']/.exec(value)?.[0];
  return quote !== undefined && value.length >= 2 * quote.length && value.endsWith(quote) ? `${quote}[redacted]${quote}` : '[redacted]';
}

/** The index after the `]` or `}` that closes the array or object opening at `start` (strings respected); the text's length when none does. */
function closeOf(text: string, start: number): number {
  let depth = 0;
  let quote = '';
  for (let i = start; i < text.length; i += 1) {
    const c = text[i];
    if (c === '\\') i += 1;
    else if (quote !== '') quote = c === quote ? '' : quote;
    else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') depth += 1;
    else if ((c === ']' || c === '}') && (depth -= 1) === 0) return i + 1;
  }
  return text.length;
}

// Where an unquoted `name=value` ends (the PARAMETER value's stops).
const PARAMETER_END = /[&#;,\s"'<>`]/;
// What may follow an ODBC braced value's close: spaces, then `;` or the end of the line or text.
const ODBC_CLOSED = /[ \t]*(?:[;\r\n]|$)/y;

/**
 * The index after a value opening with `{` after `name=` at `start`. ODBC and ADO.NET connection
 * strings quote a value in braces, `}}` an escaped `}` (`Pwd={p;w}}d}`): read that way when its
 * close is followed by `;`, the end of the line or of the text (spaces between). Otherwise the
 * further of its JSON close (`token={"a":{"b":1},"c":2}`) and its ODBC close with what follows it
 * to the value's end (`{p;w}rd}`, a `}` typed without its escape); an ODBC value left open runs to
 * the end of the line. Reads no further than the index it returns and the spaces after it.
 */
function bracedEnd(text: string, start: number): number {
  let i = start + 1;
  for (; i < text.length && text[i] !== '\r' && text[i] !== '\n'; i += 1) {
    if (text[i] !== '}') continue;
    if (text[i + 1] === '}') {
      i += 1;
      continue;
    }
    i += 1;
    ODBC_CLOSED.lastIndex = i;
    if (ODBC_CLOSED.test(text)) return i;
    while (i < text.length && !PARAMETER_END.test(text[i]!)) i += 1;
    break;
  }
  return Math.max(i, closeOf(text, start));
}

/** The end of a `name=` value that opens an array (JSON) or a braced value (ODBC, JSON). */
function parameterCloseOf(text: string, start: number): number {
  return text[start] === '{' ? bracedEnd(text, start) : closeOf(text, start);
}

/**
 * `text` with the value of every `pattern` match (groups: quote, name, separator, value) that
 * `secret` accepts masked. A name that is not secret consumes only itself and its separator, so
 * a secret name in its value (`failed: password: x`) is read next — unless `wordIfTight` and no
 * space follows the separator: then the value is one word (`arn:aws:secretsmanager:…`,
 * `host:6379`) and is passed over whole.
 */
function maskNamed(text: string, pattern: RegExp, secret: (name: string, before: string, value: string) => boolean, wordIfTight = false, close = closeOf): string {
  let out = '';
  let from = 0;
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const [whole, , name = '', separator = '', value = ''] = match;
    const valueStart = match.index + whole.length - value.length;
    if (!secret(name, match.index > 0 ? text[match.index - 1]! : '', value)) {
      pattern.lastIndex = wordIfTight && !/\s$/.test(separator) ? valueStart + value.length : valueStart;
      continue;
    }
    const opens = (value[0] === '[' || value[0] === '{') && !value.startsWith('[redacted]');
    const end = opens ? close(text, valueStart) : valueStart + value.length;
    out += `${text.slice(from, valueStart)}${masked(value)}`;
    from = end;
    pattern.lastIndex = end;
  }
  return out + text.slice(from);
}

/**
 * Masks secrets by shape in `text`, wherever they appear:
 * - the credentials of every URL (`scheme://user:pass@host`) become `[redacted]` — a password
 *   typed with an unencoded `#`, `/`, `?` or `@` through the URL's last `@` (`redis://u:pa#ss@h`
 *   → `redis://[redacted]@h`; an `@` in the path or query of a URL with a password is read as
 *   the password's, the safe side; `http://localhost:3000/users/a@b` is kept; a digit password
 *   before `/` or `?` is one when an `@` ends that segment: `postgres://app:2024/S@db` →
 *   `postgres://[redacted]@db`) — and so does
 *   the secret path of a Slack or Discord webhook URL (`hooks.slack.com/services/[redacted]`);
 * - the value of every secret-named parameter becomes `[redacted]` (`'[redacted]'` when it was
 *   quoted) — `name=value` in a URL's query or fragment, a form body, an Azure connection string
 *   (`;AccountKey=`), a libpq (`host=db password='…'`), StackExchange.Redis
 *   (`host:6380,password=…`) or ODBC / ADO.NET connection string (a braced value whole,
 *   `}}` an escaped `}`: `Pwd={p;w}}d}` → `Pwd=[redacted]`), quoted text, with spaces around `=` (any
 *   `name=` at the start or after a character no name holds: `-`, `_`, `.` and brackets are part
 *   of a name; `Authorization=Bearer …` with its credentials); a JSON member (`"password":"…"`,
 *   also JSON escaped inside a string: `{\"password\":\"…\"}`; a secret array or object is
 *   masked whole: `"tokens":[redacted]`); `name: value` — a credential header line
 *   (`Authorization: Bearer …`, `Cookie: …`, `X-Api-Key: …`) or a line that opens with a secret
 *   name (`password: correct horse battery staple`, `client_secret: …`, `private_key: …`,
 *   `credentials: admin hunter2`; any but `token`, `session`, `session_id`, `auth`, `signature`,
 *   `sig`): masked to the end of the line; those one-token secrets at the start of a line
 *   (`Session: [redacted] for user 42`, `auth: [redacted], user=42`; to the end of the line when
 *   the value opens a PEM block, `-----BEGIN`) and `password: …`
 *   anywhere else, also after another name (`Error: password: …`; one word, a quoted value, or
 *   the rest of the line after an HTTP auth scheme); a value in escaped quotes inside a JSON
 *   string (`--password=\"p w\"`) is masked to its closing quote. A name that is not secret
 *   hides nothing after it; error class names are not secret (`SignatureDoesNotMatch: …`,
 *   `TokenExpiredError: …` are kept). Its own output is returned unchanged
 *   (`scrubText(scrubText(x)) === scrubText(x)`). A name is secret by the logger's field-name
 *   rule (`isSecretName`: `access_token`, `accessToken`, `auth_token`, `sig`, `jwt`, `client_assertion`, `X-Amz-Signature`, …); `key`
 *   and `code` only after `?`, `&` or `#` (`code=ECONNRESET` in a message is kept).
 *
 * Text without `@`, `=` or `:` is returned as it is, unscanned.
 *
 * @example
 * scrubText('connect ECONNREFUSED mongodb://app:s3cret@db:27017'); // 'connect ECONNREFUSED mongodb://[redacted]@db:27017'
 * scrubText('GET https://h/p?page=2&access_token=abc'); // 'GET https://h/p?page=2&access_token=[redacted]'
 * scrubText("host=db user=app password='p w'"); // "host=db user=app password='[redacted]'"
 * scrubText('{"user":"ann","password":"hunter2"}'); // '{"user":"ann","password":"[redacted]"}'
 * scrubText('Authorization: Bearer abc.def'); // 'Authorization: [redacted]'
 * scrubText('password: correct horse battery staple'); // 'password: [redacted]'
 * scrubText('Session: started for user 42'); // 'Session: [redacted] for user 42'
 * scrubText('redis://:pa#ss@cache:6379'); // 'redis://[redacted]@cache:6379'
 * scrubText('Server=db;Password={p;w}}d};User Id=app'); // 'Server=db;Password=[redacted];User Id=app'
 */
export function scrubText(text: string): string {
  let scrubbed = text.includes('@') ? maskUrlCredentials(text) : text;
  const colon = scrubbed.includes(':');
  if (colon) scrubbed = maskNamed(scrubbed.replace(SECRET_PATH, '$1[redacted]'), MEMBER, isSecretName);
  if (scrubbed.includes('=')) scrubbed = maskNamed(scrubbed, PARAMETER, isSecretParameter, false, parameterCloseOf);
  return colon ? maskNamed(maskNamed(scrubbed, HEADER_LINE, isSecretLine), COLON, isSecretParameter, true) : scrubbed;
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
