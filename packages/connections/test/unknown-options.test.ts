/**
 * An option key a factory does not know — a typo, or the name before the `…Ms` convention
 * (`pingTimeout` for `pingTimeoutMs`) — would be ignored and leave the default in force without
 * a word: every factory of this package refuses it, with its dotted path (`budget.backoff`).
 * The driver's own options (`options` for ioredis and mongodb, `config` for the AWS SDK) are
 * the driver's: they are not looked into. Every documented option (read from the options types
 * with the TypeScript checker) is accepted.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@steadyfn/handler/internal';
import { closeOnSigterm, connections, defineClient, forget, type ClientHandle } from '../src/index.js';
import { redis, redisCluster } from '../src/redis.js';
import { mongo } from '../src/mongodb.js';
import { s3 } from '../src/s3.js';
import { sqs } from '../src/sqs.js';
import { expectOptionRefused } from '../../../test/support/config-errors.js';
import { documentedOptionKeys, loadOptionTypes } from '../../../test/support/option-types.js';

const src = (path: string): string => fileURLToPath(new URL(`../src/${path}`, import.meta.url));
const made: Array<ClientHandle<unknown>> = [];
const keep = <T>(handle: ClientHandle<T>): ClientHandle<T> => {
  made.push(handle as ClientHandle<unknown>);
  return handle;
};
// Nothing here connects: the factories only check their options. Forgotten so closeAll() never sees them.
afterAll(() => made.forEach((h) => forget(h)));

const handle = {
  idleThresholdMs: 0,
  pingTimeoutMs: 100,
  connectTimeoutMs: 100,
  closeTimeoutMs: 100,
  budget: { warnRatio: 0.5, shedRatio: 0.9, backoffMs: 10 },
  now: Date.now,
  logger: createLogger(),
};

/** Each factory: every documented option with a valid value (driver options with keys of the driver's own), and a misspelt key. */
const factories: Array<{ name: string; make: (options: never) => ClientHandle<unknown>; all: Record<string, unknown>; type: [file: string, name: string]; typo: string }> = [
  {
    name: 'redis',
    make: redis as never,
    all: { ...handle, name: 'r', url: 'redis://127.0.0.1:1', options: { enableAutoPipelining: true, keyPrefix: 'x:' }, provider: 'aws' },
    type: ['clients/redis.ts', 'RedisClientOptions'],
    typo: 'uri',
  },
  {
    name: 'redisCluster',
    make: redisCluster as never,
    all: { ...handle, name: 'rc', nodes: [{ host: '127.0.0.1', port: 1 }], options: { scaleReads: 'slave', redisOptions: { keyPrefix: 'x:' } }, provider: 'gcp' },
    type: ['clients/redis-cluster.ts', 'RedisClusterClientOptions'],
    typo: 'node',
  },
  {
    name: 'mongo',
    make: mongo as never,
    all: { ...handle, name: 'm', uri: 'mongodb://127.0.0.1:1/x', db: 'x', options: { maxPoolSize: 2, appName: 'a' }, provider: 'azure' },
    type: ['clients/mongo.ts', 'MongoClientHandleOptions'],
    typo: 'database',
  },
  { name: 's3', make: s3 as never, all: { ...handle, name: 's', config: { region: 'us-east-1', forcePathStyle: true } }, type: ['clients/s3.ts', 'S3HandleOptions'], typo: 'region' },
  { name: 'sqs', make: sqs as never, all: { ...handle, name: 'q', config: { region: 'us-east-1', useQueueUrlAsEndpoint: true } }, type: ['clients/sqs.ts', 'SqsHandleOptions'], typo: 'queueUrl' },
  {
    name: 'defineClient',
    make: defineClient as never,
    all: {
      ...handle,
      name: 'c',
      create: () => ({}),
      ping: async () => undefined,
      isReady: () => true,
      close: () => undefined,
      isConnectionError: () => false,
      wasNotSent: () => false,
      readBudget: async () => undefined,
    },
    type: ['spec.ts', 'ClientSpec'],
    typo: 'connect',
  },
];

describe('connections factories: unknown option keys', () => {
  // The options types are read with the TypeScript checker: seconds of work (more on a loaded machine), done once here.
  beforeAll(() => loadOptionTypes([...factories.map((f) => src(f.type[0])), src('plugin.ts'), src('shutdown.ts')]), 120_000);

  it.each(factories)('$name() refuses a misspelt key, a pre-Ms name and a stray budget key; accepts every documented option', ({ name, make, all, type, typo }) => {
    expect(Object.keys(all).sort()).toEqual(documentedOptionKeys(src(type[0]), type[1]));
    expect(() => keep(make({ ...all, unknownButUndefined: undefined } as never))).not.toThrow();
    expectOptionRefused(() => make({ ...all, [typo]: 1 } as never), name, typo, ['the options are ', 'idleThresholdMs']);
    expectOptionRefused(() => make({ ...all, pingTimeout: 100 } as never), name, 'pingTimeout', ['"pingTimeoutMs"']);
    expectOptionRefused(() => make({ ...all, budget: { backoff: 10 } } as never), name, 'budget.backoff', ['"backoffMs"', 'warnRatio, shedRatio, backoffMs']);
  });

  it('connections() refuses a misspelt key and accepts every documented option', () => {
    const handles = { cache: keep(defineClient({ name: 'plugin-test', create: () => ({}) })) };
    expect(documentedOptionKeys(src('plugin.ts'), 'ConnectionsPluginOptions')).toEqual(['closeOnSigterm', 'log', 'logReused']);
    expect(() => connections(handles, { log: 'debug', logReused: true, closeOnSigterm: false })).not.toThrow();
    expectOptionRefused(() => connections(handles, { logreused: true } as never), 'connections', 'logreused', ['log, logReused, closeOnSigterm']);
  });

  it('closeOnSigterm() refuses a pre-Ms name and accepts timeoutMs', () => {
    expect(documentedOptionKeys(src('shutdown.ts'), 'SigtermOptions')).toEqual(['timeoutMs']);
    expectOptionRefused(() => closeOnSigterm({ timeout: 300 } as never), 'closeOnSigterm', 'timeout', ['"timeoutMs"']);
    const uninstall = closeOnSigterm({ timeoutMs: 300 });
    uninstall();
  });
});
