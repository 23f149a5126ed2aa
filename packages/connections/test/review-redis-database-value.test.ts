/**
 * Review: a Redis database that is not a number — a URL path `/config` or `/%20`, a query
 * `?db=x`, `options: { db: 'x' }` — made ioredis send `SELECT NaN` during its handshake, and its
 * refusal escaped as an unhandled rejection on every connect, besides the typed error: under
 * Node's default `--unhandled-rejections=throw` that ends the function's process (seen as
 * "SimpleError [ReplyError]: ERR value is not an integer or out of range … Node.js v22"). A
 * database must be a whole number ≥ 0: refused when the factory is called (an option) or at
 * first use (`REDIS_URL`), with `CONFIG_INVALID` naming the field, before any connect. Against
 * the shared Redis.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '@steadyfn/handler';
import { closeAll } from '../src/index.js';
import { redis } from '../src/redis.js';
import { requireService } from '../../../test/services/env.js';

const base = (): string => process.env.REDIS_URL!.replace(/\/+$/, '');
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
const savedUrl = process.env.REDIS_URL;

beforeAll(async () => {
  await requireService('redis');
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  process.env.REDIS_URL = savedUrl;
  await closeAll();
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});

function configError(make: () => unknown): ConfigurationError {
  let thrown: unknown;
  try {
    make();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigurationError);
  return thrown as ConfigurationError;
}

describe('a Redis database that is not a whole number ≥ 0', () => {
  it.each(['/config', '/%20', '?db=x', '/1.5', '/-1'])('url %s: CONFIG_INVALID naming "url" when redis() is called', (suffix) => {
    const error = configError(() => redis({ url: `${base()}${suffix}` }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.field).toBe('url');
  });

  it.each(['x', -1, 1.5, Number.NaN])('options.db %s: CONFIG_INVALID naming "options.db" when redis() is called', (db) => {
    const error = configError(() => redis({ url: base(), options: { db: db as number } }));
    expect(error.field).toBe('options.db');
  });

  it('REDIS_URL with ?db=x: the first use fails with CONFIG_INVALID, and nothing rejects unhandled', async () => {
    process.env.REDIS_URL = `${base()}?db=x`;
    const handle = redis();
    for (let i = 0; i < 2; i++) {
      const error = await handle.read((r) => r.ping()).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).field).toBe('url');
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(unhandled.map((e) => (e as Error)?.message)).toEqual([]);
  });

  it('a database given as a number string in the URL still connects: /1', async () => {
    const handle = redis({ url: `${base()}/1` });
    expect(await handle.read((r) => r.ping())).toBe('PONG');
  });
});
