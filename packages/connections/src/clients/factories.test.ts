/**
 * The typed factories check their options when they are called (in module scope: at cold
 * start), and what they can only read at first use (environment variables) then, as a
 * terminal ConfigurationError — never as a retryable connection error.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '@steadyfn/handler';
import { closeAll } from '../registry.js';
import { mongo } from './mongo.js';
import { redis } from './redis.js';
import { redisCluster } from './redis-cluster.js';
import { s3 } from './s3.js';
import { sqs } from './sqs.js';

function configError(fn: () => unknown): ConfigurationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigurationError);
    return err as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

const env = { ...process.env };
afterEach(async () => {
  process.env = { ...env };
  await closeAll();
});

describe('factory options', () => {
  it.each([
    ['redis', () => redis({ url: 'http://:s3cret@cache:6379' }), 'url'],
    ['redis', () => redis({ pingTimeoutMs: -5 }), 'pingTimeoutMs'],
    ['redis', () => redis({ provider: 'heroku' as never }), 'provider'],
    ['redis', () => redis('redis://x' as never), 'options'],
    ['redisCluster', () => redisCluster({ nodes: [] }), 'nodes'],
    ['mongo', () => mongo({ uri: 'postgres://u:s3cret@db/x' }), 'uri'],
    ['mongo', () => mongo({ db: '' }), 'db'],
    ['mongo', () => mongo({ options: 3 as never }), 'options'],
    ['s3', () => s3({ closeTimeoutMs: 0 }), 'closeTimeoutMs'],
    ['sqs', () => sqs({ name: 42 as never }), 'name'],
  ])('%s: a bad %s is a ConfigurationError naming the factory and the option, without the value', (owner, make, field) => {
    const err = configError(make);
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', field, retryable: false });
    expect(err.message.startsWith(`${owner}(): `)).toBe(true);
    expect(err.message).not.toContain('s3cret');
  });
});

describe('environment read at first use', () => {
  it('mongo() with no uri and no MONGODB_URI: a terminal ConfigurationError when first used', async () => {
    delete process.env.MONGODB_URI;
    const store = mongo({ name: 'no-uri' });
    await expect(store.get()).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'uri', retryable: false, message: 'mongo(): no MongoDB URI: pass option "uri" or set MONGODB_URI' });
  });

  it('redis() with no url, no REDIS_URL and no address in options: a terminal ConfigurationError when first used', async () => {
    const kept = process.env.REDIS_URL;
    delete process.env.REDIS_URL;
    await expect(redis({ name: 'no-url' }).get()).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      field: 'url',
      retryable: false,
      message: 'redis(): no Redis address: pass option "url", set REDIS_URL, or give options.host/port/path',
    });
    // An address in the ioredis options is enough: this one connects (to the test's server).
    const { hostname, port } = new URL(kept ?? 'redis://127.0.0.1:16379');
    const byHost = redis({ name: 'by-host', options: { host: hostname, port: Number(port) } });
    expect(await (await byHost.get()).ping()).toBe('PONG');
  });

  it('a REDIS_URL with another scheme: terminal, and the value is not repeated', async () => {
    process.env.REDIS_URL = 'memcached://:s3cret@cache';
    const cache = redis({ name: 'bad-env' });
    const err = (await cache.get().catch((e: unknown) => e)) as ConfigurationError;
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', field: 'url', retryable: false });
    expect(err.message).toContain('REDIS_URL must be');
    expect(err.message).not.toContain('s3cret');
  });

  it('redisCluster() with no nodes and no REDIS_CLUSTER_NODES: terminal at first use', async () => {
    delete process.env.REDIS_CLUSTER_NODES;
    await expect(redisCluster({ name: 'no-nodes' }).get()).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'nodes', retryable: false });
  });
});
