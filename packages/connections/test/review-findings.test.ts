/**
 * Review findings:
 *
 * - `mongo({ uri: '…?serverSelectionTimeoutMS=500' })`: the platform profile's 5 000 ms
 *   replaced what the URI said (the driver lets an options object override the URI), so a
 *   user's URI options were silently ignored. The URI now wins over the profile; `options`
 *   still win over both.
 * - `connections({ log: handle })` / `{ signal: handle }`: the key becomes a ctx member and
 *   replaced the handler's own; it is refused when the plugin is defined.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { mongo } from '../src/mongodb.js';
import { redis } from '../src/redis.js';

afterEach(closeAll);

const base = process.env.MONGODB_URI!.replace(/\/?$/, '/');

describe('mongo(): options written in the URI', () => {
  it('are kept over the platform profile (FerretDB)', async () => {
    const store = mongo({ uri: `${base}?serverSelectionTimeoutMS=1234&MAXPOOLSIZE=7`, provider: 'aws' });
    const { client } = await store.get();
    expect(client.options.serverSelectionTimeoutMS).toBe(1234);
    expect(client.options.maxPoolSize).toBe(7);
    // What the URI does not set still comes from the profile (aws: pool of 3 → here 7 from the URI; idle 60 s).
    expect(client.options.maxIdleTimeMS).toBe(60_000);
  });

  it('give way to `options`, which override both', async () => {
    const store = mongo({ uri: `${base}?serverSelectionTimeoutMS=1234`, options: { serverSelectionTimeoutMS: 2345 } });
    const { client } = await store.get();
    expect(client.options.serverSelectionTimeoutMS).toBe(2345);
  });

  it('a URI without options gets the profile', async () => {
    const store = mongo({ uri: base, provider: 'aws' });
    const { client } = await store.get();
    expect(client.options.serverSelectionTimeoutMS).toBe(5_000);
    expect(client.options.maxPoolSize).toBe(3);
  });
});

describe('connections(): handle keys are ctx members', () => {
  it.each(['log', 'signal', 'input', 'requestId'])('"%s" is refused when the plugin is defined', (key) => {
    try {
      connections({ [key]: redis() });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigurationError);
      expect(e).toMatchObject({ code: 'CONFIG_INVALID', field: `handles.${key}` });
    }
  });
});

/**
 * Review finding: a Redis connect that failed was logged as `"cause":"Error"` — the bare
 * "Connection is closed." ioredis rejects `connect()` with once its retries end — whether the
 * port was closed or the server refused the password. The reason ioredis emitted as an
 * 'error' event is the cause now, so the log says `ECONNREFUSED` or `ReplyError`.
 */
describe('redis(): why a connect failed', () => {
  it('a closed port: the cause carries ECONNREFUSED, and the invocation log says so', async () => {
    const { handler } = await import('@steadyfn/handler');
    const lines: Array<Record<string, unknown>> = [];
    const cache = redis({ url: 'redis://127.0.0.1:1', name: 'closed' });
    const main = handler({ use: [connections({ cache })], logSink: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) }, () => 'unreachable');
    await expect(main.invoke({})).rejects.toMatchObject({ code: 'CONNECTION_UNAVAILABLE' });
    expect(lines.find((l) => l.msg === 'invocation failed')).toMatchObject({ code: 'CONNECTION_UNAVAILABLE', causeCode: 'ECONNREFUSED' });
  });

  it('a password the server refuses (no such user on the shared Redis): terminal CONNECTION_AUTH_FAILED (test/review-auth-refused.test.ts), the cause is the ReplyError, the password in no log', async () => {
    const { handler } = await import('@steadyfn/handler');
    const lines: string[] = [];
    const url = new URL(process.env.REDIS_URL!);
    url.username = 'review-nobody';
    url.password = 'review-secret-pw';
    const cache = redis({ url: url.toString(), name: 'authed' });
    const main = handler({ use: [connections({ cache })], logSink: (line) => void lines.push(line) }, () => 'unreachable');
    await expect(main.invoke({})).rejects.toMatchObject({ code: 'CONNECTION_AUTH_FAILED', retryable: false });
    const failed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'invocation failed');
    expect(failed).toMatchObject({ code: 'CONNECTION_AUTH_FAILED', field: 'url', refused: 'WRONGPASS', cause: 'ReplyError' });
    expect(lines.join('\n')).not.toContain('review-secret-pw');
  });
});
