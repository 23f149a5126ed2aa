/**
 * `mongo()`: a MongoClient with the serverless profile (small pool, idle connections
 * closed, polling monitor) and `{ ping: 1 }` as the thaw check. The client value is
 * `{ client, db }` so a function reaches its database directly (`ctx.mongo.db`).
 */
import type { Db, MongoClient, MongoClientOptions } from 'mongodb';
import type { Provider } from '@steadyfn/handler';
import { ConfigurationError, errorChain, errorName, invalidOption, keysOf, stringOption } from '@steadyfn/handler/internal';
import { CONNECTION_DRIVER_MISSING, isConnectionError, wasNotSent } from '../errors.js';
import { makeHandle } from '../handle.js';
import { profileFor } from '../profiles.js';
import type { ClientHandle } from '../spec.js';
import { mongoAuthRefused } from './auth-refused.js';
import { driverLoader, useDriver } from './load.js';
import { monitorWaitMs } from './mongo-monitor.js';
import { driverNetworkError } from './mongo-servers.js';
import { checkUrl, factoryOptions, HANDLE_KEYS, handleOptions, type HandleOptions } from './options.js';

/** Options of `mongo()`. */
export interface MongoClientHandleOptions extends HandleOptions {
  /**
   * Connection string (`mongodb://…` or `mongodb+srv://…`).
   * @default process.env.MONGODB_URI (read at first connect)
   */
  uri?: string | undefined;
  /**
   * Database for `db`. A name MongoDB cannot have is a `ConfigurationError` (field `db`; one in the URI's path: field `uri`, at first use).
   * @default the one named in the URI, else `test` (the driver's default)
   */
  db?: string | undefined;
  /** Driver options; each one overrides the platform profile (see `profileFor`). */
  options?: MongoClientOptions | undefined;
  /**
   * Profile to use instead of the detected platform's.
   * @default detectPlatform()
   */
  provider?: Provider | undefined;
}

/** The client value of `mongo()`: the MongoClient and the chosen database. */
export interface MongoConnection {
  /** The driver's client (sessions, transactions, other databases). */
  client: MongoClient;
  /** The database named by option `db`, else by the URI, else `test`. */
  db: Db;
}

/** A handle on a MongoDB client. */
export type MongoHandle = ClientHandle<MongoConnection>;

interface ServerStatus {
  connections?: { current?: number; available?: number };
}

const MONGO_SCHEMES = ['mongodb://', 'mongodb+srv://'];
const loadMongodb = driverLoader(() => import('mongodb'));

/** The driver's file options it reads in `connect()`, before any network I/O. */
const TLS_FILE_OPTIONS = ['tlsCAFile', 'tlsCRLFile', 'tlsCertificateKeyFile'] as const;

/**
 * A `connect()` that failed because the driver could not read a file named by `tlsCAFile`,
 * `tlsCRLFile` or `tlsCertificateKeyFile` (a Node `fs` error whose `path` is that option's value:
 * `ENOENT`, `EACCES`, `EISDIR`) is the deployment's configuration, not the server's: a terminal
 * `ConfigurationError` naming the option and the OS code (not the path), instead of a retryable
 * `CONNECTION_UNAVAILABLE` on every invocation. Anything else: undefined.
 */
function unreadableTlsFile(err: unknown, options: Partial<Record<(typeof TLS_FILE_OPTIONS)[number], unknown>>): ConfigurationError | undefined {
  const e = err as { path?: unknown; syscall?: unknown; code?: unknown } | null;
  if (e === null || typeof e !== 'object' || typeof e.path !== 'string' || typeof e.code !== 'string') return undefined;
  const option = TLS_FILE_OPTIONS.find((name) => options[name] === e.path);
  if (option === undefined) return undefined;
  return new ConfigurationError(`mongo(): cannot read the file named by option "${option}" (${e.code}); path not shown`, { field: option, expected: 'the path of a readable file', cause: err });
}

/**
 * A `connect()` that failed because an optional package the driver needs for the URI's options is
 * not installed — `authMechanism=MONGODB-AWS` without `@aws-sdk/credential-providers`: the driver's
 * `MongoAWSError` / `MongoMissingDependencyError` "Optional module `…` not found" — is a terminal
 * `ConfigurationError` (`CONNECTION_DRIVER_MISSING`) naming the package, not a retryable
 * `CONNECTION_UNAVAILABLE`: installing it is the only fix. Anything else: undefined.
 */
function missingOptionalModule(err: unknown): ConfigurationError | undefined {
  const e = err as { name?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== 'object' || (e.name !== 'MongoAWSError' && e.name !== 'MongoMissingDependencyError') || typeof e.message !== 'string') return undefined;
  const pkg = /Optional module [`'"](@?[\w./-]+)[`'"] not found/.exec(e.message)?.[1];
  if (pkg === undefined) return undefined;
  return new ConfigurationError(`mongo(): the MongoDB driver needs the optional "${pkg}" package for the URI's options (e.g. authMechanism=MONGODB-AWS); install it next to mongodb and keep it in your bundle`, {
    field: 'driver',
    expected: `the ${pkg} package installed`,
    code: CONNECTION_DRIVER_MISSING,
    cause: err,
  });
}

/**
 * Builds the client. The driver rejects some options in the constructor; that is a
 * configuration error, reported by class only (its message may quote the URI). It names option
 * `options` when the URI with the profile alone (`base`) is accepted — the driver's error does not
 * say which one it refused (`maxPoolSize: -5`, an unknown `maxPoolSizee`) — else `uri`.
 */
function newClient(Client: typeof MongoClient, uri: string, base: MongoClientOptions, options: MongoClientOptions | undefined): MongoClient {
  try {
    return new Client(uri, { ...base, ...options });
  } catch (err) {
    const kind = err instanceof Error ? err.name : typeof err;
    const field = options !== undefined && acceptsUri(Client, uri, base) ? 'options' : 'uri';
    const what = field === 'options' ? 'option "options"' : 'the URI or options';
    throw new ConfigurationError(`mongo(): the MongoDB driver rejected ${what} (${kind})`, { field, expected: `${field === 'options' ? 'options' : 'a URI and options'} the MongoDB driver accepts`, cause: err });
  }
}

/** Whether the driver accepts `uri` with `base` (no connection is made: the constructor only parses). */
function acceptsUri(Client: typeof MongoClient, uri: string, base: MongoClientOptions): boolean {
  try {
    new Client(uri, base);
    return true;
  } catch {
    return false;
  }
}

/**
 * The profile's options the URI does not set. The driver lets an options object override the
 * URI, so without this the profile would silently replace what the user wrote in the URI
 * (`?serverSelectionTimeoutMS=500`, `?maxPoolSize=20`). URI option names are case-insensitive.
 */
function profileUnlessInUri(profile: Partial<MongoClientOptions>, uri: string): Partial<MongoClientOptions> {
  const query = uri.indexOf('?');
  if (query < 0) return profile;
  const inUri = new Set([...new URLSearchParams(uri.slice(query + 1)).keys()].map((name) => name.toLowerCase()));
  return Object.fromEntries(Object.entries(profile).filter(([name]) => !inUri.has(name.toLowerCase())));
}

// Unknown keys are refused; `options` is the driver's and is not looked into.
const MONGO_KEYS = keysOf<MongoClientHandleOptions>({ ...HANDLE_KEYS, uri: true, db: true, options: true, provider: true });

/** Clients whose topology closed — by the handle, or by the function's own `client.close()`. */
const closedClients = new WeakSet<MongoClient>();

/**
 * Whether `close()` was called on the client, even not awaited: the driver (mongodb 7) marks
 * `s.hasBeenClosed` in the same tick and ends its sessions, while `topologyClosed` comes a round
 * trip later; an operation started in between fails with `MongoExpiredSessionError`, not a
 * connection error (test/review-mongo-closed.test.ts). A private field: a driver without it
 * leaves the `topologyClosed` check alone.
 */
function closingMongo(client: MongoClient): boolean {
  return (client as unknown as { s?: { hasBeenClosed?: unknown } }).s?.hasBeenClosed === true;
}

/**
 * The driver's error for an operation whose implicit session `close()` ended while the operation
 * was on its way (another invocation closed the client): raised where the command would be
 * written (`applySession` in the driver's connection, default message), so it was not sent and
 * may be sent again on a rebuilt client. An explicit session already ended before the operation
 * gives "Use of expired sessions is not permitted" instead, and stays the caller's error.
 */
function endedByClose(err: unknown): boolean {
  for (const e of errorChain(err)) if (errorName(e) === 'MongoExpiredSessionError' && e.message === 'Cannot use a session that has ended') return true;
  return false;
}

/**
 * Errors of the driver's own `close()` (mongodb 7) that the shared classifier does not know:
 * `MongoServerClosedError` ("Server is closed") is thrown where an operation that had selected a
 * server would check out a connection, found that server closed — nothing was written (unsent);
 * `MongoClientClosedError` ("Operation interrupted because client was closed") ends an operation
 * on a checked-out connection (`closeCheckedOutConnections`) — written, maybe applied.
 */
const CLOSED_UNSENT = 'MongoServerClosedError';
const CLOSED_INTERRUPTED = 'MongoClientClosedError';

function closedBeforeSend(err: unknown): boolean {
  if (endedByClose(err)) return true;
  for (const e of errorChain(err)) if (errorName(e) === CLOSED_UNSENT) return true;
  return false;
}

/** Connections each client has checked out of its pool: an operation holds one from before it is written until its answer. */
const checkedOut = new WeakMap<MongoClient, number>();

/** Keeps `checkedOut` for `client` from the pool's events (CMAP: emitted without `monitorCommands`). */
function countCheckedOut(client: MongoClient): void {
  checkedOut.set(client, 0);
  client.on('connectionCheckedOut', () => checkedOut.set(client, (checkedOut.get(client) ?? 0) + 1));
  client.on('connectionCheckedIn', () => checkedOut.set(client, Math.max(0, (checkedOut.get(client) ?? 0) - 1)));
}

/**
 * Server types a retryable write goes to (the driver's `supportsRetryableWrites`: not a
 * standalone). On such a deployment, with `retryWrites` on (the default), the driver sends a
 * write a second time after a network error, and what it throws then is the second attempt's
 * error (mongodb 7 `executeOperation`: a server selection that timed out, a pool cleared, a
 * refused connect, the client closed) — not the first attempt's, as the retryable-writes spec
 * asks. So no error of such a client proves a write unsent: the first attempt may have been
 * applied, its reply lost (test/review-mongo-retry-selection.test.ts).
 */
const RETRYING_SERVER_TYPES = new Set(['RSPrimary', 'Mongos', 'LoadBalancer']);

function interruptedByClose(err: unknown): boolean {
  for (const e of errorChain(err)) if (errorName(e) === CLOSED_INTERRUPTED) return true;
  return false;
}

/**
 * MongoDB's naming restrictions for a database (manual, "Naming Restrictions"): none of
 * `/ \ . " $`, a space or NUL (the characters the driver's `Db` refuses, and those the server
 * refuses on Unix), and fewer than 64 bytes. Checked by the factory: otherwise the name fails
 * later as a retryable connect or operation error that no retry can fix.
 */
function checkDatabaseName(db: string): void {
  const expected = databaseNameProblem(db);
  if (expected !== undefined) invalidOption('mongo', 'db', expected, db);
}

/** What a database name breaks of the restrictions above (as the `expected` of an error), or undefined. */
function databaseNameProblem(db: string): string | undefined {
  if (/[/\\. "$\u0000]/.test(db)) return 'a MongoDB database name: no / \\ . " $, space or NUL';
  if (Buffer.byteLength(db, 'utf8') >= 64) return 'a MongoDB database name of fewer than 64 bytes';
  return undefined;
}

/**
 * The same restrictions for the database the URI names (its path, as the driver parsed and
 * decoded it), when option `db` does not replace it; checked before the connect. Otherwise `/a.b`
 * made `client.db()` throw after the connect (a retryable `CONNECTION_UNAVAILABLE`, and the
 * connected client left open), and `/a$b` failed the first operation as a retryable `INTERNAL`.
 * The URI is not repeated (it may hold a password).
 * @throws ConfigurationError (`CONFIG_INVALID`, field `uri`).
 */
function checkUriDatabase(dbName: string, from: string): void {
  const expected = databaseNameProblem(dbName);
  if (expected === undefined) return;
  throw new ConfigurationError(`mongo(): the database named in ${from} (its path) must be ${expected}; got one that is not (value not shown). Fix the URI, or pass option "db"`, { field: 'uri', expected });
}

/**
 * A cached MongoDB client (the `mongodb` package must be installed; it is loaded when this is called).
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) for an invalid option; at first use (terminal, as the invocation's error) when
 *   there is no URI, the driver rejects the URI or options (field `options` when the URI alone is accepted, else `uri`), the URI names a database MongoDB cannot have, a `tlsCAFile` / `tlsCRLFile` / `tlsCertificateKeyFile` cannot be read (field: that option; the path is not shown), or `mongodb` or an optional package its options need (`@aws-sdk/credential-providers` for `authMechanism=MONGODB-AWS`) is missing (`CONNECTION_DRIVER_MISSING`) or cannot
 *   load (`CONNECTION_DRIVER_LOAD_FAILED`), or the server refuses the credentials (`CONNECTION_AUTH_FAILED`, field `uri` or `options.auth`).
 * @example
 * const store = mongo({ db: 'shop', options: { appName: 'orders' } });
 * const order = await store.read(({ db }) => db.collection('orders').findOne({ _id: 42 }));
 */
export function mongo(options?: MongoClientHandleOptions): MongoHandle {
  const o = factoryOptions('mongo', options, MONGO_KEYS);
  if (o.uri !== undefined) checkUrl('mongo', 'uri', 'option "uri"', o.uri, MONGO_SCHEMES);
  if (o.db !== undefined) checkDatabaseName(stringOption('mongo', 'db', o.db));
  const profile = profileFor(o.provider).mongo;
  const driver = loadMongodb();
  /** Whether a client of this handle met a server the driver retries writes on (see `RETRYING_SERVER_TYPES`). */
  let retriesWrites = false;
  return makeHandle<MongoConnection>(
    {
      ...handleOptions(o, 'mongo'),
      async create({ signal }) {
        const uri = o.uri ?? process.env.MONGODB_URI;
        if (uri === undefined) {
          throw new ConfigurationError('mongo(): no MongoDB URI: pass option "uri" or set MONGODB_URI', { field: 'uri', expected: 'a mongodb:// or mongodb+srv:// URL' });
        }
        checkUrl('mongo', 'uri', 'MONGODB_URI', uri, MONGO_SCHEMES);
        const { MongoClient } = await useDriver('mongo', 'mongodb', driver);
        const client = newClient(MongoClient, uri, profileUnlessInUri(profile, uri), o.options);
        if (o.db === undefined) checkUriDatabase(client.options.dbName, o.uri === undefined ? 'MONGODB_URI' : 'option "uri"');
        if (client.options.retryWrites !== false) {
          // Before connect(): the first descriptions come during it. A deployment's kind does not change, so this stays set.
          client.on('serverDescriptionChanged', (event) => {
            if (RETRYING_SERVER_TYPES.has(event.newDescription.type)) retriesWrites = true;
          });
        }
        // Closing a connecting client makes connect() fail at once: the deadline stops a server selection that would wait 5 s.
        const stop = (): void => void client.close().catch(() => undefined);
        signal.addEventListener('abort', stop, { once: true });
        let db: Db;
        try {
          await client.connect();
          db = client.db(o.db); // after checkUriDatabase / checkDatabaseName it does not throw; if it did, the client is closed
        } catch (err) {
          await client.close().catch(() => undefined);
          throw unreadableTlsFile(err, client.options) ?? missingOptionalModule(err) ?? mongoAuthRefused(o.options?.auth !== undefined ? 'options.auth' : 'uri', err) ?? err;
        } finally {
          signal.removeEventListener('abort', stop);
        }
        client.once('topologyClosed', () => closedClients.add(client));
        countCheckedOut(client);
        return { client, db };
      },
      ping: ({ client }) => client.db('admin').command({ ping: 1 }),
      // A closed (or closing) MongoClient is not reconnected by the driver (MongoNotConnectedError): rebuilt at once, no ping.
      isReady: ({ client }) => !closedClients.has(client) && !closingMongo(client),
      isConnectionError: (err) => isConnectionError(err) || closedBeforeSend(err) || interruptedByClose(err),
      // Where the driver retries writes, its error may be the retry's, after a first attempt that was applied.
      wasNotSent: (err) => !retriesWrites && (wasNotSent(err) || closedBeforeSend(err)),
      close: ({ client }) => client.close(),
      // current + available is the server's limit; servers that hide it give no reading.
      readBudget: async ({ client }) => {
        const status = (await client.db('admin').command({ serverStatus: 1 })) as ServerStatus;
        const current = status.connections?.current;
        const available = status.connections?.available;
        if (typeof current !== 'number' || typeof available !== 'number') return undefined;
        return { used: current, limit: current + available };
      },
    },
    'mongo',
    {
      // The function's own close() (awaited or not): the client's direct operations then fail with the driver's closed-client errors.
      closedByUser: ({ client }) => closedClients.has(client) || closingMongo(client),
      isDriverNetworkErr: (err, { client }) => driverNetworkError(err, client),
      // Per client, not per caller: another caller's slow operation makes the client suspect at a
      // cut-off too. Acceptable: the check is one ping on another pooled connection (the slow
      // operation's own stays checked out), so it neither waits for that operation nor rebuilds a
      // healthy client — a round trip at the next use. (Unlike one Redis connection, where a
      // ping queues behind everything in flight: see redis-queue.ts.) Only a pool with every
      // connection held past pingTimeoutMs fails the check, as any thaw check would then.
      inFlight: ({ client }) => (checkedOut.get(client) ?? 0) > 0,
      // After a pool clear the ping waits for the driver's monitor (at most twice minHeartbeatFrequencyMS) before it is
      // sent: that wait is not the server's, so a healthy client is revalidated, not rebuilt (a TLS + auth handshake).
      // Counted from the first ping that waited (the episode's): a check per short invocation must not restart it.
      pingGraceMs: ({ client }) => monitorWaitMs(client),
      // The monitor's timers stop with a frozen instance: a freeze between two checks must not use that wait up.
      pingGraceClock: 'waited',
    },
  );
}
