/**
 * A server that refuses the connection's credentials: a configuration error, not a server that is
 * down. ioredis sends AUTH (or HELLO … AUTH) in its handshake, the MongoDB driver authenticates
 * each new connection, and the refusal ends the connect; before, it reached the function as a
 * retryable `CONNECTION_UNAVAILABLE` whose log named only `ReplyError` / `MongoServerError`, so a
 * queue message was retried until its dead-letter queue and no operator was told the password is
 * wrong.
 */
import { ConfigurationError, errorChain, errorName } from '@steadyfn/handler/internal';
import { CONNECTION_AUTH_FAILED } from '../errors.js';

/**
 * The server's replies to credentials it refuses, by their first word: `WRONGPASS` (Redis 6+:
 * wrong password, unknown or disabled ACL user), `NOAUTH` (a password is required and none was
 * sent) and `ERR invalid password` (Redis < 6). None of them quotes the password. A password sent
 * to a server that has none ("ERR AUTH <password> called without any password configured for the
 * default user", or "… no password is set") is not a refusal: ioredis prints a warning to the
 * console and carries on, and the connection works.
 */
const AUTH_REFUSALS: ReadonlyArray<readonly [RegExp, Refusal]> = [
  [/^WRONGPASS\b/, { refused: 'WRONGPASS', said: 'wrong password, or unknown or disabled user' }],
  [/^NOAUTH\b/, { refused: 'NOAUTH', said: 'the server requires a password and none was sent' }],
  [/^ERR invalid password\b/, { refused: 'ERR invalid password', said: 'wrong password' }],
];

/** A refusal: the reply's first words (logged as `refused`) and what they mean, both fixed text. */
interface Refusal {
  refused: string;
  said: string;
}

/**
 * The `ConfigurationError` of a refusal, whose log line also says which refusal it was
 * (`refused: 'WRONGPASS'`): the message is not logged, and the option alone does not tell a wrong
 * password from a missing one.
 */
export class AuthRefusedError extends ConfigurationError {
  override readonly logFields: Readonly<Record<string, string>>;
  constructor(message: string, details: ConstructorParameters<typeof ConfigurationError>[1], refused: string) {
    super(message, details);
    this.logFields = { refused };
  }
}

/** The server's refusal (fixed wording, never its message), or undefined when `err` is not one. */
function refusal(err: unknown): Refusal | undefined {
  const lastNodeError = (err as { lastNodeError?: unknown } | null)?.lastNodeError;
  for (const chain of [err, lastNodeError]) {
    for (const e of errorChain(chain)) {
      const message = e.message;
      if (errorName(e) !== 'ReplyError' || typeof message !== 'string') continue;
      const found = AUTH_REFUSALS.find(([pattern]) => pattern.test(message));
      if (found) return found[1];
    }
  }
  return undefined;
}

/**
 * A terminal `ConfigurationError` (code `CONNECTION_AUTH_FAILED`, HTTP 500, not retryable) when
 * `err` is the server's refusal of the credentials, naming where they come from (`field`) and
 * what the server said in fixed words (also logged as `refused`: `WRONGPASS`, `NOAUTH`, …) — no
 * password, no user name; else undefined.
 *
 * @param owner - The factory (`redis`, `redisCluster`), for the message.
 * @param field - Where the credentials are set: `url`, `options.password`, `nodes`, `options.redisOptions.password`.
 */
export function authRefused(owner: string, field: string, err: unknown): ConfigurationError | undefined {
  const found = refusal(err);
  if (found === undefined) return undefined;
  const where = field === 'url' ? 'the URL (or REDIS_URL)' : field === 'nodes' ? 'the node URLs' : `option "${field}"`;
  return new AuthRefusedError(
    `${owner}(): the Redis server refused the credentials (${found.refused}: ${found.said}); check the password and user in ${where}`,
    {
      field,
      expected: 'a user and password the server accepts (AUTH / ACL)',
      code: CONNECTION_AUTH_FAILED,
      cause: err,
    },
    found.refused,
  );
}

/**
 * The MongoDB server's refusal of the credentials in `e`, as `[refused, said]` (fixed text), or
 * undefined: a `MongoServerError` with code 18 (`AuthenticationFailed`: wrong password, unknown
 * user, wrong `authSource`, a mechanism the server does not offer), or MongoDB Atlas' own refusal,
 * code 8000 `AtlasError` whose message starts with "bad auth" (`bad auth : Authentication
 * failed.`) — not its other 8000 errors (a quota, an action the user may not do).
 */
function mongoRefusal(e: Record<string, unknown>): readonly [string, string] | undefined {
  if (errorName(e) !== 'MongoServerError') return undefined;
  if (e.code === 18) return ['AuthenticationFailed', 'AuthenticationFailed, code 18'];
  const message = typeof e.message === 'string' ? e.message : typeof e.errmsg === 'string' ? e.errmsg : '';
  if (e.code === 8000 && e.codeName === 'AtlasError' && /^bad auth\b/i.test(message)) return ['AtlasError bad auth', 'Atlas "bad auth", code 8000'];
  return undefined;
}

/**
 * A terminal `ConfigurationError` (`CONNECTION_AUTH_FAILED`) when `err` (or one of its causes) is
 * the MongoDB server's refusal of the credentials (see `mongoRefusal`: code 18, or Atlas' code
 * 8000 "bad auth") — naming `field`, logged with `refused: 'AuthenticationFailed'` or
 * `'AtlasError bad auth'`; the server's message is not repeated. Else undefined.
 */
export function mongoAuthRefused(field: string, err: unknown): ConfigurationError | undefined {
  for (const e of errorChain(err)) {
    const found = mongoRefusal(e);
    if (found === undefined) continue;
    return new AuthRefusedError(
      `mongo(): the MongoDB server refused the credentials (${found[1]}); check the user, password, authSource and authMechanism in ${field === 'uri' ? 'the URI (or MONGODB_URI)' : `option "${field}"`}`,
      { field, expected: 'a user and password the server accepts, with the right authSource and authMechanism', code: CONNECTION_AUTH_FAILED, cause: err },
      found[0],
    );
  }
  return undefined;
}
