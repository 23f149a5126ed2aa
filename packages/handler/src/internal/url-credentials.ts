/**
 * The credentials of a URL (`scheme://user:pass@host`), masked in any text — also a password
 * typed with an unencoded `#`, `/` or `?`, as connection strings are pasted into env vars and
 * echoed by drivers (`redis://u:pa#ss@host`).
 */

// A scheme starts where no scheme character comes before it: a scan from inside a long word
// would read the word again from every position (quadratic).
const SCHEME = /(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:\/\//gi;
// RFC 3986 §3.2.1: the userinfo is everything up to the last `@` of the authority (a password may
// hold an unencoded `@`), which ends at `/`, `?`, `#` or whitespace. It never spans a
// `[redacted]` already written (masking is idempotent).
const USERINFO = /(?:[^\s/?#[]|\[(?!redacted\]))*@/y;
// `user:` then a password — not a port (`localhost:3000/users/a@b`, `h1:27017,h2…`): digits
// followed by `,`, `;`, `&`, a bracket, the end of the URL or of the text, or by `/` or `?` and a
// segment without `@` before the next `/`, `?`, `#` (`h:8080/cb?e=a@b`). Digits, `/` or `?`,
// then a segment holding an `@` are a password (`postgres://app:2024/Secret@db`, `amqp://u:2024?x@mq`).
const USER_PASSWORD = /[^\s/?#@:[\]"<>`]*:(?!\d{1,5}(?:[,;&\s"'<>`)\]]|$|[/?](?![^\s/?#@"'<>`]*@)))/y;
// Where a URL ends for the password's `@`: whitespace, a quote (`'` too: `['https://u:p@h','a@b']`), `<`, `>`, a backtick.
const URL_END = /[\s"'<>`]/;

/**
 * The index of the `@` that ends a password starting at `from`: the last `@` before the end of
 * the URL, the next `://` (another URL: `redis://u:p@h1,redis://…`) or a `[redacted]`; -1 when
 * there is none. Reads up to where it stops, which is where the next scheme can start.
 */
function passwordEnd(text: string, from: number): number {
  let at = -1;
  for (let i = from; i < text.length; i += 1) {
    const c = text[i]!;
    if (URL_END.test(c) || text.startsWith('://', i) || text.startsWith('[redacted]', i)) break;
    if (c === '@') at = i;
  }
  return at;
}

/**
 * `text` with the userinfo of every URL written `[redacted]`: a `user:password` whose password is
 * not a port is read through the last `@` of the URL (`redis://u:pa#ss@h`, `mongodb://u:p/w?x@h`,
 * `postgres://u:a?b@h`) — an `@` in the path or query of such a URL is read as the password's
 * too, the safe side — any other userinfo (`https://user@h`, `x://u:p@h/p?e=a@b`) through the
 * last `@` of the authority. Reads the text once.
 *
 * @example
 * maskUrlCredentials('connect redis://:pa#ss@cache:6379'); // 'connect redis://[redacted]@cache:6379'
 * maskUrlCredentials('GET http://localhost:3000/users/a@b.example'); // unchanged
 */
export function maskUrlCredentials(text: string): string {
  let out = '';
  let from = 0;
  SCHEME.lastIndex = 0;
  for (let match = SCHEME.exec(text); match !== null; match = SCHEME.exec(text)) {
    const start = SCHEME.lastIndex;
    USER_PASSWORD.lastIndex = start;
    let at = USER_PASSWORD.test(text) ? passwordEnd(text, USER_PASSWORD.lastIndex) : -1;
    if (at === -1) {
      USERINFO.lastIndex = start;
      at = USERINFO.test(text) ? USERINFO.lastIndex - 1 : -1;
    }
    if (at === -1) continue;
    out += `${text.slice(from, start)}[redacted]`;
    from = at;
    SCHEME.lastIndex = at + 1;
  }
  return out + text.slice(from);
}
