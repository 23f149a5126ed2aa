/**
 * Test support for @steadyfn/state: real clients for the local services, and counters of the
 * calls each store really received (Redis MONITOR, MongoDB command monitoring, an S3 SDK
 * middleware), plus a TCP proxy that can be cut to take a store "down" for real.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { createLogger, type Logger } from '@steadyfn/handler';
import { Redis } from 'ioredis';
import { MongoClient, type CommandStartedEvent, type Db } from 'mongodb';
import { z } from 'zod';
import { afterAll, beforeAll, expect } from 'vitest';
import { requireService } from '../../../test/services/env.js';
import { startRedis, type OwnServer } from '../../../test/support/servers.js';
import { StateError, custom } from '../src/index.js';

/** Unique per test run, so concurrent runs never share keys, collections or buckets. */
export const runId = `st${process.pid.toString(36)}${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
let counter = 0;
export function unique(name: string): string {
  return `${runId}-${name}-${++counter}`;
}

export const TEST_DB = 'steadyfn_state_test';

// ---------------------------------------------------------------- Redis

/** A file's own redis-server (never the shared one) and two clients to it; see `ownRedis`. */
export interface OwnRedisRig {
  server: OwnServer & { url: string };
  /** Seeds keys, as a deploy script would. */
  writer: Redis;
  /** The client the state sources read with. */
  reader: Redis;
}

/**
 * A redis-server of this test file on a free port, which its tests may kill and start again,
 * with a writer and a reader client (one retry per command, reconnect errors expected while it
 * is down). Registers `beforeAll` / `afterAll`; read the rig's fields inside tests.
 */
export function ownRedis(): OwnRedisRig {
  const rig = {} as OwnRedisRig;
  beforeAll(async () => {
    rig.server = await startRedis();
    rig.writer = new Redis(rig.server.url, { maxRetriesPerRequest: 1 });
    rig.reader = new Redis(rig.server.url, { maxRetriesPerRequest: 1 });
    // Reconnect attempts while the server is down are expected.
    rig.writer.on('error', () => undefined);
    rig.reader.on('error', () => undefined);
  });
  afterAll(async () => {
    rig.writer?.disconnect();
    rig.reader?.disconnect();
    await rig.server?.dispose();
  });
  return rig;
}

export interface RedisOptions {
  host?: string;
  port?: number;
  /** Fail commands at once when the connection is down (used with the proxy). */
  failFast?: boolean;
}

export async function redisClient(options: RedisOptions = {}): Promise<Redis> {
  const url = new URL(process.env.REDIS_URL!);
  const client = new Redis({
    host: options.host ?? url.hostname,
    port: options.port ?? Number(url.port),
    lazyConnect: true,
    maxRetriesPerRequest: options.failFast ? 0 : 2,
    enableOfflineQueue: !options.failFast,
    retryStrategy: (times) => (times > 50 ? null : 50),
  });
  await client.connect();
  return client;
}

/**
 * Every command `client` sends, as Redis itself saw it (MONITOR, filtered to that client's
 * connection). `take()` returns the commands since the last `take()`.
 */
export interface RedisCommandLog {
  take(): Promise<string[][]>;
  stop(): Promise<void>;
}

/**
 * One MONITOR line's arguments: `1700000000.123 [0 127.0.0.1:5000] "get" "k\"ey"` → the
 * source (`127.0.0.1:5000`) and the unescaped arguments (Redis quotes each one, escaping `\\`,
 * `\"`, `\n`, `\r`, `\t`, `\a`, `\b` and other bytes as `\xNN`).
 */
function parseMonitorLine(line: string): { source: string; args: string[] } | undefined {
  const open = line.indexOf('[');
  const close = line.indexOf(']', open);
  if (open < 0 || close < 0) return undefined;
  const source = line.slice(open + 1, close).split(' ')[1] ?? '';
  const args: string[] = [];
  const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', '"': '"', '\\': '\\' };
  let i = close + 1;
  while (i < line.length) {
    if (line[i] !== '"') {
      i++;
      continue;
    }
    // Bytes, then UTF-8: a non-ASCII key arrives as `\xNN` escapes of its UTF-8 bytes.
    const bytes: number[] = [];
    for (i++; i < line.length && line[i] !== '"'; i++) {
      if (line[i] !== '\\') bytes.push(line.charCodeAt(i));
      else if (line[i + 1] === 'x') {
        bytes.push(parseInt(line.slice(i + 2, i + 4), 16));
        i += 3;
      } else bytes.push((escapes[line[++i]!] ?? line[i]!).charCodeAt(0));
    }
    args.push(Buffer.from(bytes).toString('utf8'));
    i++;
  }
  return { source, args };
}

/**
 * MONITOR on a raw socket of its own. ioredis's `monitor()` sets its "monitoring" state one
 * microtask after MONITOR's `+OK`, so a feed line that arrives in the same read (any other
 * client busy on the shared Redis) is taken for a command reply: "Command queue state
 * error", and the test file dies. A bare socket has no command queue to confuse.
 */
async function rawMonitor(host: string, port: number, onLine: (line: string) => void): Promise<Socket> {
  const socket = createConnection({ host, port });
  await once(socket, 'connect');
  socket.setEncoding('latin1');
  let buffered = '';
  let started = false;
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\r\n'); end >= 0; end = buffered.indexOf('\r\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (!started) {
          if (line !== '+OK') return reject(new Error(`MONITOR refused: ${line}`));
          started = true;
          resolve();
        } else if (line.startsWith('+')) onLine(line.slice(1));
      }
    });
    socket.write('MONITOR\r\n');
  });
  // A socket error after the start must not crash the test file: the marker wait reports it.
  socket.on('error', () => undefined);
  return socket;
}

export async function watchRedis(client: Redis): Promise<RedisCommandLog> {
  const info = String(await client.call('CLIENT', 'INFO'));
  const addr = /(?:^| )addr=(\S+)/.exec(info)?.[1];
  if (!addr) throw new Error('CLIENT INFO gave no addr');
  let seen: string[][] = [];
  const waiters = new Map<string, () => void>();
  // The same server as `client` (as ioredis's `monitor()` duplicated its options); the test Redis has no password.
  const monitor = await rawMonitor(client.options.host ?? '127.0.0.1', client.options.port ?? 6379, (line) => {
    const parsed = parseMonitorLine(line);
    if (!parsed || parsed.source !== addr) return;
    const { args } = parsed;
    const [name, marker] = args;
    if (name?.toLowerCase() === 'echo' && marker && waiters.has(marker)) {
      waiters.get(marker)!();
      waiters.delete(marker);
      return;
    }
    seen.push(args);
  });
  return {
    async take() {
      // MONITOR's feed is ordered after the client's own commands: once our marker shows up,
      // everything sent before it has been seen.
      const marker = `marker-${randomBytes(6).toString('hex')}`;
      const arrived = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('MONITOR marker did not arrive')), 5_000);
        waiters.set(marker, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      await client.echo(marker);
      await arrived;
      const out = seen;
      seen = [];
      return out;
    },
    async stop() {
      monitor.destroy();
    },
  };
}

// ---------------------------------------------------------------- MongoDB

export interface MongoCommandLog {
  client: MongoClient;
  /** Commands started since the last `take()` against these collections (all when none given). */
  take(collections?: string[]): Array<{ name: string; collection: unknown }>;
}

const MONGO_HOUSEKEEPING = new Set(['hello', 'ismaster', 'isMaster', 'ping', 'saslStart', 'saslContinue', 'endSessions', 'buildInfo', 'getParameter', 'killCursors']);

export async function mongoClient(uri = process.env.MONGODB_URI!, extra: Record<string, unknown> = {}): Promise<MongoCommandLog> {
  const client = new MongoClient(uri, { monitorCommands: true, serverSelectionTimeoutMS: 3_000, ...extra });
  let seen: CommandStartedEvent[] = [];
  client.on('commandStarted', (event) => {
    if (!MONGO_HOUSEKEEPING.has(event.commandName)) seen.push(event);
  });
  await client.connect();
  return {
    client,
    take(collections) {
      const out = seen
        .map((e) => ({ name: e.commandName, collection: e.command[e.commandName] as unknown }))
        .filter((c) => !collections || collections.includes(String(c.collection)));
      seen = [];
      return out;
    },
  };
}

/** What `ownMongo` set up; read `mongo` and `db` inside tests (set once `beforeAll` ran). */
export interface OwnMongoRig {
  /** A counted client to the shared MongoDB (FerretDB). */
  mongo: MongoCommandLog;
  /** `TEST_DB` on that client. */
  db: Db;
  /** Marks a collection to drop after the file's tests (marking one again is fine); returns its name. */
  dropAfter(name: string): string;
  /** Inserts copies of `docs` into the collection `name` (a new one by default), marked to drop; returns its name. */
  insert(docs: ReadonlyArray<object>, name?: string): Promise<string>;
}

/**
 * A counted client to the shared MongoDB for the test file; registers `beforeAll` (which also
 * requires the service) and `afterAll` (which drops the collections given to `dropAfter` and
 * closes the client).
 */
export function ownMongo(): OwnMongoRig {
  const names = new Set<string>();
  const rig = {
    dropAfter: (name: string) => (names.add(name), name),
    async insert(docs, name = unique('events')) {
      await rig.db.collection(rig.dropAfter(name)).insertMany(docs.map((d) => ({ ...d })));
      return name;
    },
  } as OwnMongoRig;
  beforeAll(async () => {
    await requireService('mongodb');
    rig.mongo = await mongoClient();
    rig.db = rig.mongo.client.db(TEST_DB);
  });
  afterAll(async () => {
    for (const name of names) await rig.db?.collection(name).drop().catch(() => undefined);
    await rig.mongo?.client.close();
  });
  return rig;
}

// ---------------------------------------------------------------- S3

export interface S3RequestLog {
  client: S3Client;
  /** HTTP requests (per attempt) since the last `take()`: command name and status. */
  take(): Array<{ command: string; status: number | undefined }>;
}

export function s3Client(endpoint = process.env.S3_ENDPOINT!, extra: Record<string, unknown> = {}): S3RequestLog {
  const client = new S3Client({
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test' },
    ...extra,
  });
  let seen: Array<{ command: string; status: number | undefined }> = [];
  // The deserialize step runs once per HTTP attempt (inside the retry middleware).
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const record: { command: string; status: number | undefined } = { command: String(context.commandName), status: undefined };
      seen.push(record);
      try {
        const result = await next(args);
        record.status = (result.response as { statusCode?: number }).statusCode;
        return result;
      } catch (error) {
        record.status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        throw error;
      }
    },
    { step: 'deserialize', name: 'steadyfnTestRequestCounter', priority: 'high' },
  );
  return {
    client,
    take() {
      const out = seen;
      seen = [];
      return out;
    },
  };
}

export async function createBucket(client: S3Client, bucket: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}

export async function dropBucket(client: S3Client, bucket: string): Promise<void> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  for (const object of listed.Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key! }));
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/** What `ownBucket` set up; read `s3` and `redis` inside tests (set once `beforeAll` ran). */
export interface OwnBucketRig {
  s3: S3RequestLog;
  /** The bucket, created on the shared S3 before the file's tests and dropped after them. */
  bucket: string;
  /** With `redis: true`: a client to the shared Redis. */
  redis: Redis;
  /** Keys a test wrote on the shared Redis: deleted after the file's tests. */
  redisKeys: string[];
}

/**
 * A bucket of the test file's own on the shared S3 (`unique(name)`), and with `redis: true`
 * a client to the shared Redis; registers `beforeAll` (which also requires the services) and
 * `afterAll` (which drops the bucket and the listed keys).
 */
export function ownBucket(name: string, options: { redis?: boolean } = {}): OwnBucketRig {
  const rig = { bucket: unique(name).toLowerCase(), redisKeys: [] as string[] } as OwnBucketRig;
  beforeAll(async () => {
    await Promise.all([requireService('s3'), ...(options.redis ? [requireService('redis')] : [])]);
    rig.s3 = s3Client();
    await createBucket(rig.s3.client, rig.bucket);
    if (options.redis) rig.redis = await redisClient();
  });
  afterAll(async () => {
    if (rig.s3) await dropBucket(rig.s3.client, rig.bucket).catch(() => undefined);
    if (rig.redisKeys.length) await rig.redis?.del(...rig.redisKeys);
    rig.redis?.disconnect();
  });
  return rig;
}

/** The `StateError` `promise` rejects with; the test fails when it resolves or rejects with anything else. */
export async function stateErrorOf(promise: Promise<unknown>): Promise<StateError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StateError);
  return error as StateError;
}

/** A clock for the staleness contract that tests move by hand. */
export function manualClock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    advance(ms) {
      t += ms;
    },
  };
}

/** A logger that keeps its lines (at every level, whatever STEADYFN_LOG_LEVEL says). */
export function logLines(): { logger: Logger; entries(): Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const logger = createLogger({}, (line) => void lines.push(line), 'debug');
  return { logger, entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** Redis, MongoDB and S3 clients whose calls are counted, for tests that use all three. */
export interface WatchedStores {
  redis: Redis;
  redisLog: RedisCommandLog;
  mongo: MongoCommandLog;
  db: Db;
  s3: S3RequestLog;
}

/** Checks the three services are up, opens counted clients, and creates `bucket`. */
export async function openWatchedStores(bucket: string): Promise<WatchedStores> {
  await Promise.all([requireService('redis'), requireService('mongodb'), requireService('s3')]);
  const redis = await redisClient();
  const redisLog = await watchRedis(redis);
  const mongo = await mongoClient();
  const s3 = s3Client();
  await createBucket(s3.client, bucket);
  return { redis, redisLog, mongo, db: mongo.client.db(TEST_DB), s3 };
}

// ---------------------------------------------------------------- shared fixtures of the review tests

/**
 * A Redis user of the caller's own whose ACL leaves out `@scripting` (EVAL answers NOPERM), and
 * a client logged in as it. `remove()` deletes the user (call it in afterAll).
 */
export async function noScriptingUser(admin: Redis, name: string): Promise<{ client: Redis; remove(): Promise<void> }> {
  const user = unique(name).replace(/[^A-Za-z0-9_-]/g, '_');
  const password = `pw-${user}`;
  await admin.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all', '-@scripting');
  const url = new URL(process.env.REDIS_URL!);
  const client = new Redis({ host: url.hostname, port: Number(url.port), username: user, password, lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return {
    client,
    async remove() {
      await client.quit().catch(() => undefined);
      await admin.call('ACL', 'DELUSER', user).catch(() => undefined);
    },
  };
}

/** A `custom` source whose reloads wait until `release()` (or their abort), counting the loads. */
export function gatedSource() {
  let gate: { promise: Promise<void>; open: () => void } | undefined;
  let version = 1;
  let started = 0;
  let wake: (() => void) | undefined;
  const source = custom({
    load: async (signal) => {
      started++;
      wake?.();
      if (gate) {
        await new Promise<void>((resolve, reject) => {
          gate!.promise.then(resolve, reject);
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      }
      return { version };
    },
  });
  return {
    source,
    /** Makes the next loads wait. */
    close() {
      let open!: () => void;
      gate = { promise: new Promise<void>((resolve) => (open = resolve)), open };
    },
    /** Lets waiting loads finish, returning `next` as the version. */
    release(next: number) {
      version = next;
      gate?.open();
      gate = undefined;
    },
    /** Resolves once `n` loads have started. */
    started(n: number): Promise<void> {
      if (started >= n) return Promise.resolve();
      return new Promise<void>((resolve) => {
        wake = () => {
          if (started >= n) resolve();
        };
      });
    },
  };
}

/**
 * A schema of the state `{ n: number }` whose async `refine` holds each value `holds` picks (every
 * value by default) until `release()`: a round held in its schema, which an abort cannot stop.
 * `inSchema` resolves when a held value reaches the refine, `outOfSchema` once it has passed it.
 */
export function gatedSchema(holds: (n: number) => boolean = () => true) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const inSchema = new Promise<void>((resolve) => (entered = resolve));
  let left!: () => void;
  const outOfSchema = new Promise<void>((resolve) => (left = resolve));
  const schema = z.object({
    n: z.number().refine(async (n) => {
      if (holds(n)) {
        entered();
        await gate;
        left();
      }
      return true;
    }),
  });
  return { schema, release, inSchema, outOfSchema };
}
