/**
 * A Redis URL with the right scheme that is not a URL at all (`redis://u:pw@host:notaport`, a
 * port out of range) is a configuration mistake like a wrong scheme: terminal `CONFIG_INVALID`
 * naming the option, never the value (it may hold a password). It was accepted and failed every
 * invocation with the retryable `CONNECTION_UNAVAILABLE`, so a queue redelivered each message
 * until its dead-letter queue.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { ConfigurationError, handler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { redis } from '../src/redis.js';

const SECRET = 'review-url-secret-pw';
// The last: a bare `%` in the password, which ioredis' decodeURIComponent threw on inside `new Redis(url)`.
const MALFORMED = [`redis://:${SECRET}%zz@127.0.0.1:16379`, `redis://u:${SECRET}@127.0.0.1:notaport`, `redis://u:${SECRET}@127.0.0.1:99999`, `rediss://u:${SECRET}@[::1`, `redis://u:${SECRET}@exa mple.com:6379`];

afterEach(async () => {
  await closeAll();
});

describe('redis(): a malformed URL', () => {
  it.each(MALFORMED)('option "url" %#: refused by the factory, the value not repeated', (url) => {
    let error: unknown;
    try {
      redis({ url });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', retryable: false, issues: [{ field: 'url' }] });
    expect(inspect(error, { depth: 10 })).not.toContain(SECRET);
  });

  it.each(MALFORMED)('REDIS_URL %#: the invocation fails with the terminal CONFIG_INVALID; no log holds the password', async (url) => {
    const saved = process.env.REDIS_URL;
    process.env.REDIS_URL = url;
    try {
      const lines: string[] = [];
      const main = handler({ use: [connections({ cache: redis() }, { closeOnSigterm: false })], logSink: (line) => void lines.push(line) }, () => 'unreachable');
      const error = await main.invoke({}).then(() => undefined, (e: unknown) => e);
      expect(error).toMatchObject({ code: 'CONFIG_INVALID', retryable: false });
      expect(inspect(error, { depth: 10 })).not.toContain(SECRET);
      expect(lines.join('\n')).not.toContain(SECRET);
    } finally {
      process.env.REDIS_URL = saved;
    }
  });

  it('a bare "%" in the user name or password: the error asks for %25', () => {
    for (const url of [`redis://:${SECRET}%zz@127.0.0.1:16379`, `rediss://u%:${SECRET}@cache.example:6380`]) {
      expect(() => redis({ url })).toThrow(/percent-encode `%` as `%25`/);
    }
  });

  it('well-formed URLs and a socket path are accepted', () => {
    for (const url of [`redis://u:${SECRET}@127.0.0.1:6379/2`, 'rediss://cache.example:6380', 'redis://[::1]:6379', '/tmp/redis.sock', `redis://:${encodeURIComponent('p@ss:/w')}@h`, `redis://:${encodeURIComponent('50%off')}@h`]) expect(() => redis({ url })).not.toThrow();
  });
});
